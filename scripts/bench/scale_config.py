#!/usr/bin/python3
"""Router config with N static tunnels for scripts/bench/scale.sh (standalone; the idea of
tests/integration/test_scale.py's config("a", n)): Tunnel i with its own manually keyed SA pair
(esp-aes 256 + esp-sha-hmac, SPIs 0x10000+i in / 0x20000+i out), route 172.(16+i/256).(i%256).0/24
via Tunnel i, all tunnels to the same far router 192.168.0.20 (static ARP) on GigabitEthernet1;
GigabitEthernet1 (WAN) and GigabitEthernet2 (LAN) are memif clients of flexhub-gen, as in run.sh.

  scale_config.py N WORKDIR [--huge-dir DIR] [--memory-mb M] [--tunnel-mode gre|ipsec]
"""
import argparse

GEN_MAC_WAN, GEN_MAC_LAN = "02:00:00:00:be:02", "02:00:00:00:be:01"
HUB_MAC_WAN, HUB_MAC_LAN = "02:00:00:00:f1:01", "02:00:00:00:f1:02"


def config(n, work, huge_dir=None, memory_mb=512, tmode="gre", extra_limits=None):
    out = ["hostname: bench-scale", f"control-socket: {work}/hub.sock", "dataplane:", "  workers: 1",
           "  idle-sleep-us: 0", "  mbufs: 16383", f"  memory-mb: {memory_mb}"]
    if huge_dir:
        out += ["  hugepages: true",
                f'  eal-args: ["--huge-dir={huge_dir}", "--file-prefix=fhs-hub", "--no-shconf"]']
    else:
        out += ['  eal-args: ["--no-shconf"]']
    if extra_limits:
        out.append("limits:")
        out += [f"  {k}: {v}" for k, v in extra_limits.items()]
    out += ["crypto:", "  ipsec:", "    static-sas:"]
    for i in range(n):
        si, so = 0x10000 + i, 0x20000 + i
        ki, ko = f"{i:08x}" * 8, f"{i:08x}"[::-1] * 8
        out += [f"      SA{i}:", f"        interface: Tunnel{i}", f"        spi-in: {si}", f"        spi-out: {so}",
                "        encryption: esp-aes 256", "        integrity: esp-sha-hmac", "        replay-window: 0",
                f"        encryption-key-in: {ki}", f"        encryption-key-out: {ko}",
                f"        integrity-key-in: {ki[:40]}", f"        integrity-key-out: {ko[:40]}"]
    out.append("interfaces:")
    for i in range(n):
        out += [f"  Tunnel{i}:", "    tunnel-source: GigabitEthernet1", "    tunnel-destination: 192.168.0.20",
                f"    tunnel-mode: {tmode}"]
    out += ["  GigabitEthernet1:",
            f"    device: net_memif0,role=client,socket={work}/wan.sock,id=0,mac={HUB_MAC_WAN}",
            "    ip-address: 192.168.0.10/24",
            "  GigabitEthernet2:",
            f"    device: net_memif1,role=client,socket={work}/lan.sock,id=0,mac={HUB_MAC_LAN}",
            "    ip-address: 10.10.1.10/24",
            "ip:", "  routes:"]
    for i in range(n):
        out.append(f"    - {{prefix: 172.{16 + i // 256}.{i % 256}.0/24, interface: Tunnel{i}}}")
    out += ["  arp:", f"    - {{address: 192.168.0.20, mac: {GEN_MAC_WAN}, interface: GigabitEthernet1}}"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("work")
    ap.add_argument("--huge-dir")
    ap.add_argument("--memory-mb", type=int, default=512)
    ap.add_argument("--tunnel-mode", default="gre")
    a = ap.parse_args()
    assert 1 <= a.n <= 65536, "prefixes 172.16.0.0/24 .. 172.(16+255).255.0/24"
    print(config(a.n, a.work, a.huge_dir, a.memory_mb, a.tunnel_mode), end="")
