"""The reload bug (a reload that drops a tunnel shifted every later config index, and the IKE SA
being deleted for it republished the other tunnels' pairs under the old indexes): two IKEv2
tunnels between RouterA and RouterB (the guide's Tunnel0 between the Gi1 addresses, and Tunnel1
between loopbacks, written first so that every later interface moves when it goes). A reload of
A without Tunnel1 deletes its IKE SA (B hears the Delete) while pings run through Tunnel0, which
must lose nothing and keep its SAs; then Tunnel1 is put back in front and negotiated again, with
Tunnel0 untouched once more."""
import signal
import subprocess
import time

import pytest

from fh import ROOT, Daemon, Lab, can_use_netns, run, site_to_site_lab

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


def two_tunnels(side):
    text = (ROOT / f"config/site-to-site-{side}.yaml").read_text()
    me, peer, gw = ("10.255.0.1", "10.255.0.2", "192.168.0.20") if side == "a" else ("10.255.0.2", "10.255.0.1",
                                                                                    "192.168.0.10")
    addr = "10.1.121.10/24" if side == "a" else "10.1.121.20/24"
    text = text.replace("        peers:\n", f"        peers:\n          LoopPeer:\n            address: {peer}\n"
                        "            pre-shared-key-local: cisco123\n            pre-shared-key-remote: cisco123\n", 1)
    text = text.replace("    profiles:\n      FLEXVPN_PROFILE:          # crypto ikev2 profile",
                        "    profiles:\n      LOOP_PROFILE:\n        match-identity-remote:\n"
                        f"          address: {peer}\n        authentication-remote: pre-share\n"
                        "        authentication-local: pre-share\n        keyring: FLEXVPN_KEYRING\n"
                        "      FLEXVPN_PROFILE:          # crypto ikev2 profile", 1)
    text = text.replace("    profiles:\n      FLEXVPN_PROFILE:          # crypto ipsec profile",
                        "    profiles:\n      LOOP_IPSEC:\n        transform-sets: FLEXVPN_TRANSFORM\n"
                        "        ikev2-profile: LOOP_PROFILE\n      FLEXVPN_PROFILE:          # crypto ipsec profile", 1)
    text = text.replace("interfaces:\n", "interfaces:\n  Tunnel1:\n    ip-address: " + addr + "\n"
                        "    tunnel-source: Loopback0\n" f"    tunnel-destination: {peer}\n"
                        "    tunnel-protection: LOOP_IPSEC\n  Loopback0:\n" f"    ip-address: {me}/32\n", 1)
    text = text.replace("  routes:\n", f"  routes:\n    - {{prefix: {peer}/32, next-hop: {gw}}}\n", 1)
    return text


def one_tunnel(text):
    """The same config without Tunnel1 (everything after it moves up)."""
    start = text.index("  Tunnel1:\n")
    end = text.index("  Loopback0:\n")
    return text[:start] + text[end:]


def ready(router):
    return {s["interface"]: s for s in router.ctl("show", "crypto", "ikev2", "sa", json_out=True)
            if s["status"] == "READY" and s["child-sas"] >= 1}


def wait(cond, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def lab2(tmp_path_factory):
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    d = tmp_path_factory.mktemp("ike-reload")
    ra = Daemon(a, two_tunnels("a"), d, "RouterA").start()
    rb = Daemon(b, two_tunnels("b"), d, "RouterB").start()
    yield lab, ra, rb, la, lb
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text()[-3000:] + rb.log_text()[-3000:]


def pairs(router):
    return {p["interface"]: (p["inbound-spi"], p["outbound-spi"])
            for p in router.ctl("show", "crypto", "ipsec", "sa", json_out=True)}


def test_removing_the_first_tunnel_leaves_the_other_alone(lab2):
    lab, ra, rb, la, lb = lab2
    assert wait(lambda: set(ready(ra)) >= {"Tunnel0", "Tunnel1"}), ra.log_text()[-3000:]
    run(["ip", "netns", "exec", la, "ping", "-c", "2", "-W", "2", "10.20.2.2"], check=False)
    before = pairs(ra)
    assert {"Tunnel0", "Tunnel1"} <= set(before)
    full = ra.cfg.read_text()
    ping = subprocess.Popen(["ip", "netns", "exec", la, "ping", "-n", "-q", "-c", "60", "-i", "0.05", "-W", "2",
                             "10.20.2.2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.7)
    ra.cfg.write_text(one_tunnel(full))
    ra.signal(signal.SIGHUP)
    assert wait(lambda: "Tunnel1" not in pairs(rb), 10), "B never heard Tunnel1's Delete"
    out = ping.communicate(timeout=30)[0]
    assert " 0% packet loss" in out, out
    now = pairs(ra)
    assert set(now) == {"Tunnel0"} and now["Tunnel0"] == before["Tunnel0"], (before, now)
    assert set(ready(ra)) == {"Tunnel0"}
    # Tunnel1 back, in front again: negotiated anew, Tunnel0 still the same pair
    ra.cfg.write_text(full)
    ra.signal(signal.SIGHUP)
    assert wait(lambda: set(ready(ra)) >= {"Tunnel0", "Tunnel1"}), ra.log_text()[-3000:]
    now = pairs(ra)
    assert now["Tunnel0"] == before["Tunnel0"] and now["Tunnel1"] != before["Tunnel1"]
    r = run(["ip", "netns", "exec", la, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.20.2.2"], check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
