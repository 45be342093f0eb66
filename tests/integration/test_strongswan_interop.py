"""IKEv2 interop with strongSwan (charon + swanctl, userspace ESP through kernel-libipsec), a peer
nobody here wrote. flexhub's Tunnel0 is plain IPsec tunnel mode ("tunnel mode ipsec ipv4"), what
strongSwan speaks; charon forces UDP encapsulation (its ESP is userspace), so NAT-T's float to
port 4500 and ESP in UDP are exercised on every run.

    LAN A (la) 10.10.1.20 -- a-gi2 [flexhub A] a-gi1 192.168.0.10 ---- 192.168.0.20 s-gi1 [charon] lo 10.20.2.20

Cases: flexhub as initiator and as responder; DH groups 14, 19, 31; AES-CBC-256+SHA256 and
AES-GCM-256. On the first: rekeys of child and IKE SA from either side while pinging, with no
loss; delete on stop. Separately: DPD takes the tunnel down when charon vanishes.
"""
import re
import threading
import time

import pytest

from fh import Daemon, Lab, can_use_netns, run
from strongswan import Charon, missing

pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns())),
              pytest.mark.skipif(missing() is not None, reason=str(missing()))]

GROUP_NAME = {14: "modp2048", 19: "ecp256", 31: "curve25519"}


def flexhub_config(alg, group, initiate, dpd="{interval: 10, retries: 2, mode: on-demand}", frag_mtu=0, pfs=0):
    ike = ("{encryption: aes-cbc-256, integrity: sha256, group: %d}" % group if alg == "cbc"
           else "{encryption: aes-gcm-256, prf: sha256, group: %d}" % group)
    esp = ("{encryption: esp-aes 256, integrity: esp-sha256-hmac, mode: tunnel}" if alg == "cbc"
           else "{encryption: esp-gcm 256, mode: tunnel}")
    return f"""hostname: FH
control-socket: /run/fh.sock
dataplane: {{workers: 1, idle-sleep-us: 200}}
crypto:
  ikev2:
    fragmentation-mtu: {frag_mtu}
    proposals:
      PROP: {ike}
    policies:
      POL: {{proposals: PROP}}
    keyrings:
      KR:
        peers:
          SWAN: {{address: 192.168.0.20, pre-shared-key: cisco123}}
    profiles:
      PROF:
        match-identity-remote: {{address: 192.168.0.20}}
        authentication-remote: pre-share
        authentication-local: pre-share
        keyring: KR
        dpd: {dpd}
  ipsec:
    transform-sets:
      TS: {esp}
    profiles:
      IPP: {{transform-sets: TS, ikev2-profile: PROF, pfs: {pfs}}}
interfaces:
  Tunnel0:
    ip-address: 10.1.120.10 255.255.255.0
    tunnel-source: GigabitEthernet1
    tunnel-destination: 192.168.0.20
    tunnel-mode: ipsec ipv4
    tunnel-protection: IPP
    tunnel-initiate: {"true" if initiate else "false"}
  GigabitEthernet1:
    device: net_af_packet0,iface=a-gi1
    ip-address: 192.168.0.10 255.255.255.0
  GigabitEthernet2:
    device: net_af_packet1,iface=a-gi2
    ip-address: 10.10.1.10/24
ip:
  routes:
    - {{prefix: 10.20.2.0/24, interface: Tunnel0}}
"""


def swanctl_config(alg, group, pfs=0, secret="cisco123", ike=None):
    ike = ike or (f"aes256-sha256-{GROUP_NAME[group]}" if alg == "cbc" else f"aes256gcm16-prfsha256-{GROUP_NAME[group]}")
    esp = "aes256-sha256" if alg == "cbc" else "aes256gcm16"
    if pfs:
        esp += "-" + GROUP_NAME[pfs]
    return f"""connections {{
  fh {{
    version = 2
    local_addrs = 192.168.0.20
    remote_addrs = 192.168.0.10
    proposals = {ike}
    rekey_time = 0
    dpd_delay = 0
    local {{ auth = psk
      id = 192.168.0.20 }}
    remote {{ auth = psk
      id = 192.168.0.10 }}
    children {{ net {{ local_ts = 10.20.2.0/24
        remote_ts = 10.10.1.0/24
        esp_proposals = {esp}
        rekey_time = 0
        mode = tunnel }} }}
  }}
}}
secrets {{ ike-1 {{ id-1 = 192.168.0.10
    id-2 = 192.168.0.20
    secret = {secret} }} }}
"""


class Setup:
    def __init__(self, tmp, alg, group, initiate, dpd=None, frag_mtu=0, charon_extra="", pfs=0, swan=None):
        self.lab = Lab()
        lab = self.lab
        self.a, self.s, self.la = lab.ns("a"), lab.ns("s"), lab.ns("la")
        run(["ip", "link", "add", "a-gi1", "netns", self.a, "type", "veth", "peer", "name", "s-gi1", "netns", self.s])
        run(["ip", "-n", self.a, "link", "set", "a-gi1", "up"])
        run(["ip", "netns", "exec", self.a, "sysctl", "-qw", "net.ipv6.conf.a-gi1.disable_ipv6=1"], check=False)
        run(["ip", "-n", self.s, "link", "set", "s-gi1", "up"])
        run(["ip", "-n", self.s, "addr", "add", "192.168.0.20/24", "dev", "s-gi1"])
        run(["ip", "-n", self.s, "addr", "add", "10.20.2.20/32", "dev", "lo"])
        lab.veth(self.a, "a-gi2", self.la, "la-gi2", "10.10.1.20/24")
        run(["ip", "-n", self.la, "route", "add", "default", "via", "10.10.1.10"])
        self.charon = Charon(self.s, tmp).start(swan or swanctl_config(alg, group, pfs), charon_extra=charon_extra)
        kw = {"frag_mtu": frag_mtu, "pfs": pfs} if dpd is None else {"dpd": dpd, "frag_mtu": frag_mtu, "pfs": pfs}
        self.fh = Daemon(self.a, flexhub_config(alg, group, initiate, **kw), tmp, "FH").start()
        self.initiate = initiate

    def up(self, timeout=25):
        if not self.initiate:
            r = self.charon.initiate()
            assert r.returncode == 0, r.stdout + r.stderr + self.charon.log_text()[-3000:]
        end = time.time() + timeout
        while time.time() < end:
            sas = [s for s in self.fh.ctl("show", "crypto", "ikev2", "sa", json_out=True)
                   if s["status"] == "READY" and s["child-sas"] >= 1]
            if sas:
                return sas[0]
            time.sleep(0.2)
        raise AssertionError("no IKE SA with strongSwan:\n" + self.fh.log_text()[-3000:] + "\n--- charon:\n" +
                             self.charon.log_text()[-4000:])

    def close(self):
        self.charon.stop()
        rc = self.fh.stop()
        self.lab.close()
        return rc


def ping_lan(st, count=5, interval=0.2):
    return run(["ip", "netns", "exec", st.la, "ping", "-c", str(count), "-i", str(interval), "-W", "2", "10.20.2.20"],
               check=False)


def ping_from_swan(st, count=5):
    return run(["ip", "netns", "exec", st.s, "ping", "-c", str(count), "-i", "0.2", "-W", "2", "-I", "10.20.2.20",
                "10.10.1.20"], check=False)


def assert_traffic(st):
    ping_lan(st, count=2)  # ARP on the LAN side
    r = ping_lan(st)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + st.fh.log_text()[-2000:]
    r = ping_from_swan(st)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    sa = st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True)
    assert len(sa) == 1 and sa[0]["keying"] == "ikev2", sa
    # charon's ESP is userspace and UDP-encapsulated: ours must be too, to its port 4500
    assert sa[0]["peer-port"] == 4500 and sa[0]["encaps"] >= 5 and sa[0]["decaps"] >= 5, sa
    assert "ESTABLISHED" in st.charon.sas() and "INSTALLED" in st.charon.sas()


CASES = [("responder", "cbc", 14), ("initiator", "cbc", 14), ("responder", "gcm", 19), ("initiator", "gcm", 19),
         ("initiator", "cbc", 31), ("responder", "gcm", 31)]


@pytest.mark.parametrize("role,alg,group", CASES, ids=[f"{r}-{a}-{g}" for r, a, g in CASES])
def test_tunnel_up_and_traffic(tmp_path, role, alg, group):
    st = Setup(tmp_path, alg, group, initiate=role == "initiator")
    try:
        sa = st.up()
        assert sa["role"] == role and sa["dh-group"] == group, sa
        assert sa["encr"] == ("AES-CBC" if alg == "cbc" else "AES-GCM") and sa["keysize"] == 256
        assert sa["nat-remote"] or sa["nat-local"], "charon fakes NAT to force UDP encapsulation"
        assert_traffic(st)
    finally:
        assert st.close() == 0


def pinging_through(st, action, count=60):
    """Ping every 50 ms from LAN A while action() runs; returns ping's result."""
    res = {}
    t = threading.Thread(target=lambda: res.update(r=ping_lan(st, count=count, interval=0.05)))
    t.start()
    time.sleep(0.5)
    action()
    t.join()
    return res["r"]


def test_rekeys_both_sides_no_loss_and_delete_on_stop(tmp_path):
    st = Setup(tmp_path, "cbc", 14, initiate=False)
    try:
        st.up()
        assert_traffic(st)
        stats = lambda: st.fh.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        s0 = stats()

        def swan_rekeys():
            assert st.charon.swanctl("--rekey", "--child", "net").returncode == 0
            time.sleep(0.5)
            assert st.charon.swanctl("--rekey", "--ike", "fh").returncode == 0
            time.sleep(0.5)

        r = pinging_through(st, swan_rekeys)
        assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
        s1 = stats()
        assert s1["child-sa-rekeyed"] == s0["child-sa-rekeyed"] + 1, (s0, s1)
        assert s1["ike-sa-rekeyed"] == s0["ike-sa-rekeyed"] + 1, (s0, s1)

        def our_rekeys():
            st.fh.ctl("crypto", "ikev2", "rekey", "child")
            time.sleep(0.5)
            st.fh.ctl("crypto", "ikev2", "rekey", "ike")
            time.sleep(0.5)

        r = pinging_through(st, our_rekeys)
        assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
        s2 = stats()
        assert s2["child-sa-rekeyed"] == s1["child-sa-rekeyed"] + 1, (s1, s2)
        assert s2["ike-sa-rekeyed"] == s1["ike-sa-rekeyed"] + 1, (s1, s2)
        # strongSwan agrees: one IKE SA, one child, with the SPIs flexhub shows
        ours = st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True)
        assert len(ours) == 1
        listing = st.charon.sas()
        assert listing.count("ESTABLISHED") == 1 and listing.count("INSTALLED") == 1, listing
        # charon's inbound SPI is our outbound one and the reverse
        assert re.search(rf"in  {ours[0]['outbound-spi']:08x},", listing), listing
        assert re.search(rf"out {ours[0]['inbound-spi']:08x},", listing), listing
        assert_traffic(st)
        # charon stops: its Delete takes our tunnel down at once
        st.charon.stop()
        end = time.time() + 5
        while time.time() < end and st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True):
            time.sleep(0.1)
        assert st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
        assert stats()["ike-sa-deleted"] >= s2["ike-sa-deleted"] + 1
    finally:
        assert st.close() == 0


def test_dpd_when_strongswan_vanishes(tmp_path):
    st = Setup(tmp_path, "gcm", 19, initiate=True, dpd="{interval: 10, retries: 2, mode: periodic}")
    try:
        st.up()
        assert_traffic(st)
        st.charon.kill()
        t0 = time.time()
        while time.time() - t0 < 40 and st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True):
            time.sleep(0.5)
        assert st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True) == [], st.fh.log_text()[-2000:]
        s = st.fh.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        assert s["dpd-sent"] >= 1 and s["dpd-peer-dead"] == 1, s
        assert "peer is dead (DPD)" in st.fh.log_text()
        # the tunnel is down for traffic: it is dropped and counted, not leaked
        r = ping_lan(st, count=2)
        assert r.returncode != 0
        assert st.fh.counters()["dataplane"]["drop-tunnel-down"] >= 1
    finally:
        assert st.close() == 0


def test_ikev2_fragmentation_both_ways(tmp_path):
    """RFC 7383 with a peer nobody here wrote: charon fragments its messages at 300 bytes, flexhub
    at 200; each reassembles the other's, the tunnel comes up and rekeys through fragments."""
    st = Setup(tmp_path, "cbc", 14, initiate=False, frag_mtu=200, charon_extra="fragment_size = 300")
    try:
        st.up()
        assert_traffic(st)
        assert st.charon.swanctl("--rekey", "--child", "net").returncode == 0
        time.sleep(1)
        s = st.fh.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        assert s["fragments-received"] >= 2 and s["fragments-sent"] >= 2, s
        assert s["child-sa-rekeyed"] == 1, s
        assert "fragment" in st.charon.log_text().lower()
        assert_traffic(st)
    finally:
        assert st.close() == 0


def test_pfs_rekeys_both_ways(tmp_path):
    """PFS (set pfs group 19 / esp_proposals ...-ecp256): each child rekey carries a fresh KE, from
    strongSwan's side and from ours."""
    st = Setup(tmp_path, "gcm", 14, initiate=True, pfs=19)
    try:
        st.up()
        assert_traffic(st)
        assert st.charon.swanctl("--rekey", "--child", "net").returncode == 0
        time.sleep(0.5)
        st.fh.ctl("crypto", "ikev2", "rekey", "child")
        time.sleep(1)
        s = st.fh.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        assert s["child-sa-rekeyed"] == 2 and s["no-proposal-chosen"] == 0, s
        assert "ECP_256" in st.charon.sas(), st.charon.sas()  # charon lists the PFS group of its child
        assert_traffic(st)
    finally:
        assert st.close() == 0


@pytest.mark.parametrize("case", ["wrong-psk", "no-proposal"])
def test_strongswan_refused(tmp_path, case):
    """strongSwan initiates with a wrong key / only AES-128 for IKE: flexhub answers
    AUTHENTICATION_FAILED / NO_PROPOSAL_CHOSEN, charon reports the failure, nothing is installed."""
    swan = (swanctl_config("cbc", 14, secret="not-cisco123") if case == "wrong-psk"
            else swanctl_config("cbc", 14, ike="aes128-sha256-modp2048"))
    st = Setup(tmp_path, "cbc", 14, initiate=False, swan=swan)
    try:
        r = st.charon.initiate()
        assert r.returncode != 0, r.stdout
        s = st.fh.ctl("show", "crypto", "ikev2", "stats", json_out=True)
        if case == "wrong-psk":
            assert s["authentication-failed"] >= 1, s
            assert "AUTHENTICATION_FAILED" in r.stdout, r.stdout  # swanctl shows charon's log of it
        else:
            assert s["no-proposal-chosen"] >= 1, s
            assert "NO_PROPOSAL_CHOSEN" in r.stdout, r.stdout
        assert st.fh.ctl("show", "crypto", "ipsec", "sa", json_out=True) == []
        assert "READY" not in st.fh.ctl("show", "crypto", "ikev2", "sa").stdout
    finally:
        assert st.close() == 0


def test_child_deleted_by_strongswan_comes_back(tmp_path):
    """charon deletes the only child SA (swanctl --terminate --child): flexhub deletes the empty IKE
    SA and, as the tunnel's initiator, negotiates the tunnel again."""
    st = Setup(tmp_path, "cbc", 19, initiate=True)
    try:
        first = st.up()
        assert_traffic(st)
        r = st.charon.swanctl("--terminate", "--child", "net")
        assert r.returncode == 0, r.stdout + r.stderr
        end = time.time() + 25
        sas = []
        while time.time() < end:
            sas = [s for s in st.fh.ctl("show", "crypto", "ikev2", "sa", json_out=True)
                   if s["status"] == "READY" and s["child-sas"] >= 1 and s["spi-i"] != first["spi-i"]]
            if sas:
                break
            time.sleep(0.3)
        assert sas, st.fh.log_text()[-2000:]
        assert "peer deleted the last child SA" in st.fh.log_text()
        assert_traffic(st)
    finally:
        assert st.close() == 0
