"""The guide's hub-and-spoke example, both routers flexhub, from config/hub-and-spoke-hub.yaml and
-spoke.yaml as they are: the spoke's Tunnel0 has "ip address negotiated" and gets 10.1.1.x from
the hub's FlexPool by mode-config; the hub clones Virtual-Access1 from Virtual-Template1; pushed
routes (10.1.1.1/32, 10.10.1.0/24) go via Tunnel0 on the spoke, the spoke's announced network
10.20.2.0/24 via Virtual-Access1 on the hub; LAN to LAN pings both ways.
"""
import re
import time

import pytest

from fh import ROOT, wait_for, Daemon, Lab, can_use_netns, run

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


def ping(ns, addr, count=3, interval=0.2, timeout=2):
    return run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", str(interval), "-W", str(timeout), addr],
               check=False)



def routes(router):
    return {r["prefix"]: r for r in router.ctl("show", "ip", "route", json_out=True)}


def hub_spoke_lab(lab):
    """Hub Gi1 (hub-gi1) to spoke Gi1 (sp-gi1); the hub's LAN 10.10.1.20 on hub-gi2, the spoke's
    LAN 10.20.2.2 on sp-gi2."""
    hub, sp, lh, ls = lab.ns("h"), lab.ns("s"), lab.ns("lh"), lab.ns("ls")
    run(["ip", "link", "add", "hub-gi1", "netns", hub, "type", "veth", "peer", "name", "sp-gi1", "netns", sp])
    for ns, l in ((hub, "hub-gi1"), (sp, "sp-gi1")):
        run(["ip", "-n", ns, "link", "set", l, "up"])
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{l}.disable_ipv6=1"], check=False)
    lab.veth(hub, "hub-gi2", lh, "lh-gi2", "10.10.1.20/24")
    lab.veth(sp, "sp-gi2", ls, "ls-gi2", "10.20.2.2/24")
    run(["ip", "-n", lh, "route", "add", "default", "via", "10.10.1.10"])
    run(["ip", "-n", ls, "route", "add", "default", "via", "10.20.2.20"])
    return hub, sp, lh, ls


@pytest.fixture(scope="module")
def hs(tmp_path_factory):
    lab = Lab()
    hub_ns, sp_ns, lh, ls = hub_spoke_lab(lab)
    d = tmp_path_factory.mktemp("hub-spoke")
    hub = Daemon(hub_ns, (ROOT / "config/hub-and-spoke-hub.yaml").read_text(), d, "hub").start()
    spoke = Daemon(sp_ns, (ROOT / "config/hub-and-spoke-spoke.yaml").read_text(), d, "spoke").start()
    yield lab, hub, spoke, lh, ls
    rch, rcs = spoke.stop(), hub.stop()
    lab.close()
    assert rch == 0 and rcs == 0, hub.log_text() + spoke.log_text()


def test_spoke_gets_an_address_and_routes(hs):
    lab, hub, spoke, lh, ls = hs
    tun = wait_for("Tunnel0 negotiated", lambda: [i for i in spoke.ctl("show", "ip", "interface", "brief", json_out=True)
                                                  if i["interface"] == "Tunnel0" and i["ip-address"] != "unassigned"
                                                  and i["protocol"] == "up"])
    addr = tun[0]["ip-address"]
    assert addr.startswith("10.1.1.") and 2 <= int(addr.split(".")[3]) <= 254, tun
    assert tun[0]["method"] == "IKEv2", tun  # IOS would print "manual"; we say where it came from
    r = wait_for("pushed routes", lambda: (lambda r: r if "10.10.1.0/24" in r and "10.1.1.1/32" in r else None)(
        routes(spoke)))
    assert r["10.10.1.0/24"]["interface"] == "Tunnel0" and r["10.1.1.1/32"]["interface"] == "Tunnel0", r
    h = wait_for("hub routes", lambda: (lambda r: r if "10.20.2.0/24" in r and f"{addr}/32" in r else None)(
        routes(hub)))
    assert h["10.20.2.0/24"]["interface"] == "Virtual-Access1" and h[f"{addr}/32"]["interface"] == "Virtual-Access1", h
    va = [i for i in hub.ctl("show", "ip", "interface", "brief", json_out=True) if i["interface"] == "Virtual-Access1"]
    assert va and va[0]["status"] == "up" and va[0]["protocol"] == "up", va


def test_lan_to_lan_both_ways(hs):
    lab, hub, spoke, lh, ls = hs
    wait_for("routes", lambda: "10.20.2.0/24" in routes(hub))
    ping(lh, "10.20.2.2", count=2)
    r = ping(lh, "10.20.2.2", count=10)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + hub.log_text()[-2000:]
    r = ping(ls, "10.10.1.20", count=10)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    # the hub's loopback (pushed as route set interface) answers from the spoke's LAN
    r = ping(ls, "10.1.1.1", count=3)
    assert r.returncode == 0, r.stdout


def test_show_crypto_ikev2_sa_names_the_virtual_access(hs):
    lab, hub, spoke, lh, ls = hs
    sas = wait_for("hub SA", lambda: [s for s in hub.ctl("show", "crypto", "ikev2", "sa", json_out=True)
                                      if s["status"] == "READY"])
    assert sas[0]["interface"] == "Virtual-Access1" and sas[0]["virtual-access"], sas
    assert sas[0]["assigned-address"].startswith("10.1.1."), sas
    detail = hub.ctl("show", "crypto", "ikev2", "sa", "detail").stdout
    assert "Interface: Virtual-Access1" in detail and "Assigned host addr: 10.1.1." in detail, detail
    sp = spoke.ctl("show", "crypto", "ikev2", "sa", "detail").stdout
    assert "Interface: Tunnel0" in sp and "Pushed IP address: 10.1.1." in sp, sp
    text = spoke.ctl("show", "ip", "route").stdout
    assert re.search(r"(?m)^S\s+10\.10\.1\.0/24 is directly connected, Tunnel0$", text), text
    assert re.search(r"(?m)^S\s+10\.1\.1\.1/32 is directly connected, Tunnel0$", text), text
    assert re.search(r"(?m)^C\s+10\.1\.1\.\d+/32 is directly connected, Tunnel0$", text), text
    assert re.search(r"(?m)^S\*\s+0\.0\.0\.0/0 \[1/0\] via 192\.168\.0\.1, GigabitEthernet1$", text), text
    assert "Gateway of last resort is 192.168.0.1 to network 0.0.0.0" in text, text


def test_clear_crypto_session_and_the_spoke_comes_back(hs):
    lab, hub, spoke, lh, ls = hs
    addr = wait_for("spoke address", lambda: [i["ip-address"] for i in spoke.ctl("show", "ip", "interface", "brief",
                                                                               json_out=True)
                                              if i["interface"] == "Tunnel0" and i["protocol"] == "up"])[0]
    hub.ctl("debug", "crypto", "ikev2", "client", "flexvpn")
    r = hub.ctl("clear", "crypto", "session", "remote", "192.168.0.20")
    assert "1 session(s) cleared" in r.stdout, r.stdout
    # the hub sent Delete: the spoke's Tunnel0 initiates again and gets its address back
    wait_for("session again", lambda: [s for s in hub.ctl("show", "crypto", "session", json_out=True)
                                       if s["status"] == "UP-ACTIVE" and s["assigned-address"] == addr
                                       and s["interface"] == "Virtual-Access1"], timeout=30)
    log = hub.log_text()
    assert "CFG_REQUEST received" in log and "CFG_REPLY sent" in log and "Virtual-Access1 removed" in log, log[-3000:]
    r = ping(ls, "10.10.1.20", count=5)
    assert r.returncode == 0, r.stdout
    hub.ctl("no", "debug", "crypto", "ikev2", "client", "flexvpn")


def test_reload_keeps_the_session(hs):
    import signal as sig
    lab, hub, spoke, lh, ls = hs
    before = [s for s in hub.ctl("show", "crypto", "session", json_out=True) if s["status"] == "UP-ACTIVE"]
    assert len(before) == 1, before
    reloads = hub.counters()["control"]["config-reloads"]
    # a reload that changes something unrelated (a second pool) keeps the Virtual-Access and its routes
    text = hub.cfg.read_text().replace("  local-pools:\n", "  local-pools:\n    Other: {first: 10.9.9.1, last: 10.9.9.9}\n")
    hub.cfg.write_text(text)
    hub.signal(sig.SIGHUP)
    wait_for("reloaded", lambda: hub.counters()["control"]["config-reloads"] > reloads)
    after = [s for s in hub.ctl("show", "crypto", "session", json_out=True) if s["status"] == "UP-ACTIVE"]
    assert [(s["interface"], s["assigned-address"], s["session-id"]) for s in after] == \
        [(s["interface"], s["assigned-address"], s["session-id"]) for s in before], (before, after)
    assert len(hub.ctl("show", "ip", "local", "pool", json_out=True)) == 2
    r = ping(lh, "10.20.2.2", count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
