"""Site-to-site over static SAs: two flexhub routers (the guide's RouterA and RouterB) in their own
namespaces, wired Gi1 to Gi1, each with a LAN namespace on Gi2. LAN A pings LAN B through Tunnel0:
GRE inside ESP (aes-cbc-256 / hmac-sha1-96), manual keys from config/site-to-site-static-*.yaml.
"""
import re
import time

import pytest

from fh import ROOT, Daemon, Lab, can_use_netns, run, site_to_site_lab

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))


def ping(ns, addr, count=3, size=56, timeout=2, extra=()):
    return run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.2", "-W", str(timeout), "-s", str(size),
                *extra, addr], check=False)


@pytest.fixture(scope="module")
def s2s(tmp_path_factory):
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    d = tmp_path_factory.mktemp("s2s")
    ra = Daemon(a, (ROOT / "config/site-to-site-static-a.yaml").read_text(), d, "RouterA").start()
    rb = Daemon(b, (ROOT / "config/site-to-site-static-b.yaml").read_text(), d, "RouterB").start()
    yield lab, ra, rb, la, lb
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text() + rb.log_text()


def test_lan_to_lan_through_tunnel0(s2s):
    lab, ra, rb, la, lb = s2s
    # the first packets may be spent on ARP (as IOS shows ".!!!!"); after that none is lost
    ping(la, "10.20.2.2", count=2)
    r = ping(la, "10.20.2.2", count=10)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    # both directions were encrypted and decrypted by the routers, not leaked in clear
    ca, cb = ra.counters()["dataplane"], rb.counters()["dataplane"]
    assert ca["esp-encaps"] >= 10 and ca["esp-decaps"] >= 10
    assert cb["esp-encaps"] >= 10 and cb["esp-decaps"] >= 10
    assert ca["drop-esp-auth"] == 0 and ca["drop-esp-replay"] == 0


def test_big_packets_up_to_the_tunnel_mtu(s2s):
    lab, ra, rb, la, lb = s2s
    sa = ra.ctl("show", "crypto", "ipsec", "sa", json_out=True)[0]
    mtu = sa["plaintext-mtu"]
    # GRE (24) + ESP with aes-cbc-256/sha1 over a 1500-byte path
    assert 1380 <= mtu <= 1420, mtu
    # without DF, a packet over the tunnel MTU is fragmented before encryption and arrives whole
    # (LAN B reassembles). Kept under the LAN's 1500: af_packet's fanout would reassemble
    # fragments the LAN host made itself, so only fragments of our own making are tested.
    before = ra.counters()["dataplane"]["fragmented-before-encryption"]
    r = ping(la, "10.20.2.2", count=3, size=mtu - 28 + 40, extra=("-M", "dont"))
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout
    assert ra.counters()["dataplane"]["fragmented-before-encryption"] - before == 6
    assert ping(la, "10.20.2.2", count=2, size=mtu - 28, extra=("-M", "do")).returncode == 0
    before = ra.counters()
    r = ping(la, "10.20.2.2", count=1, size=mtu - 28 + 1, timeout=1, extra=("-M", "do"))
    assert r.returncode != 0
    # DF set: RouterA answers "fragmentation needed" with the tunnel's MTU (RFC 1191)
    assert f"Frag needed and DF set (mtu = {mtu})" in r.stdout, r.stdout
    after = ra.counters()
    assert after["dataplane"]["drop-too-big"] == before["dataplane"]["drop-too-big"] + 1
    assert after["control"]["icmp-errors-sent"] == before["control"]["icmp-errors-sent"] + 1



def test_ttl_expiry_is_reported(s2s):
    lab, ra, rb, la, lb = s2s
    r = ping(la, "10.20.2.2", count=1, timeout=1, extra=("-t", "1"))
    assert "From 10.10.1.10" in r.stdout and "Time to live exceeded" in r.stdout, r.stdout
    # TTL 2 expires at RouterB, which answers through the tunnel from its Tunnel0 side
    r = ping(la, "10.20.2.2", count=1, timeout=1, extra=("-t", "2"))
    assert "Time to live exceeded" in r.stdout, r.stdout
    assert rb.counters()["dataplane"]["drop-ttl-expired"] >= 1


def test_show_crypto_ipsec_sa(s2s):
    lab, ra, rb, la, lb = s2s
    ping(la, "10.20.2.2", count=3)
    text = rb.ctl("show", "crypto", "ipsec", "sa").stdout
    assert "interface: Tunnel0" in text
    assert "local  ident (addr/mask/prot/port): (192.168.0.20/255.255.255.255/47/0)" in text
    assert "remote ident (addr/mask/prot/port): (192.168.0.10/255.255.255.255/47/0)" in text
    assert "current outbound spi: 0x0000A001(40961)" in text
    assert "transform: esp-256-aes esp-sha-hmac ," in text
    enc = int(re.search(r"#pkts encaps: (\d+)", text).group(1))
    dec = int(re.search(r"#pkts decaps: (\d+)", text).group(1))
    assert enc >= 3 and dec >= 3
    js = rb.ctl("show", "crypto", "ipsec", "sa", json_out=True)
    assert js[0]["inbound-spi"] == 0xb001 and js[0]["outbound-spi"] == 0xa001
    rows = {l.split()[0]: l.split() for l in rb.ctl("show", "ip", "interface", "brief").stdout.splitlines()[1:]}
    assert rows["Tunnel0"][1:] == ["10.1.120.20", "YES", "manual", "up", "up"]


def test_tunnel_addresses_answer_through_the_tunnel(s2s):
    """10.1.120.20 is RouterB's Tunnel0 address: A reaches it only through the tunnel."""
    lab, ra, rb, la, lb = s2s
    run(["ip", "-n", la, "route", "replace", "10.1.120.0/24", "via", "10.10.1.10"])
    before = rb.counters()["control"]["icmp-echo-replies"]
    assert ping(la, "10.1.120.20", count=3).returncode == 0
    assert rb.counters()["control"]["icmp-echo-replies"] >= before + 3


def test_reload_keeps_the_sas_running(s2s):
    """An unchanged static SA survives a reload: sequence numbers go on, the peer's window agrees."""
    lab, ra, rb, la, lb = s2s
    enc = ra.ctl("show", "crypto", "ipsec", "sa", json_out=True)[0]["encaps"]
    ra.ctl("configure", "replace")
    assert ra.ctl("show", "crypto", "ipsec", "sa", json_out=True)[0]["encaps"] == enc
    r = ping(la, "10.20.2.2", count=5)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout
    assert rb.counters()["dataplane"]["drop-esp-replay"] == 0
