"""IKEv2 against bad and hostile peers: malformed and truncated messages, an unknown critical
payload, a wrong major version, no proposal chosen, a KE of the wrong group, and a flood of
IKE_SA_INIT from many source ports. Each is answered or dropped as RFC 7296 says and counted; the
established tunnel keeps forwarding throughout.

Messages are built here byte by byte (struct), independently of flexhub's encoder; scapy sends
them from RouterA's side of the wire (source 192.168.0.10, fresh source ports) to RouterB, and
captures what RouterB answers.
"""
import os
import struct
import time

import pytest

from fh import PYTHON, ROOT, Daemon, Lab, can_use_netns, run, site_to_site_lab

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))

# RFC 3526 group 14 prime, for real public values (g = 2)
P14 = int("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
          "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE"
          "386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83"
          "655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39"
          "E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728"
          "E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def payload(next_type, body, critical=False):
    return struct.pack("!BBH", next_type, 0x80 if critical else 0, 4 + len(body)) + body


def transform(last, ttype, tid, key_bits=0):
    attr = struct.pack("!HH", 0x800E, key_bits) if key_bits else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attr), ttype, 0, tid) + attr


def sa_payload(encr=12, bits=256, prf=5, integ=12, group=14):
    xf = (transform(False, 1, encr, bits) + transform(False, 2, prf) + transform(False, 3, integ) +
          transform(True, 4, group))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(xf), 1, 1, 0, 4) + xf
    return prop


def ike_sa_init(spi, group=14, ke_group=None, encr=12, bits=256, extra=b"", extra_type=None, version=0x20):
    """IKE_SA_INIT request: [extra payload] SA, KE, Ni. Returns the message bytes."""
    x = int.from_bytes(os.urandom(32), "big")
    ke_data = pow(2, x, P14).to_bytes(256, "big") if (ke_group or group) == 14 else os.urandom(64)
    chain = []  # (type, body, critical)
    if extra_type is not None:
        chain.append((extra_type, extra, True))
    chain += [(33, sa_payload(encr=encr, bits=bits, group=group), False),
              (34, struct.pack("!HH", ke_group or group, 0) + ke_data, False),
              (40, os.urandom(32), False)]
    body = b""
    for i, (t, b, crit) in enumerate(chain):
        nxt = chain[i + 1][0] if i + 1 < len(chain) else 0
        body += payload(nxt, b, crit)
    hdr = spi + b"\0" * 8 + struct.pack("!BBBBII", chain[0][0], version, 34, 0x08, 0, 28 + len(body))
    return hdr + body


SENDER = r"""
import sys, pickle
from scapy.all import *
conf.verb = 0
msgs, want_answer = pickle.load(open(sys.argv[1], "rb"))
src_mac = get_if_hwaddr("a-gi1")
dst_mac = sys.argv[2]
frames = []
for i, m in enumerate(msgs):
    frames.append(Ether(src=src_mac, dst=dst_mac)/IP(src="192.168.0.10", dst="192.168.0.20")/
                  UDP(sport=20000 + i, dport=500)/Raw(m))
if want_answer:
    s = AsyncSniffer(iface="a-gi1", filter="udp and src host 192.168.0.20 and src port 500 and dst portrange 20000-29999")
    s.start()
    time.sleep(0.3)
    sendp(frames, iface="a-gi1")
    time.sleep(1.5)
    got = s.stop()
    out = [bytes(p[UDP].payload) for p in got if UDP in p]
else:
    sendp(frames, iface="a-gi1", inter=0.002)
    out = []
pickle.dump(out, open(sys.argv[1] + ".out", "wb"))
"""


def send(lab_ns, dst_mac, msgs, tmp_path, want_answer=True):
    import pickle
    f = tmp_path / f"msgs{time.time_ns()}"
    f.write_bytes(pickle.dumps((msgs, want_answer)))
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    r = run(["ip", "netns", "exec", lab_ns, PYTHON, str(script), str(f), dst_mac], check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    return pickle.loads((tmp_path / (f.name + ".out")).read_bytes())


def notifies(msg):
    """Notify types in an unencrypted IKE message (parsed here, not by flexhub)."""
    out, nxt, off = [], msg[16], 28
    while nxt != 0 and off + 4 <= len(msg):
        t, plen = nxt, struct.unpack("!H", msg[off + 2:off + 4])[0]
        if t == 41:
            out.append((struct.unpack("!H", msg[off + 6:off + 8])[0], msg[off + 8:off + plen]))
        nxt, off = msg[off], off + plen
    return out


@pytest.fixture(scope="module")
def lab2(tmp_path_factory):
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab)
    d = tmp_path_factory.mktemp("ike-neg")
    ra = Daemon(a, (ROOT / "config/site-to-site-a.yaml").read_text(), d, "RouterA").start()
    rb = Daemon(b, (ROOT / "config/site-to-site-b.yaml").read_text(), d, "RouterB").start()
    end = time.time() + 20
    while time.time() < end and not rb.ctl("show", "crypto", "ipsec", "sa", json_out=True):
        time.sleep(0.2)
    b_mac = lab.mac(b, "b-gi1")
    yield lab, ra, rb, la, lb, a, b_mac, d
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text() + rb.log_text()


def stats(r):
    return r.ctl("show", "crypto", "ikev2", "stats", json_out=True)


def test_malformed_and_truncated_are_counted(lab2):
    lab, ra, rb, la, lb, a, b_mac, d = lab2
    good = ike_sa_init(os.urandom(8))
    bad = [
        good[:10],                                  # shorter than the header
        good[:27],                                  # one byte short of the header
        good[:60],                                  # header says more than arrived
        good[:28] + b"\x00\x00\x00\x02" + good[32:],  # first payload claims 2 bytes (< 4)
        good[:24] + struct.pack("!I", len(good) + 8) + good[28:] + b"\0" * 8,  # payload chain short of the end
        good[:28] + payload(0, b"x" * 4)[:2] + b"\xff\xff" + good[32:],  # payload past the end
    ]
    before = stats(rb)["rx-malformed"]
    answers = send(a, b_mac, bad, d)
    time.sleep(0.3)
    assert stats(rb)["rx-malformed"] == before + len(bad)
    assert answers == []  # nothing is answered: none of these is a request we can parse
    assert rb.ctl("show", "crypto", "ipsec", "sa", json_out=True)  # tunnel untouched


def test_critical_version_proposal_and_ke_are_answered(lab2):
    lab, ra, rb, la, lb, a, b_mac, d = lab2
    s0 = stats(rb)
    msgs = [
        ike_sa_init(os.urandom(8), extra=b"??", extra_type=200),   # unknown critical payload
        ike_sa_init(os.urandom(8), version=0x30),                  # IKEv3
        ike_sa_init(os.urandom(8), encr=3, bits=0),                # 3DES only: no proposal
        ike_sa_init(os.urandom(8), ke_group=19),                   # proposes 14, KE of 19
    ]
    answers = send(a, b_mac, msgs, d)
    kinds = sorted(n[0] for m in answers for n in notifies(m))
    assert kinds == [1, 5, 14, 17], kinds
    for m in answers:
        for t, data in notifies(m):
            if t == 1:
                assert data == b"\xc8"  # UNSUPPORTED_CRITICAL_PAYLOAD names payload type 200
            if t == 17:
                assert data == b"\x00\x0e"  # INVALID_KE_PAYLOAD asks for group 14
    s1 = stats(rb)
    assert s1["rx-malformed"] == s0["rx-malformed"] + 2
    assert s1["no-proposal-chosen"] == s0["no-proposal-chosen"] + 1
    assert s1["invalid-ke-payload"] == s0["invalid-ke-payload"] + 1


def test_init_flood_engages_cookies_and_tunnel_keeps_forwarding(lab2):
    lab, ra, rb, la, lb, a, b_mac, d = lab2
    run(["ip", "netns", "exec", la, "ping", "-c", "2", "-W", "2", "10.20.2.2"], check=False)
    s0 = stats(rb)
    n = 300
    flood = [ike_sa_init(os.urandom(8)) for _ in range(n)]
    res = {}
    import threading
    t = threading.Thread(target=lambda: res.update(p=run(
        ["ip", "netns", "exec", la, "ping", "-c", "30", "-i", "0.1", "-W", "2", "10.20.2.2"], check=False)))
    t.start()
    send(a, b_mac, flood, d, want_answer=False)
    t.join()
    s1 = stats(rb)
    # the first 64 half-open SAs are answered in full; beyond that only cookies
    assert s1["cookie-challenges"] - s0["cookie-challenges"] >= n - 64 - 5, (s0, s1)
    assert res["p"].returncode == 0 and " 0% packet loss" in res["p"].stdout, res["p"].stdout
    ready = [s for s in rb.ctl("show", "crypto", "ikev2", "sa", json_out=True) if s["status"] == "READY"]
    assert len(ready) == 1
    # the flood left a rate-limited trace, not one line per message
    assert rb.log_text().count("\n") < 200
    # a cookie is honoured: the same INIT with the cookie the responder gave comes back with SA/KE/Nr
    spi = os.urandom(8)
    m = ike_sa_init(spi)
    ans = send(a, b_mac, [m], d)
    cookie = [data for x in ans for t, data in notifies(x) if t == 16390]
    assert cookie, ans
    with_cookie = m[:16] + bytes([41]) + m[17:24] + struct.pack("!I", len(m) + 8 + len(cookie[0])) + \
        payload(m[16], struct.pack("!BBH", 0, 0, 16390) + cookie[0]) + m[28:]
    ans = send(a, b_mac, [with_cookie], d)
    assert len(ans) == 1 and ans[0][:8] == spi and ans[0][8:16] != b"\0" * 8 and ans[0][16] == 33, ans
