"""Thousands of tunnels in one daemon: 2,000 static tunnels between two flexhub routers, each with
its own manually keyed SA pair and its own pair of LAN prefixes, so a packet can only come back if
it went through the right tunnel both ways. Traffic through a sample of them; then half of the
tunnels (every other one: every later config index shifts) removed by a reload of both routers
while pings run on the rest, which must lose nothing and keep their SAs (sequence numbers go on).
Also: the very first packet to a neighbour nobody has ARPed for yet is held, not lost.
"""
import signal
import subprocess
import time

import pytest

from fh import Daemon, Lab, can_use_netns, run, site_to_site_lab

pytestmark = pytest.mark.skipif(can_use_netns() is not None, reason=str(can_use_netns()))

N = 2000
SAMPLE = list(range(0, N, 50)) + [N - 1]          # 41 tunnels spread over the config
KEPT = [i for i in SAMPLE if i % 2 == 1][:6]      # odd ones survive the reload


def lan_a(i):
    return f"10.{100 + i // 256}.{i % 256}.1"


def lan_b(i):
    return f"172.{16 + i // 256}.{i % 256}.1"


def config(side, n, keep=lambda i: True):
    """Router A or B with tunnels 0..n-1 (those keep() says), Tunnel i carrying LAN A prefix
    10.(100+i/256).(i%256).0/24 <-> LAN B prefix 172.(16+i/256).(i%256).0/24."""
    me, peer = ("192.168.0.10", "192.168.0.20") if side == "a" else ("192.168.0.20", "192.168.0.10")
    idx = [i for i in range(n) if keep(i)]
    out = [f"hostname: Router{side.upper()}", "dataplane:", "  workers: 1", "  idle-sleep-us: 200",
           "crypto:", "  ipsec:", "    static-sas:"]
    for i in idx:
        a, b = 0x10000 + i, 0x20000 + i
        si, so = (a, b) if side == "a" else (b, a)
        k1, k2 = f"{i:08x}" * 8, f"{i:08x}"[::-1] * 8
        ki, ko = (k1, k2) if side == "a" else (k2, k1)
        out += [f"      SA{i}:", f"        interface: Tunnel{i}", f"        spi-in: {si}", f"        spi-out: {so}",
                "        encryption: esp-aes 256", "        integrity: esp-sha-hmac",
                f"        encryption-key-in: {ki}", f"        encryption-key-out: {ko}",
                f"        integrity-key-in: {ki[:40]}", f"        integrity-key-out: {ko[:40]}"]
    out.append("interfaces:")
    for i in idx:
        out += [f"  Tunnel{i}:", "    tunnel-source: GigabitEthernet1", f"    tunnel-destination: {peer}"]
    gi2 = "10.96.0.254/11" if side == "a" else "172.31.255.254/12"
    out += ["  GigabitEthernet1:", f"    device: net_af_packet0,iface={side}-gi1", f"    ip-address: {me}/24",
            "  GigabitEthernet2:", f"    device: net_af_packet1,iface={side}-gi2", f"    ip-address: {gi2}",
            "ip:", "  routes:"]
    for i in idx:
        pfx = f"172.{16 + i // 256}.{i % 256}.0/24" if side == "a" else f"10.{100 + i // 256}.{i % 256}.0/24"
        out.append(f"    - {{prefix: {pfx}, interface: Tunnel{i}}}")
    return "\n".join(out) + "\n"


def ping(ns, src, dst, count=1, interval="0.2", timeout=2):
    return run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", str(timeout),
                "-I", src, dst], check=False)


def pairs(d):
    return {p["interface"]: p for p in d.ctl("show", "crypto", "ipsec", "sa", json_out=True)}


@pytest.fixture(scope="module")
def scale(tmp_path_factory):
    lab = Lab()
    a, b, la, lb = site_to_site_lab(lab, ("10.96.0.1/11", "10.96.0.254"), ("172.31.255.1/12", "172.31.255.254"))
    batch_a = "".join(f"addr add {lan_a(i)}/11 dev la-gi2\n" for i in SAMPLE)
    batch_b = "".join(f"addr add {lan_b(i)}/12 dev lb-gi2\n" for i in SAMPLE)
    run(["ip", "-n", la, "-batch", "-"], input=batch_a)
    run(["ip", "-n", lb, "-batch", "-"], input=batch_b)
    d = tmp_path_factory.mktemp("scale")
    ra = Daemon(a, config("a", N), d, "RouterA").start(timeout=60)
    rb = Daemon(b, config("b", N), d, "RouterB").start(timeout=60)
    yield lab, ra, rb, la, lb
    rca, rcb = ra.stop(), rb.stop()
    lab.close()
    assert rca == 0 and rcb == 0, ra.log_text()[-3000:] + rb.log_text()[-3000:]


def test_first_packet_waits_for_arp(scale):
    lab, ra, rb, la, lb = scale
    # nobody has talked yet: A must ARP for the LAN A host and B for the LAN B host; the echo and
    # its reply wait for the answers instead of being dropped
    r = ping(la, lan_a(SAMPLE[1]), lan_b(SAMPLE[1]), count=1, timeout=3)
    assert r.returncode == 0, r.stdout + r.stderr
    ca, cb = ra.counters()["control"], rb.counters()["control"]
    assert cb["neighbour-packets-queued"] >= 1 and cb["neighbour-packets-flushed"] >= 1, cb
    assert ca["neighbour-packets-queued"] >= 1 and ca["neighbour-packets-flushed"] >= 1, ca
    assert ra.counters()["dataplane"]["drop-no-arp"] == 0 and rb.counters()["dataplane"]["drop-no-arp"] == 0


def test_traffic_through_a_sample_of_2000_tunnels(scale):
    lab, ra, rb, la, lb = scale
    before_a, before_b = pairs(ra), pairs(rb)
    assert len(before_a) == N and len(before_b) == N
    failed = [i for i in SAMPLE if ping(la, lan_a(i), lan_b(i), count=2).returncode != 0]
    assert not failed, f"no echo through tunnels {failed}"
    after_a, after_b = pairs(ra), pairs(rb)
    for i in SAMPLE:
        t = f"Tunnel{i}"
        # both ways through this very tunnel: its own SA pair counted the packets on both routers
        assert after_a[t]["encaps"] - before_a[t]["encaps"] >= 2, (t, after_a[t])
        assert after_a[t]["decaps"] - before_a[t]["decaps"] >= 2, (t, after_a[t])
        assert after_b[t]["encaps"] - before_b[t]["encaps"] >= 2, (t, after_b[t])
    untouched = [t for t in (f"Tunnel{i}" for i in range(N) if i not in SAMPLE) if after_a[t]["encaps"] != 0]
    assert not untouched, f"traffic went through tunnels it was not routed to: {untouched[:5]}"
    brief = ra.ctl("show", "ip", "interface", "brief", json_out=True)
    assert sum(1 for x in brief if x["interface"].startswith("Tunnel") and x["protocol"] == "up") == N


def test_reload_removes_half_while_the_rest_forwards(scale):
    lab, ra, rb, la, lb = scale
    spis = {t: (p["inbound-spi"], p["outbound-spi"]) for t, p in pairs(ra).items()}
    # continuous pings on tunnels that stay, started before and ending after the reload
    procs = [subprocess.Popen(["ip", "netns", "exec", la, "ping", "-n", "-q", "-c", "80", "-i", "0.05", "-W", "2",
                               "-I", lan_a(i), lan_b(i)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in KEPT]
    time.sleep(1.0)
    for d, side in ((ra, "a"), (rb, "b")):
        d.cfg.write_text(f"control-socket: {d.sock}\n" + config(side, N, keep=lambda i: i % 2 == 1))
        d.signal(signal.SIGHUP)
    deadline = time.time() + 30
    while time.time() < deadline and not all("reloaded" in d.log_text() for d in (ra, rb)):
        time.sleep(0.2)
    assert all("reloaded" in d.log_text() for d in (ra, rb)), ra.log_text()[-2000:]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    for i, out in zip(KEPT, outs):
        assert " 0% packet loss" in out, f"Tunnel{i} lost packets across the reload: {out}"
    now = pairs(ra)
    assert len(now) == N // 2 and all(f"Tunnel{i}" in now for i in range(1, N, 2))
    # the tunnels that stayed kept their SA pairs: the same SPIs, counters going on
    assert all((now[t]["inbound-spi"], now[t]["outbound-spi"]) == spis[t] for t in now)
    for i in KEPT:
        assert now[f"Tunnel{i}"]["encaps"] >= 80, now[f"Tunnel{i}"]
    # the removed ones are gone from the data plane: no route, and the counters say why
    gone = [i for i in SAMPLE if i % 2 == 0][:3]
    before = ra.counters()["dataplane"]["drop-no-route"]
    for i in gone:
        assert ping(la, lan_a(i), lan_b(i), count=1, timeout=1).returncode != 0
    assert ra.counters()["dataplane"]["drop-no-route"] - before >= len(gone)
    # and the survivors still carry traffic both ways after it
    for i in KEPT:
        assert ping(la, lan_a(i), lan_b(i), count=2).returncode == 0
