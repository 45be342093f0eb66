"""NAT traversal (RFC 7296 2.23, RFC 3948): RouterA sits behind a namespace that masquerades with
nftables; RouterB is outside and only ever sees the NAT's address. IKE detects the NAT, both move
to port 4500, ESP goes in UDP, and A's keepalives hold the NAT mapping open.

    LAN A -- [flexhub A] 192.168.0.10 -- 192.168.0.1 [nft masquerade] 198.51.100.1 -- 198.51.100.20 [flexhub B] -- LAN B
"""
import shutil
import time

import pytest

from fh import Daemon, Lab, can_use_netns, run

pytestmark = [pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns())),
              pytest.mark.skipif(shutil.which("nft") is None, reason="nftables (nft) is not installed")]


def config(name, gi1, peer, peer_id, lan, remote_lan, initiate, extra_routes="", keepalive=0, tun="10.1.120.10/24"):
    return f"""hostname: {name}
control-socket: /run/{name}.sock
dataplane: {{workers: 1, idle-sleep-us: 200}}
crypto:
  ikev2:
    proposals:
      PROP: {{encryption: aes-cbc-256, integrity: sha256, group: 19}}
    policies:
      POL: {{proposals: PROP}}
    keyrings:
      KR:
        peers:
          PEER: {{address: {peer}, pre-shared-key: cisco123}}
    profiles:
      PROF:
        match-identity-remote: {{address: {peer_id}}}
        authentication-remote: pre-share
        authentication-local: pre-share
        keyring: KR
        nat-keepalive: {keepalive}
  ipsec:
    transform-sets:
      TS: {{encryption: esp-gcm 256, mode: tunnel}}
    profiles:
      IPP: {{transform-sets: TS, ikev2-profile: PROF}}
interfaces:
  Tunnel0:
    ip-address: {tun}
    tunnel-source: GigabitEthernet1
    tunnel-destination: {peer}
    tunnel-mode: ipsec ipv4
    tunnel-protection: IPP
    tunnel-initiate: {initiate}
  GigabitEthernet1:
    device: net_af_packet0,iface={name[-1].lower()}-gi1
    ip-address: {gi1}
  GigabitEthernet2:
    device: net_af_packet1,iface={name[-1].lower()}-gi2
    ip-address: {lan}
ip:
  routes:
    - {{prefix: {remote_lan}, interface: Tunnel0}}
{extra_routes}"""


@pytest.fixture(scope="module")
def natlab(tmp_path_factory):
    lab = Lab()
    a, n, b, la, lb = lab.ns("a"), lab.ns("n"), lab.ns("b"), lab.ns("la"), lab.ns("lb")
    lab.veth(a, "a-gi1", n, "n-in", "192.168.0.1/24")
    lab.veth(n, "n-out", b, "b-gi1")
    run(["ip", "-n", n, "addr", "add", "198.51.100.1/24", "dev", "n-out"])
    run(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    r = run(["ip", "netns", "exec", n, "nft", "add table ip nat; "
             "add chain ip nat post { type nat hook postrouting priority 100 ; } ; "
             "add rule ip nat post oifname n-out masquerade"], check=False)
    if r.returncode != 0:
        lab.close()
        pytest.skip("nftables NAT unavailable here: " + r.stderr.strip())
    lab.veth(a, "a-gi2", la, "la-gi2", "10.10.1.20/24")
    lab.veth(b, "b-gi2", lb, "lb-gi2", "10.20.2.2/24")
    run(["ip", "-n", la, "route", "add", "default", "via", "10.10.1.10"])
    run(["ip", "-n", lb, "route", "add", "default", "via", "10.20.2.20"])
    d = tmp_path_factory.mktemp("natt")
    ra = Daemon(a, config("RouterA", "192.168.0.10/24", "198.51.100.20", "198.51.100.20", "10.10.1.10/24",
                          "10.20.2.0/24", "true", "    - {prefix: 198.51.100.0/24, next-hop: 192.168.0.1}\n",
                          keepalive=5), d, "RouterA").start()
    # B knows A only by the NAT's address (keyring, tunnel) and by A's own identity (profile)
    rb = Daemon(b, config("RouterB", "198.51.100.20/24", "198.51.100.1", "192.168.0.10", "10.20.2.20/24",
                          "10.10.1.0/24", "false", tun="10.1.120.20/24"), d, "RouterB").start()
    yield lab, ra, rb, la, lb, n
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text() + rb.log_text()


def ready(router, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        sas = [s for s in router.ctl("show", "crypto", "ikev2", "sa", json_out=True) if s["status"] == "READY"]
        if sas and sas[0]["child-sas"] >= 1:
            return sas[0]
        time.sleep(0.2)
    raise AssertionError("no IKE SA through the NAT:\n" + router.log_text()[-3000:])


def test_nat_detected_and_traffic_in_udp_4500(natlab):
    lab, ra, rb, la, lb, n = natlab
    sa_a, sa_b = ready(ra), ready(rb)
    assert sa_a["nat-local"] and not sa_a["nat-remote"] and sa_a["local-port"] == 4500, sa_a
    assert sa_b["nat-remote"] and sa_b["remote"] == "198.51.100.1" and sa_b["local-port"] == 4500, sa_b
    run(["ip", "netns", "exec", la, "ping", "-c", "2", "-W", "2", "10.20.2.2"], check=False)
    r = run(["ip", "netns", "exec", la, "ping", "-c", "10", "-i", "0.2", "-W", "2", "10.20.2.2"], check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    r = run(["ip", "netns", "exec", lb, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.10.1.20"], check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    for router in (ra, rb):
        sa = router.ctl("show", "crypto", "ipsec", "sa", json_out=True)
        assert len(sa) == 1 and sa[0]["encaps"] >= 5 and sa[0]["decaps"] >= 5, sa


def test_keepalives_from_behind_the_nat(natlab):
    lab, ra, rb, la, lb, n = natlab
    ready(rb)
    before = rb.counters()["control"]["natt-keepalives-received"]
    time.sleep(7)
    assert rb.counters()["control"]["natt-keepalives-received"] >= before + 1
    assert ra.ctl("show", "crypto", "ikev2", "stats", json_out=True)["nat-keepalives"] >= 1
    assert rb.ctl("show", "crypto", "ikev2", "stats", json_out=True)["nat-keepalives"] == 0
