"""Routing through FRR, first part: kernel mirrors and the route sync (issue "Dynamic routing over
the tunnels with FRR"). RouterA of the guide's site-to-site pair (config/site-to-site-a.yaml, its
`router eigrp 100` covering Tunnel0's 10.1.120.0/24) in a namespace: flexhub makes the mirror Tu0
with Tunnel0's address, writes frr.conf and starts FRR's zebra and eigrpd, which run EIGRP on Tu0;
a route a routing daemon installs into the kernel through Tu0 (the same message zebra sends) lands
in flexhub's FIB with the protocol's code and distance, and leaves it when withdrawn.
The protocols' packets between the routers (punt to the mirror, the mirror's packets into the
tunnel) are not done yet: no adjacency forms, so this test does not look for one.
"""
import os
import shutil
import time

import pytest

from fh import ROOT, Daemon, Lab, can_use_netns, run

FRR = "/usr/lib/frr/zebra"
pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))]


def require_frr():
    # setup.sh installs it: a machine without it is broken, not a reason to skip
    assert os.path.exists(FRR) and shutil.which("vtysh"), "FRR is not installed (Debian package frr; scripts/setup.sh)"


def wait_for(what, fn, timeout=20):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last})")


def test_mirror_frr_and_route_sync(tmp_path):
    require_frr()
    lab = Lab()
    a = lab.ns("a")
    lab.veth(a, "a-gi1", lab.ns("b"), "b-gi1")
    lab.veth(a, "a-gi2", lab.ns("la"), "la-gi2", "10.10.1.20/24")
    # FRR runs as user frr: its directory's parents must let it through (pytest's tmp is 0700)
    state = __import__("pathlib").Path(f"/tmp/fh-frr-{lab.tag}")
    text = (ROOT / "config/site-to-site-a.yaml").read_text() + f"routing: {{frr: managed, state-dir: {state}}}\n"
    d = Daemon(a, text, tmp_path, "RouterA").start()
    try:
        vty = ["ip", "netns", "exec", a, "vtysh", "--vty_socket", str(state)]
        link = wait_for("mirror Tu0", lambda: run(["ip", "-n", a, "-br", "addr", "show", "Tu0"], check=False).stdout)
        assert "10.1.120.10/24" in link, link
        flags = run(["ip", "-n", a, "link", "show", "Tu0"]).stdout
        assert ",UP" in flags and "mtu 1400" in flags, flags  # a TUN's operstate says UNKNOWN; its flags say up
        out = wait_for("eigrpd on Tu0", lambda: (lambda r: r.stdout if "Tu0" in r.stdout else None)(
            run(vty + ["-c", "show ip eigrp interfaces"], check=False)))
        assert "Tu0" in out, out
        assert "router eigrp 100" in (state / "frr.conf").read_text()
        # a protocol's route through the mirror (rtnetlink, as zebra writes it: proto ospf = 188)
        run(["ip", "-n", a, "route", "add", "10.77.0.0/16", "via", "10.1.120.20", "dev", "Tu0", "proto", "188"])
        r = wait_for("synced route", lambda: [x for x in d.ctl("show", "ip", "route", json_out=True)
                                             if x["prefix"] == "10.77.0.0/16"], timeout=5)
        assert r[0]["code"] == "O" and r[0]["distance"] == 110 and r[0]["interface"] == "Tunnel0", r
        text = d.ctl("show", "ip", "route").stdout
        assert "O        10.77.0.0/16 [110/0] via 10.1.120.20, Tunnel0" in text, text
        run(["ip", "-n", a, "route", "del", "10.77.0.0/16", "dev", "Tu0", "proto", "188"])
        wait_for("withdrawn", lambda: not [x for x in d.ctl("show", "ip", "route", json_out=True)
                                           if x["prefix"] == "10.77.0.0/16"], timeout=2)
        # the kernel's own routes (the mirror's connected subnet) are not FRR's: not synced
        assert not [x for x in d.ctl("show", "ip", "route", json_out=True) if x["source"] in ("ospf", "eigrp", "frr")]
    finally:
        rc = d.stop()
        lab.close()
        shutil.rmtree(state, ignore_errors=True)
    assert rc == 0, d.log_text()[-3000:]
    assert "FRR's zebra exited" not in d.log_text(), d.log_text()[-2000:]
