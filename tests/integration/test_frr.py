"""Routing through FRR (issue "Dynamic routing over the tunnels with FRR"). First test: RouterA of the guide's site-to-site pair (config/site-to-site-a.yaml, its
`router eigrp 100` covering Tunnel0's 10.1.120.0/24) in a namespace: flexhub makes the mirror Tu0
with Tunnel0's address, writes frr.conf and starts FRR's zebra and eigrpd, which run EIGRP on Tu0;
a route a routing daemon installs into the kernel through Tu0 (the same message zebra sends) lands
in flexhub's FIB with the protocol's code and distance, and leaves it when withdrawn.
The second runs EIGRP and OSPF between the two routers over the IPsec tunnel.
"""
import os
import shutil
import time

import pytest

from fh import ROOT, wait_for, Daemon, Lab, can_use_netns, run

FRR = "/usr/lib/frr/zebra"
pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))]


def require_frr():
    # setup.sh installs it: a machine without it is broken, not a reason to skip
    assert os.path.exists(FRR) and shutil.which("vtysh"), "FRR is not installed (Debian package frr; scripts/setup.sh)"



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
        # flexhub's own static route into Tunnel0 is offered to the kernel (and so to zebra) through Tu0
        kern = run(["ip", "-n", a, "route", "show", "10.20.2.0/24"]).stdout
        assert "dev Tu0" in kern and "proto static" in kern, kern
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


@pytest.mark.parametrize("proto", ["eigrp", "ospf"])
def test_protocol_over_tunnel0_forms_a_neighbour_and_learns_the_lans(tmp_path, proto):
    """The guide's site-to-site pair with `router eigrp 100` over Tunnel0 (FRR eigrpd on both sides;
    or the same as `router ospf 1` area 0), each LAN added to its network lines and RouterA's
    static route to LAN B taken out: the neighbour forms over the IPsec tunnel, RouterA learns LAN B
    (D or O) and LAN pings LAN. Then the protocol daemon on RouterA is killed: flexhub starts it
    again, the route comes back, and traffic on the routes that are not the protocol's (connected,
    static) never stops; then RouterB goes and its route leaves RouterA's FIB."""
    from fh import site_to_site_lab
    require_frr()
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    routers = []
    try:
        for ns, name, lan in ((a, "RouterA", "10.10.1.0 0.0.0.255"), (b, "RouterB", "10.20.2.0 0.0.0.255")):
            text = (ROOT / f"config/site-to-site-{name[-1].lower()}.yaml").read_text()
            text = text.replace("    networks: 10.1.120.0 0.0.0.255", f"    networks: [10.1.120.0 0.0.0.255, {lan}]")
            assert lan in text
            if proto == "ospf":
                text = text.replace("  eigrp:                        # router eigrp 100\n    as: 100\n",
                                    "  ospf:\n    as: 1\n    area: 0\n").replace("    auto-summary: false         #  no auto-summary\n", "")
                assert "ospf:" in text and "eigrp" not in text.split("router:")[1], text.split("router:")[1]
            # RouterA learns LAN B from the protocol (its static route goes); RouterB keeps its
            # static route to LAN A, so traffic back to LAN A never depends on the protocol
            import re
            if name == "RouterA":
                text = re.sub(r"(?m)^    - \{prefix: 10\.20\.2\.0/24, interface: Tunnel0\}\n", "", text)
                assert "10.20.2.0/24, interface" not in text
            text += f"routing: {{frr: managed, state-dir: /tmp/fh-frr-{lab.tag}-{name}}}\n"
            routers.append(Daemon(ns, text, tmp_path, name).start())
        ra, rb = routers
        vty = ["ip", "netns", "exec", a, "vtysh", "--vty_socket", f"/tmp/fh-frr-{lab.tag}-RouterA"]
        code, dist, show = ("D", 90, "show ip eigrp neighbors") if proto == "eigrp" else ("O", 110, "show ip ospf neighbor")
        out = wait_for(f"{proto} neighbour", lambda: (lambda r: r.stdout if "10.1.120.20" in r.stdout or
                                                      "Full" in r.stdout else None)(
            run(vty + ["-c", show], check=False)), timeout=90)
        assert "Tu0" in out, out
        r = wait_for("LAN B learned", lambda: [x for x in ra.ctl("show", "ip", "route", json_out=True)
                                               if x["prefix"] == "10.20.2.0/24" and x["code"] == code], timeout=60)
        assert r[0]["interface"] == "Tunnel0" and r[0]["distance"] == dist, r
        # RouterB's static route (distance 1) wins over what its protocol learned of LAN A
        rt_b = {x["prefix"]: x for x in rb.ctl("show", "ip", "route", json_out=True)}
        assert rt_b["10.10.1.0/24"]["code"] == "S", rt_b
        # both routers initiate Tunnel0; a collision can take one IKE SA down once: settle first
        wait_for("LAN B reachable", lambda: run(["ip", "netns", "exec", la, "ping", "-c", "1", "-W", "1", "10.20.2.2"],
                                                check=False).returncode == 0, timeout=30)
        p = run(["ip", "netns", "exec", la, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.20.2.2"], check=False)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, p.stdout
        c = ra.counters()
        assert c["control"]["mirror-packets-in"] > 0 and c["control"]["mirror-packets-out"] > 0, c["control"]

        def learned(d, prefix):
            return [x for x in d.ctl("show", "ip", "route", json_out=True) if x["prefix"] == prefix and x["code"] == code]

        # FRR's daemon killed: started again, learns the route again; the tunnel's connected
        # route forwarded all along
        state_a = f"/tmp/fh-frr-{lab.tag}-RouterA"
        daemon = "eigrpd" if proto == "eigrp" else "ospfd"
        pid = int(open(f"{state_a}/{daemon}.pid").read().strip())
        pinger = __import__("subprocess").Popen(["ip", "netns", "exec", la, "ping", "-c", "30", "-i", "0.2", "-W", "1",
                                                 "10.1.120.20"], stdout=__import__("subprocess").PIPE, text=True)
        os.kill(pid, 9)
        wait_for("restarted", lambda: ra.counters()["control"]["frr-restarts"] >= 1, timeout=10)
        wait_for("learned again", lambda: learned(ra, "10.20.2.0/24"), timeout=60)
        out = pinger.communicate(timeout=30)[0]
        assert " 0% packet loss" in out, out
        # the peer goes (its Delete takes Tunnel0's SA down): the tunnel's mirror goes down with
        # it, so its FRR routes leave the FIB at once, and the kernel's follow
        assert rb.stop() == 0
        # (the issue asks for a second; 3 s of slack for a loaded 2-core CI machine)
        wait_for("FIB withdrawal", lambda: not learned(ra, "10.20.2.0/24"), timeout=3)
        wait_for("kernel withdrawal", lambda: not run(["ip", "-n", a, "route", "show", "10.20.2.0/24"],
                                                      check=False).stdout.strip(), timeout=5)
    finally:
        rcs = [d.stop() for d in routers]
        lab.close()
        for n in ("RouterA", "RouterB"):
            shutil.rmtree(f"/tmp/fh-frr-{lab.tag}-{n}", ignore_errors=True)
    assert all(rc == 0 for rc in rcs)


def test_eigrp_with_an_frr_router_on_the_lan(tmp_path):
    """A neighbour nobody here wrote: FRR in a plain namespace on RouterA's LAN (kernel
    networking, EIGRP AS 100 on its LAN interface, a network 10.99.0.0/24 behind it). flexhub's
    RouterA (LAN added to its networks) forms the neighbour over GigabitEthernet2 (hellos to
    224.0.0.10 in and out of the port), learns 10.99.0.0/24 as D via 10.10.1.20, and forwards LAN B's
    traffic to it through the tunnel."""
    from fh import site_to_site_lab
    require_frr()
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    ext = __import__("pathlib").Path(f"/tmp/fh-frr-{lab.tag}-lan")
    routers, procs = [], []
    try:
        # no dummy devices in this kernel (no modules): the network lives on the namespace's lo
        run(["ip", "-n", la, "addr", "add", "10.99.0.1/24", "dev", "lo"])
        ext.mkdir()
        (ext / "frr.conf").write_text("frr defaults traditional\nhostname LanRouter\n!\nrouter eigrp 100\n"
                                      " network 10.10.1.0/24\n network 10.99.0.0/24\nexit\n!\nend\n")
        shutil.chown(ext, "frr", "frr")
        shutil.chown(ext / "frr.conf", "frr", "frr")
        for dmn in ("zebra", "eigrpd"):
            procs.append(__import__("subprocess").Popen(
                ["ip", "netns", "exec", la, f"/usr/lib/frr/{dmn}", "-f", str(ext / "frr.conf"), "-i",
                 str(ext / f"{dmn}.pid"), "-z", str(ext / "zserv.api"), "--vty_socket", str(ext), "-u", "frr", "-g",
                 "frr", "--log", f"file:{ext}/{dmn}.log"]))
        text_a = (ROOT / "config/site-to-site-a.yaml").read_text().replace(
            "    networks: 10.1.120.0 0.0.0.255", "    networks: [10.1.120.0 0.0.0.255, 10.10.1.0 0.0.0.255]")
        text_a += f"routing: {{frr: managed, state-dir: /tmp/fh-frr-{lab.tag}-RouterA}}\n"
        text_b = (ROOT / "config/site-to-site-b.yaml").read_text().replace(
            "    - {prefix: 10.10.1.0/24, interface: Tunnel0}",
            "    - {prefix: 10.10.1.0/24, interface: Tunnel0}\n    - {prefix: 10.99.0.0/16, interface: Tunnel0}")
        assert "10.99.0.0/16" in text_b
        text_b += f"routing: {{frr: managed, state-dir: /tmp/fh-frr-{lab.tag}-RouterB}}\n"
        ra = Daemon(a, text_a, tmp_path, "RouterA").start()
        routers.append(ra)
        routers.append(Daemon(b, text_b, tmp_path, "RouterB").start())
        r = wait_for("10.99.0.0/24 learned from the LAN router", lambda: [
            x for x in ra.ctl("show", "ip", "route", json_out=True) if x["prefix"] == "10.99.0.0/24"
            and x["code"] == "D"], timeout=60)
        assert r[0]["interface"] == "GigabitEthernet2" and r[0].get("via") == "10.10.1.20", r
        lan_vty = ["ip", "netns", "exec", la, "vtysh", "--vty_socket", str(ext)]
        out = run(lan_vty + ["-c", "show ip eigrp neighbors"], check=False).stdout
        assert "10.10.1.10" in out, out
        wait_for("LAN B reaches 10.99.0.1", lambda: run(["ip", "netns", "exec", lb, "ping", "-c", "1", "-W", "1",
                                                         "10.99.0.1"], check=False).returncode == 0, timeout=30)
        p = run(["ip", "netns", "exec", lb, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.99.0.1"], check=False)
        assert " 0% packet loss" in p.stdout, p.stdout
    finally:
        rcs = [d.stop() for d in routers]
        for p in procs:
            p.terminate()
            p.wait(5)
        lab.close()
        for n in ("RouterA", "RouterB", "lan"):
            shutil.rmtree(f"/tmp/fh-frr-{lab.tag}-{n}", ignore_errors=True)
    assert all(rc == 0 for rc in rcs)


def test_bgp_hub_and_spoke_over_virtual_access(tmp_path):
    """The guide's hub and spoke with BGP beside mode-config: the hub (AS 65000) listens on the
    pool's range, the spoke (AS 65001) peers with the hub's loopback 10.1.1.1, which it knows from
    the CFG_REPLY (route set interface, offered to its kernel through Tu0), and announces its LAN;
    the spoke's `route set access-list` is taken out, so the hub learns 10.20.2.0/24 only from BGP,
    as B via Virtual-Access1."""
    from test_hub_spoke import hub_spoke_lab
    require_frr()
    lab = Lab()
    hub_ns, sp_ns, lh, ls = hub_spoke_lab(lab)
    ds = []
    try:
        hub_text = (ROOT / "config/hub-and-spoke-hub.yaml").read_text()
        hub_text += ("router:\n  bgp: {as: 65000, router-id: 10.1.1.1, listen-range: 10.1.1.0/24, "
                     "listen-remote-as: 65001, networks: [10.10.1.0 0.0.0.255]}\n"
                     f"routing: {{frr: managed, state-dir: /tmp/fh-frr-{lab.tag}-hub}}\n")
        sp_text = (ROOT / "config/hub-and-spoke-spoke.yaml").read_text().replace(
            "        route-set-access-list: FlexTraffic\n", "")
        assert "route-set-access-list" not in sp_text.split("SpokePolicy")[1].split("profiles")[0]
        sp_text += ("router:\n  bgp: {as: 65001, router-id: 10.20.2.20, neighbors: [10.1.1.1 remote-as 65000], "
                    "networks: [10.20.2.0 0.0.0.255]}\n"
                    f"routing: {{frr: managed, state-dir: /tmp/fh-frr-{lab.tag}-spoke}}\n")
        hub = Daemon(hub_ns, hub_text, tmp_path, "hub").start()
        ds.append(hub)
        ds.append(Daemon(sp_ns, sp_text, tmp_path, "spoke").start())
        r = wait_for("10.20.2.0/24 from BGP on the hub", lambda: [
            x for x in hub.ctl("show", "ip", "route", json_out=True) if x["prefix"] == "10.20.2.0/24"], timeout=90)
        assert r[0]["code"] == "B" and r[0]["interface"] == "Virtual-Access1", r
        vty = ["ip", "netns", "exec", hub_ns, "vtysh", "--vty_socket", f"/tmp/fh-frr-{lab.tag}-hub"]
        out = run(vty + ["-c", "show bgp summary"], check=False).stdout
        assert "10.1.1.2" in out, out
    finally:
        rcs = [d.stop() for d in reversed(ds)]
        lab.close()
        for n in ("hub", "spoke"):
            shutil.rmtree(f"/tmp/fh-frr-{lab.tag}-{n}", ignore_errors=True)
    assert all(rc == 0 for rc in rcs)
