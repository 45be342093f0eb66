"""README's main command, scripts/run-hub.sh --once, as a user runs it: the guide's hub
(config/hub-and-spoke-hub.yaml), a flexhub spoke (config/hub-and-spoke-spoke.yaml) and a strongSwan
road warrior on one bridge. Checked from what it prints: both peers have a Virtual-Access on the
hub, the pushed and announced routes are there on both sides, the road warrior has a virtual IP from
FlexPool, both pings reach the hub's LAN without loss, exit 0 and nothing left behind.
The script uses FLEXHUB_BUILD's binaries (as the other tests do) and its own namespace tag."""
import os
import re
import uuid

import pytest

from fh import BUILD, ROOT, can_use_netns, run
from strongswan import missing

pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns())),
              pytest.mark.skipif(missing() is not None, reason=str(missing()))]


def sections(out):
    """{heading: text} for the script's '======== heading' blocks."""
    parts = re.split(r"(?m)^======== (.*)$", out)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def find(secs, prefix):
    got = [v for k, v in secs.items() if k.startswith(prefix)]
    assert got, f"no section '{prefix}...' in {list(secs)}"
    return got[0]


@pytest.fixture(scope="module")
def once():
    tag = uuid.uuid4().hex[:4]
    env = dict(os.environ, FLEXHUB_BUILD=str(BUILD), FLEXHUB_RUN_HUB_TAG=tag)
    r = run(["bash", str(ROOT / "scripts/run-hub.sh"), "--once"], check=False, env=env, timeout=300)
    return tag, r


def test_exits_zero_and_cleans_up(once):
    tag, r = once
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "run-hub: OK" in r.stdout, r.stdout[-2000:]
    left = [l for l in run(["ip", "netns", "list"]).stdout.splitlines() if l.startswith(f"fh{tag}-")]
    assert not left, left
    assert not os.path.exists(f"/tmp/flexhub-run-hub-{tag}")


def test_virtual_access_per_peer(once):
    tag, r = once
    secs = sections(r.stdout)
    brief = find(secs, "hub: FlexVPN_HUB# show ip interface brief")
    for va in ("Virtual-Access1", "Virtual-Access2"):
        assert re.search(rf"(?m)^{va}\s+10\.1\.1\.1\s+YES\s+\S+\s+up\s+up\s*$", brief), brief
    sess = find(secs, "hub: FlexVPN_HUB# show crypto session")
    assert sess.count("Session status: UP-ACTIVE") == 2, sess
    assert "Peer: 192.168.0.20 " in sess and "Peer: 192.168.0.101 " in sess, sess
    ike = find(secs, "hub: FlexVPN_HUB# show crypto ikev2 sa")
    assert ike.count("READY") == 2, ike
    pool = find(secs, "hub: FlexVPN_HUB# show ip local pool FlexPool")
    assert "2 in use" in pool and re.search(r"10\.1\.1\.\d+\s+192\.168\.0\.20\b", pool) and \
        re.search(r"10\.1\.1\.\d+\s+192\.168\.0\.101\b", pool), pool


def test_routes_pushed_and_announced(once):
    tag, r = once
    secs = sections(r.stdout)
    hub = find(secs, "hub: FlexVPN_HUB# show ip route")
    assert re.search(r"10\.20\.2\.0/24 is directly connected, Virtual-Access1", hub), hub
    assert re.search(r"10\.1\.1\.\d+/32 is directly connected, Virtual-Access1", hub), hub
    assert re.search(r"10\.1\.1\.\d+/32 is directly connected, Virtual-Access2", hub), hub
    spoke = find(secs, "spoke: FlexVPN_Spoke# show ip route")
    assert re.search(r"10\.10\.1\.0/24 is directly connected, Tunnel0", spoke), spoke   # route set access-list
    assert re.search(r"10\.1\.1\.1/32 is directly connected, Tunnel0", spoke), spoke    # route set interface
    rw = find(secs, "road warrior")
    assert re.search(r"local\s+'192\.168\.0\.101' @ 192\.168\.0\.101\[4500\] \[10\.1\.1\.\d+\]", rw), rw
    assert "INSTALLED" in rw and re.search(r"remote 10\.1\.1\.1/32 10\.10\.1\.0/24", rw), rw


def test_both_pings_without_loss(once):
    tag, r = once
    secs = sections(r.stdout)
    for prefix in ("ping: spoke LAN 10.20.2.2 -> hub LAN 10.10.1.20", "ping: road warrior"):
        p = find(secs, prefix)
        assert re.search(r"\b5 received, 0% packet loss", p), p
