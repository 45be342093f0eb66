"""A hub with 20 spokes at once, FlexVPN spokes (flexhub, GRE over IPsec, "ip address negotiated")
and strongSwan road warriors (charon + kernel-libipsec asking for a virtual IP, vips = 0.0.0.0,
plain IPsec tunnel mode in UDP 4500), all on one segment:

    hub LAN 10.10.1.20 -- [hub 192.168.0.10] --- bridge 192.168.0.0/24 --- spoke k 192.168.0.(20+k), LAN 10.20.k.0/24
                                                                     \\--- charon c 192.168.0.(100+c)

The hub is config/hub-and-spoke-hub.yaml with FlexTraffic widened to the spokes' LANs and the pool
(so that spokes and road warriors reach each other through the hub). Checked: every peer gets its
own pool address; all are reachable from the hub's LAN and from each other through the hub
(hairpin Virtual-Access to Virtual-Access); a spoke that leaves and comes back gets its address
again; a spoke forging another's inner source is dropped and counted; a wrong PSK is refused
without disturbing the others; a pool of 5 with 6 clients refuses the sixth cleanly
(INTERNAL_ADDRESS_FAILURE) while the five work.
"""
import re
import time

import pytest

from fh import ROOT, wait_for as _wait_for, Daemon, Lab, can_use_netns, run
from strongswan import Charon, missing

pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns())),
              pytest.mark.skipif(missing() is not None, reason=str(missing()))]

N_FLEX = 8      # flexhub spokes: DPDK processes, a few each on a 2-core machine
N_SWAN = 12     # charon road warriors


def ping(ns, addr, count=3, interval=0.2, timeout=2, src=None):
    return run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", str(interval), "-W", str(timeout)] +
               (["-I", src] if src else []) + [addr], check=False)



def wait_for(what, fn, timeout=30):
    return _wait_for(what, fn, timeout)


def hub_config(pool=None):
    text = (ROOT / "config/hub-and-spoke-hub.yaml").read_text()
    text = text.replace("      - permit 10.10.1.0 0.0.0.255",
                        "      - permit 10.10.1.0 0.0.0.255\n      - permit 10.20.0.0 0.0.255.255\n"
                        "      - permit 10.1.1.0 0.0.0.255")
    if pool:
        text = re.sub(r"FlexPool: \{first: [0-9.]+, last: [0-9.]+\}", f"FlexPool: {{first: {pool[0]}, last: {pool[1]}}}",
                      text)
    return text


def spoke_config(k):
    text = (ROOT / "config/hub-and-spoke-spoke.yaml").read_text()
    for a, b in (("FlexVPN_Spoke", f"Spoke{k}"), ("192.168.0.20 255.255.255.0", f"192.168.0.{20 + k} 255.255.255.0"),
                 ("iface=sp-gi1", f"iface=s{k}-gi1"), ("iface=sp-gi2", f"iface=s{k}-gi2"),
                 ("10.20.2.20 255.255.255.0", f"10.20.{k}.20 255.255.255.0"),
                 ("permit 10.20.2.0 0.0.0.255", f"permit 10.20.{k}.0 0.0.0.255")):
        assert a in text, a
        text = text.replace(a, b)
    return text


def swan_config(addr, secret="cisco123"):
    return f"""connections {{
  hub {{
    version = 2
    local_addrs = {addr}
    remote_addrs = 192.168.0.10
    vips = 0.0.0.0
    proposals = aes256-sha256-modp2048
    rekey_time = 0
    dpd_delay = 0
    local {{ auth = psk
      id = {addr} }}
    remote {{ auth = psk
      id = 192.168.0.10 }}
    children {{ net {{ remote_ts = 10.10.1.0/24,10.20.0.0/16,10.1.1.0/24
        esp_proposals = aes256-sha1
        rekey_time = 0
        mode = tunnel }} }}
  }}
}}
secrets {{ ike-1 {{ id-1 = 192.168.0.10
    id-2 = {addr}
    secret = {secret} }} }}
"""


class Net:
    """The segment (a bridge in its own namespace), the hub and its LAN."""

    def __init__(self, tmp, hub_text):
        self.lab = Lab()
        self.tmp = tmp
        self.sw = self.lab.ns("sw")
        run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        self.hub_ns, self.lh = self.lab.ns("h"), self.lab.ns("lh")
        self.plug(self.hub_ns, "hub-gi1")
        self.lab.veth(self.hub_ns, "hub-gi2", self.lh, "lh-gi2", "10.10.1.20/24")
        run(["ip", "-n", self.lh, "route", "add", "default", "via", "10.10.1.10"])
        self.hub = Daemon(self.hub_ns, hub_text, tmp, "hub").start()
        self.spokes, self.swans = {}, {}

    def plug(self, ns, ifname, addr=None):
        """A veth from ns to the bridge."""
        peer = f"b{self.lab.tag}{len(self.lab.namespaces)}{ifname[-4:]}"[:15]
        run(["ip", "link", "add", ifname, "netns", ns, "type", "veth", "peer", "name", peer, "netns", self.sw])
        run(["ip", "-n", self.sw, "link", "set", peer, "master", "br0", "up"])
        run(["ip", "-n", ns, "link", "set", ifname, "up"])
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"], check=False)
        if addr:
            run(["ip", "-n", ns, "addr", "add", addr, "dev", ifname])

    def add_spoke(self, k, lan=False):
        ns = self.lab.ns(f"s{k}")
        self.plug(ns, f"s{k}-gi1")
        lan_ns = self.lab.ns(f"l{k}")
        self.lab.veth(ns, f"s{k}-gi2", lan_ns, f"l{k}-gi2", f"10.20.{k}.2/24")
        run(["ip", "-n", lan_ns, "route", "add", "default", "via", f"10.20.{k}.20"])
        d = Daemon(ns, spoke_config(k), self.tmp, f"spoke{k}").start()
        self.spokes[k] = (ns, lan_ns, d)
        return d

    def add_swan(self, c, secret="cisco123"):
        ns = self.lab.ns(f"c{c}")
        addr = f"192.168.0.{100 + c}"
        self.plug(ns, f"c{c}-gi1", f"{addr}/24")
        ch = Charon(ns, self.tmp, f"charon{c}").start(swan_config(addr, secret))
        self.swans[c] = (ns, addr, ch)
        return ch

    def close(self):
        for ns, addr, ch in self.swans.values():
            ch.stop()
        rcs = [d.stop() for ns, l, d in self.spokes.values()]
        rc = self.hub.stop()
        self.lab.close()
        return rc, rcs


def vip(ch):
    """The virtual IP charon got, from swanctl --list-sas."""
    m = re.search(r"local\s+'[^']*' @ [0-9.]+\[\d+\] \[([0-9.]+)\]", ch.sas())
    return m.group(1) if m else None


def tunnel_addr(d):
    for i in d.ctl("show", "ip", "interface", "brief", json_out=True):
        if i["interface"] == "Tunnel0" and i["ip-address"] != "unassigned" and i["protocol"] == "up":
            return i["ip-address"]
    return None


def hub_sessions(hub):
    return [s for s in hub.ctl("show", "crypto", "session", json_out=True)
            if s["status"] == "UP-ACTIVE" and s["virtual-access"]]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = Net(tmp_path_factory.mktemp("hub-many"), hub_config())
    for k in range(1, N_FLEX + 1):
        n.add_spoke(k)
    for c in range(1, N_SWAN + 1):
        n.add_swan(c)
        r = n.swans[c][2].initiate("net")
        assert r.returncode == 0, r.stdout + r.stderr + n.swans[c][2].log_text()[-3000:] + n.hub.log_text()[-3000:]
    wait_for("20 sessions on the hub", lambda: len(hub_sessions(n.hub)) >= N_FLEX + N_SWAN, timeout=60)
    yield n
    rc, rcs = n.close()
    assert rc == 0 and all(r == 0 for r in rcs), n.hub.log_text()[-3000:]


def test_every_peer_has_its_own_address(net):
    addrs = {}
    for k, (ns, lan, d) in net.spokes.items():
        addrs[f"spoke{k}"] = wait_for(f"spoke{k} address", lambda: tunnel_addr(d))
    for c, (ns, a, ch) in net.swans.items():
        addrs[f"charon{c}"] = wait_for(f"charon{c} virtual IP", lambda: vip(ch))
    assert len(set(addrs.values())) == N_FLEX + N_SWAN, addrs
    assert all(a.startswith("10.1.1.") for a in addrs.values()), addrs
    sessions = hub_sessions(net.hub)
    assert sorted(s["assigned-address"] for s in sessions) == sorted(addrs.values()), sessions
    names = sorted(int(s["interface"][len("Virtual-Access"):]) for s in sessions)
    assert names == list(range(1, N_FLEX + N_SWAN + 1)), names  # numbered from 1, no gaps
    pool = net.hub.ctl("show", "ip", "local", "pool", json_out=True)[0]
    assert pool["in-use"] == N_FLEX + N_SWAN and len(pool["leases"]) == N_FLEX + N_SWAN, pool


def test_reachable_from_the_hub_lan(net):
    for k, (ns, lan, d) in net.spokes.items():
        r = ping(net.lh, f"10.20.{k}.2", count=3)
        assert r.returncode == 0, f"spoke{k} LAN: {r.stdout}"
    for c, (ns, a, ch) in net.swans.items():
        r = ping(net.lh, vip(ch), count=3)
        assert r.returncode == 0, f"charon{c} {vip(ch)}: {r.stdout}" + ch.log_text()[-1500:]


def test_spokes_reach_each_other_through_the_hub(net):
    ns1, lan1, d1 = net.spokes[1]
    for k in (2, N_FLEX):
        r = ping(lan1, f"10.20.{k}.2", count=3)
        assert r.returncode == 0, f"LAN1 -> LAN{k}: {r.stdout}"
    c_ns, c_addr, ch = net.swans[1]
    r = ping(c_ns, "10.20.2.2", count=3)
    assert r.returncode == 0, f"charon1 -> LAN2: {r.stdout}"
    r = ping(lan1, vip(net.swans[2][2]), count=3)
    assert r.returncode == 0, f"LAN1 -> charon2: {r.stdout}"


def test_forged_inner_source_is_dropped_and_counted(net):
    ns1, lan1, d1 = net.spokes[1]
    # spoke 1's LAN sends with spoke 2's LAN as source: spoke 1 forwards it, the hub must not
    run(["ip", "-n", lan1, "addr", "add", "10.20.2.77/32", "dev", "l1-gi2"])
    before = net.hub.counters()["dataplane"].get("drop-inner-source-not-allowed", 0)
    r = ping(lan1, "10.10.1.20", count=3, src="10.20.2.77")
    assert r.returncode != 0, r.stdout
    after = wait_for("spoof counted", lambda: (lambda v: v if v >= before + 3 else None)(
        net.hub.counters()["dataplane"].get("drop-inner-source-not-allowed", 0)))
    assert after >= before + 3
    r = ping(lan1, "10.10.1.20", count=3)
    assert r.returncode == 0, "its own source still works: " + r.stdout


def test_leaving_and_rejoining_keeps_the_address(net):
    ns, lan, d = net.spokes[3]
    a = tunnel_addr(d)
    assert d.stop() == 0
    wait_for("spoke3's session gone", lambda: all(s["assigned-address"] != a for s in hub_sessions(net.hub)))
    d2 = Daemon(ns, spoke_config(3), net.tmp, "spoke3b").start()
    net.spokes[3] = (ns, lan, d2)
    assert wait_for("spoke3 back", lambda: tunnel_addr(d2)) == a
    c_ns, c_addr, ch = net.swans[3]
    v = vip(ch)
    assert ch.swanctl("--terminate", "--ike", "hub").returncode == 0
    wait_for("charon3's session gone", lambda: all(s["assigned-address"] != v for s in hub_sessions(net.hub)))
    assert ch.initiate("net").returncode == 0
    assert wait_for("charon3 back", lambda: vip(ch)) == v
    r = ping(net.lh, v, count=3)
    assert r.returncode == 0, r.stdout


def test_wrong_psk_is_refused_and_others_unaffected(net):
    ch = net.add_swan(40, secret="not-cisco123")
    r = ch.initiate("net")
    assert r.returncode != 0 and "AUTHENTICATION_FAILED" in r.stdout, r.stdout
    assert len(hub_sessions(net.hub)) == N_FLEX + N_SWAN
    r = ping(net.lh, "10.20.1.2", count=3)
    assert r.returncode == 0, r.stdout


def test_pool_of_five_refuses_the_sixth(tmp_path):
    n = Net(tmp_path, hub_config(pool=("10.1.1.2", "10.1.1.6")))
    try:
        for c in range(1, 7):
            n.add_swan(c)
        got = {}
        for c in range(1, 7):
            r = n.swans[c][2].initiate("net")
            got[c] = (r.returncode, r.stdout)
        ok = [c for c in got if got[c][0] == 0]
        assert len(ok) == 5 and got[6][0] != 0, {c: got[c][0] for c in got}
        assert "INTERNAL_ADDRESS_FAILURE" in got[6][1] or "failed" in got[6][1], got[6][1]
        for c in ok:
            v = vip(n.swans[c][2])
            assert v is not None and ping(n.lh, v, count=2).returncode == 0, c
        counters = n.hub.counters()
        assert counters["control"]["pool-exhausted"] >= 1, counters["control"]
        assert "no address for 192.168.0.106" in n.hub.log_text()
    finally:
        rc, _ = n.close()
    assert rc == 0


def test_road_warrior_rekeys_keep_its_session(net):
    c_ns, c_addr, ch = net.swans[4]
    v = vip(ch)
    before = [s for s in hub_sessions(net.hub) if s["assigned-address"] == v]
    assert len(before) == 1, before
    assert ch.swanctl("--rekey", "--child", "net").returncode == 0
    assert ch.swanctl("--rekey", "--ike", "hub").returncode == 0
    time.sleep(1)
    after = [s for s in hub_sessions(net.hub) if s["assigned-address"] == v]
    assert [(s["interface"], s["session-id"]) for s in after] == [(s["interface"], s["session-id"]) for s in before]
    r = ping(net.lh, v, count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + ch.log_text()[-2000:]
    # the narrowed selectors survived the child rekey: charon still routes the hub's LAN into it
    assert re.search(r"10\.10\.1\.0/24", ch.sas()), ch.sas()


def test_dead_road_warrior_loses_its_virtual_access(tmp_path):
    """DPD (dpd 10 2 periodic on the hub's profile): a client that vanishes without a word takes
    its Virtual-Access, routes and pool address with it; the address is free again."""
    text = hub_config().replace("        virtual-template: 1     # virtual-template 1",
                                "        virtual-template: 1     # virtual-template 1\n"
                                "        dpd: {interval: 10, retries: 2, mode: periodic}")
    assert "periodic" in text
    n = Net(tmp_path, text)
    try:
        ch = n.add_swan(1)
        assert ch.initiate("net").returncode == 0
        v = wait_for("virtual IP", lambda: vip(ch))
        assert [s["interface"] for s in hub_sessions(n.hub)] == ["Virtual-Access1"]
        ch.kill()
        wait_for("session gone after DPD", lambda: not n.hub.ctl("show", "crypto", "session", json_out=True), timeout=60)
        brief = [i["interface"] for i in n.hub.ctl("show", "ip", "interface", "brief", json_out=True)]
        assert "Virtual-Access1" not in brief, brief
        assert f"{v}/32" not in {r["prefix"] for r in n.hub.ctl("show", "ip", "route", json_out=True)}
        pool = n.hub.ctl("show", "ip", "local", "pool", json_out=True)[0]
        assert pool["in-use"] == 0, pool
        assert n.hub.counters()["ikev2"]["dpd-peer-dead"] == 1
    finally:
        rc, _ = n.close()
    assert rc == 0
