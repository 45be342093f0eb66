"""Interop with an ESP implementation nobody here wrote: scapy's (python3-scapy, python3-cryptography).

One flexhub with twelve static tunnels, one per combination of algorithm (aes-cbc-256 +
hmac-sha1-96, aes-cbc-128 + hmac-sha256-128, aes-gcm-256), encapsulation (GRE over IPsec, as
FlexVPN; plain IPsec tunnel mode, as strongSwan) and transport (ESP, ESP in UDP 4500). For each,
scapy encrypts an ICMP echo request towards a host behind flexhub; flexhub must decrypt and deliver
it; the host's reply comes back through flexhub, and scapy must decrypt and verify that, byte for
byte, as the reply to what it sent.
"""
import json
import textwrap

import pytest

from fh import PYTHON, ROOT, Daemon, Lab, can_use_netns, run

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))

ALGS = [
    # name, flexhub encryption, integrity, scapy crypt, scapy auth, enc key bytes, auth key bytes
    ("cbc256-sha1", "esp-aes-256", "esp-sha-hmac", "AES-CBC", "HMAC-SHA1-96", 32, 20),
    ("cbc128-sha256", "esp-aes-128", "esp-sha256-hmac", "AES-CBC", "SHA2-256-128", 16, 32),
    ("gcm256", "esp-gcm-256", "none", "AES-GCM", "NULL", 36, 0),
]
VARIANTS = [(a, mode, udp) for a in ALGS for mode in ("gre", "ipsec") for udp in (False, True)]


def key(k, tag, n):
    return bytes((k * 31 + tag * 7 + i) & 0xff for i in range(n)).hex()


def hub_config():
    tunnels, sas, routes = [], [], []
    for k, (alg, mode, udp) in enumerate(VARIANTS):
        name, enc, integ, _, _, ekl, akl = alg
        tunnels.append(f"""
          Tunnel{k}:
            ip-address: 10.200.{k}.1/30
            tunnel-source: GigabitEthernet1
            tunnel-destination: 192.168.0.{100 + k}
            tunnel-mode: {mode}""")
        keys = f"""
            encryption-key-in: "{key(k, 1, ekl)}"
            encryption-key-out: "{key(k, 2, ekl)}\""""
        if akl:
            keys += f"""
            integrity-key-in: "{key(k, 3, akl)}"
            integrity-key-out: "{key(k, 4, akl)}\""""
        sas.append(f"""
          SA{k}:
            interface: Tunnel{k}
            spi-in: {0x1000 + k}
            spi-out: {0x2000 + k}
            encryption: {enc}
            integrity: {integ}
            udp-encap: {"true" if udp else "false"}""" + keys)
        routes.append(f"    - {{prefix: 10.99.{k}.0/24, interface: Tunnel{k}}}")
    return textwrap.dedent("""
        hostname: interop
        crypto:
          ipsec:
            static-sas:""") + textwrap.indent(textwrap.dedent("".join(sas)), "      ") + textwrap.dedent("""
        interfaces:
          GigabitEthernet1:
            device: net_af_packet0,iface=h-gi1
            ip-address: 192.168.0.10/24
          GigabitEthernet2:
            device: net_af_packet1,iface=h-gi2
            ip-address: 10.10.1.10/24""") + textwrap.indent(textwrap.dedent("".join(tunnels)), "  ") + \
        "\nip:\n  routes:\n" + "\n".join(routes) + "\n"


SCAPY = r'''
import json, sys, time
from scapy.all import *
from scapy.layers.ipsec import SecurityAssociation, ESP
conf.verb = 0
v = json.loads(sys.argv[1])
hub_mac = v["mac"]
results = {}
sniffer = AsyncSniffer(iface="s-gi1", filter=f"ether src {hub_mac} and (ip proto 50 or udp port 4500)", store=True)
sniffer.start()
time.sleep(0.5)
sas = []
for k, t in enumerate(v["variants"]):
    peer = f"192.168.0.{100 + k}"
    nat = UDP(sport=4500, dport=4500) if t["udp"] else None
    common = dict(crypt_algo=t["crypt"], auth_algo=t["auth"], tunnel_header=IP(src=peer, dst="192.168.0.10"),
                  nat_t_header=nat)
    out = SecurityAssociation(ESP, spi=0x1000 + k, crypt_key=bytes.fromhex(t["k1"]),
                              auth_key=bytes.fromhex(t["k3"]) if t["k3"] else None, **common)
    inb = SecurityAssociation(ESP, spi=0x2000 + k, crypt_key=bytes.fromhex(t["k2"]),
                              auth_key=bytes.fromhex(t["k4"]) if t["k4"] else None,
                              crypt_algo=t["crypt"], auth_algo=t["auth"],
                              tunnel_header=IP(src="192.168.0.10", dst=peer), nat_t_header=nat)
    sas.append(inb)
    inner = IP(src=f"10.99.{k}.1", dst="10.10.1.20", id=k) / ICMP(id=0x100 + k, seq=7) / Raw(b"flexhub interop %02d" % k)
    if t["mode"] == "gre":
        inner = IP(src=peer, dst="192.168.0.10", proto=47) / GRE(proto=0x0800) / inner
    sendp(Ether(dst=hub_mac) / out.encrypt(inner), iface="s-gi1")
time.sleep(1.5)
pkts = sniffer.stop()
for p in pkts:
    ip = p[IP]
    k = int(ip.dst.split(".")[3]) - 100
    if not 0 <= k < len(sas):
        continue
    t = v["variants"][k]
    r = {"udp": UDP in ip and ip[UDP].dport == 4500}
    esp = ESP(bytes(ip[UDP].payload)) if r["udp"] else ip[ESP]
    r["spi"], r["seq"] = esp.spi, esp.seq
    try:
        d = sas[k].decrypt(ip)
    except Exception as e:
        r["error"] = repr(e)
        results[str(k)] = r
        continue
    if t["mode"] == "gre":
        r["delivery"] = [d.src, d.dst, d.proto]
        d = d[GRE].payload
    r["inner"] = [d.src, d.dst, d[ICMP].type, d[ICMP].id, d[ICMP].seq, bytes(d[ICMP].payload).decode(errors="replace")]
    results[str(k)] = r
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    lab = Lab()
    h, s, l = lab.ns("h"), lab.ns("s"), lab.ns("l")
    lab.veth(h, "h-gi1", s, "s-gi1", "192.168.0.20/24")
    for k in range(len(VARIANTS)):
        run(["ip", "-n", s, "addr", "add", f"192.168.0.{100 + k}/24", "dev", "s-gi1"])
    lab.veth(h, "h-gi2", l, "l-gi2", "10.10.1.20/24")
    run(["ip", "-n", l, "route", "add", "default", "via", "10.10.1.10"])
    d = Daemon(h, hub_config(), tmp_path_factory.mktemp("interop"), "interop").start()
    # a first packet to an unknown neighbour is spent on ARP (counted as drop-no-arp): let the
    # LAN host and every peer address introduce themselves first
    run(["ip", "netns", "exec", l, "ping", "-c", "1", "-W", "2", "10.10.1.10"], check=False)
    for k in range(len(VARIANTS)):
        run(["ip", "-n", s, "neigh", "flush", "dev", "s-gi1"])  # so that the kernel ARPs from this address
        run(["ip", "netns", "exec", s, "ping", "-c", "1", "-W", "2", "-I", f"192.168.0.{100 + k}", "192.168.0.10"],
            check=False)
    yield lab, d, s
    rc = d.stop()
    lab.close()
    assert rc == 0, d.log_text()


def test_scapy_and_flexhub_agree_byte_for_byte(interop):
    lab, d, s = interop
    variants = [{"crypt": a[3], "auth": a[4], "mode": mode, "udp": udp, "k1": key(k, 1, a[5]), "k2": key(k, 2, a[5]),
                 "k3": key(k, 3, a[6]) if a[6] else "", "k4": key(k, 4, a[6]) if a[6] else ""}
                for k, (a, mode, udp) in enumerate(VARIANTS)]
    arg = json.dumps({"mac": lab.mac(d.ns, "h-gi1"), "variants": variants})
    r = run(["ip", "netns", "exec", s, PYTHON, "-c", SCAPY, arg], check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout.strip().splitlines()[-1])
    failures = []
    for k, (alg, mode, udp) in enumerate(VARIANTS):
        want = ["10.10.1.20", f"10.99.{k}.1", 0, 0x100 + k, 7, "flexhub interop %02d" % k]
        got = results.get(str(k))
        label = f"{alg[0]} {mode}{' udp4500' if udp else ''}"
        if got is None:
            failures.append(f"{label}: no reply came back")
            continue
        if "error" in got:
            failures.append(f"{label}: scapy could not decrypt: {got['error']}")
            continue
        if got["spi"] != 0x2000 + k or got["seq"] < 1 or got["udp"] != udp:
            failures.append(f"{label}: header {got}")
        if mode == "gre" and got.get("delivery") != ["192.168.0.10", f"192.168.0.{100 + k}", 47]:
            failures.append(f"{label}: GRE delivery header {got.get('delivery')}")
        if got["inner"] != want:
            failures.append(f"{label}: inner {got['inner']} != {want}")
    assert not failures, "\n".join(failures) + "\n" + json.dumps({k: v for k, v in d.counters()["dataplane"].items() if v}) + json.dumps({k: v for k, v in d.counters()["control"].items() if v})
    c = d.counters()["dataplane"]
    assert c["esp-decaps"] >= len(VARIANTS) and c["esp-encaps"] >= len(VARIANTS)
    assert c["drop-esp-auth"] == 0 and c["drop-esp-padding"] == 0


def test_tampered_and_replayed_scapy_packets_are_dropped(interop):
    """scapy builds a valid packet, then flips a bit / replays it: flexhub counts each exactly."""
    lab, d, s = interop
    a = ALGS[0]
    k = 0  # cbc256-sha1, GRE, no UDP
    code = f'''
from scapy.all import *
from scapy.layers.ipsec import SecurityAssociation, ESP
conf.verb = 0
sa = SecurityAssociation(ESP, spi={0x1000 + k}, crypt_algo="{a[3]}", crypt_key=bytes.fromhex("{key(k, 1, a[5])}"),
                         auth_algo="{a[4]}", auth_key=bytes.fromhex("{key(k, 3, a[6])}"),
                         tunnel_header=IP(src="192.168.0.{100 + k}", dst="192.168.0.10"))
sa.seq_num = 1000
inner = IP(src="192.168.0.{100 + k}", dst="192.168.0.10", proto=47)/GRE()/IP(src="10.99.0.1", dst="10.10.1.20")/ICMP()
good = sa.encrypt(inner)
raw = bytearray(bytes(sa.encrypt(inner))); raw[60] ^= 0x01   # a fresh sequence number, one bit flipped
short = IP(src="192.168.0.{100 + k}", dst="192.168.0.10", proto=50)/Raw(bytes(sa.encrypt(inner)[ESP])[:20])
e = Ether(dst="{lab.mac(d.ns, "h-gi1")}")
sendp([e/good, e/good, e/IP(bytes(raw)), e/short, e/IP(src="192.168.0.{100 + k}", dst="192.168.0.10")/ESP(spi=0x7777, seq=1)/Raw(b"x"*48)], iface="s-gi1")
'''
    before = d.counters()["dataplane"]
    r = run(["ip", "netns", "exec", s, PYTHON, "-c", code], check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    import time
    time.sleep(0.5)
    after = d.counters()["dataplane"]
    delta = {k2: after[k2] - before[k2] for k2 in after}
    delta = {k2: v for k2, v in delta.items() if v}
    assert delta.get("esp-decaps") == 1, delta          # the good one, once
    assert delta["drop-esp-replay"] == 1, delta     # its duplicate (checked before any crypto)
    assert delta["drop-esp-auth"] == 1, delta       # the flipped bit
    assert delta["drop-esp-length"] == 1, delta     # ESP cut to 20 bytes (IP length consistent)
    assert delta["drop-no-sa"] == 1, delta          # unknown SPI
    sa = [x for x in d.ctl("show", "crypto", "ipsec", "sa", json_out=True) if x["interface"] == "Tunnel0"][0]
    assert sa["auth-failures"] >= 1 and sa["replay-failures"] >= 1
