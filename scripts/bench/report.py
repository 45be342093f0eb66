#!/usr/bin/python3
"""Markdown tables from scripts/bench/run.sh results: every device under test beside the crypto
floor and beside each other, all from the same run."""
import json
import sys

IMIX_AVG = (7 * 64 + 4 * 594 + 1518) / 12  # bytes per frame of the 7:4:1 IMIX
DUTS = [("flexhub-gre", "flexhub, GRE over IPsec (FlexVPN)"), ("flexhub-ipsec", "flexhub, IPsec tunnel mode"),
        ("secgw", "DPDK ipsec-secgw (22.11 example)")]


def frame_bytes(size):
    return IMIX_AVG if size == "imix" else float(size)


rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
floors = {(r["encr"], r["size"]): r["floor"] for r in rows if r["test"] == "floor"}
res = {(r["test"], r["encr"], r["size"], r["dir"]): r["gen"]["rx_mpps"] for r in rows if "gen" in r}
# flexhub's busy cycles per packet: worker iterations that had packets, over packets received
busy = {(r["test"], r["encr"], r["size"], r["dir"]): r["hub"]["busy_cycles"] / r["hub"]["rx_packets"]
        for r in rows if r.get("hub") and r["hub"].get("rx_packets")}
mem = next((r["memory"] for r in rows if "memory" in r), "?")
print(f"Memory: {mem}. One worker lcore per device under test, generator on the other core.")
print("Mpps at the receiving side; Gbit/s of plaintext frames (no FCS); cycles/packet = TSC Hz / packet rate; "
      "busy c/pkt = TSC cycles of flexhub worker iterations that had packets (RX, processing, TX), per packet; "
      "floor/busy = the crypto floor's cycles/packet over flexhub's busy cycles/packet (1.00x: flexhub costs no "
      "more than the crypto alone).\n")
fwd = [(k[2], v) for k, v in res.items() if k[3] == "forward"]
if fwd:
    print("Plain IPv4 routing by flexhub through the same links, no tunnel (the I/O ceiling here):\n")
    print("| frame | Mpps (Gbit/s) |\n|---|---|")
    for size, m in fwd:
        print(f"| {size} | {m:.2f} ({m * frame_bytes(size) * 8 / 1000:.1f}) |")
    print()
for (encr, size), f in floors.items():
    name = encr + ("" if f["integ"] == "none" else " + " + f["integ"])
    print(f"\n{name}, {size} B frames: crypto floor {f['mpps']:.2f} Mpps ({f['gbps']:.1f} Gbit/s), "
          f"{f['cycles_per_packet']} cycles/packet\n")
    print("| device | encrypt Mpps (Gbit/s) | vs floor | vs secgw | cycles/pkt | busy c/pkt | floor/busy "
          "| decrypt Mpps (Gbit/s) | vs floor | vs secgw | cycles/pkt | busy c/pkt | floor/busy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dut, label in DUTS:
        line = [label]
        for d in ("encrypt", "decrypt"):
            m = res.get((dut, encr, size, d))
            ref = res.get(("secgw", encr, size, d))
            b = busy.get((dut, encr, size, d))
            if m is None:
                line += ["-"] * 6
                continue
            line += [f"{m:.2f} ({m * frame_bytes(size) * 8 / 1000:.1f})", f"{m / f['mpps']:.2f}x",
                     f"{m / ref:.2f}x" if ref else "-", f"{f['tsc_hz'] / (m * 1e6):.0f}" if m > 0 else "-",
                     f"{b:.0f}" if b else "-", f"{f['cycles_per_packet'] / b:.2f}x" if b else "-"]
        print("| " + " | ".join(line) + " |")

ss = {(r["encr"], r["size"]): r["gen"]["rx_mpps"] for r in rows if r["test"] == "strongswan"}
if ss:
    print("\nstrongSwan 5.9.8 userspace ESP (charon + kernel-libipsec; iperf3 UDP through the tunnel, A encrypts, B "
          "decrypts, all sharing the two vCPUs), beside flexhub's GRE-over-IPsec encrypt rate from the table above:\n")
    print("| cipher | frame | strongSwan Mpps (Gbit/s) | flexhub encrypt Mpps | flexhub / strongSwan |")
    print("|---|---|---|---|---|")
    for (encr, size), m in ss.items():
        fh = res.get(("flexhub-gre", encr, size, "encrypt"))
        print(f"| {encr} | {size} | {m:.3f} ({m * frame_bytes(size) * 8 / 1000:.2f}) | "
              f"{fh:.2f} | {fh / m:.0f}x |" if fh and m else f"| {encr} | {size} | {m:.3f} | - | - |")
