"""The guide's spoke-to-spoke topology (config/hub.yaml, spoke1.yaml, spoke2.yaml, unchanged) before
NHRP shortcuts: both spokes start with "ip address negotiated", get their addresses from the hub,
the hub pushes 10.0.0.0/8, and LAN1 (10.20.2.0/24) reaches LAN2 (10.30.3.0/24) through the hub
(Virtual-Access to Virtual-Access). The shortcut itself is the NHRP issue's.
"""
import pytest

from fh import ROOT, Daemon, can_use_netns, run
from test_hub_many import Net, ping, tunnel_addr, wait_for

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


def test_guide_spokes_reach_each_other_through_the_hub(tmp_path):
    n = Net(tmp_path, (ROOT / "config/hub.yaml").read_text())
    spokes = []
    try:
        for k, lan_addr, gw in ((1, "10.20.2.2/24", "10.20.2.20"), (2, "10.30.3.3/24", "10.30.3.30")):
            ns = n.lab.ns(f"s{k}")
            n.plug(ns, f"s{k}-gi1")
            lan = n.lab.ns(f"l{k}")
            n.lab.veth(ns, f"s{k}-gi2", lan, f"l{k}-gi2", lan_addr)
            run(["ip", "-n", lan, "route", "add", "default", "via", gw])
            d = Daemon(ns, (ROOT / f"config/spoke{k}.yaml").read_text(), tmp_path, f"spoke{k}").start()
            n.spokes[k] = (ns, lan, d)
            spokes.append(d)
        a1 = wait_for("spoke1 address", lambda: tunnel_addr(spokes[0]))
        a2 = wait_for("spoke2 address", lambda: tunnel_addr(spokes[1]))
        assert a1 != a2 and a1.startswith("10.1.1.") and a2.startswith("10.1.1."), (a1, a2)
        routes = {r["prefix"]: r for r in spokes[0].ctl("show", "ip", "route", json_out=True)}
        assert routes["10.0.0.0/8"]["interface"] == "Tunnel0", routes
        lan1, lan2 = n.spokes[1][1], n.spokes[2][1]
        ping(lan1, "10.30.3.3", count=2)
        r = ping(lan1, "10.30.3.3", count=5)
        assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + n.hub.log_text()[-2000:]
        r = ping(lan2, "10.20.2.2", count=5)
        assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
        r = ping(lan1, "10.10.1.20", count=3)
        assert r.returncode == 0, r.stdout
    finally:
        rc, rcs = n.close()
    assert rc == 0 and all(x == 0 for x in rcs)
