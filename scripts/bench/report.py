#!/usr/bin/python3
"""Markdown table from scripts/bench/run.sh results: flexhub beside the crypto floor, same run."""
import json
import sys

IMIX_AVG = (7 * 64 + 4 * 594 + 1518) / 12  # bytes per frame of the 7:4:1 IMIX


def frame_bytes(size):
    return IMIX_AVG if size == "imix" else float(size)


rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
floors = {(r["encr"], r["size"]): r["floor"] for r in rows if r["test"] == "floor"}
hub = {(r["encr"], r["size"], r["dir"]): r for r in rows if r["test"] == "flexhub"}
mem = next((r["memory"] for r in rows if r["test"] == "flexhub"), "?")
print(f"Memory: {mem}. One worker lcore; Gbit/s counts plaintext frames (without FCS).\n")
fwd = {r["size"]: r for r in rows if r["test"] == "flexhub" and r["dir"] == "forward"}
if fwd:
    print("Plain IPv4 routing through the same ports, no tunnel (the I/O ceiling of this setup):\n")
    print("| frame | Mpps (Gbit/s) |\n|---|---|")
    for size, r in fwd.items():
        m = r["gen"]["rx_mpps"]
        print(f"| {size} | {m:.2f} ({m * frame_bytes(size) * 8 / 1000:.1f}) |")
    print()
print("| cipher | frame | crypto floor Mpps (Gbit/s) | encrypt Mpps (Gbit/s) | vs floor | cycles/pkt | "
      "decrypt Mpps (Gbit/s) | vs floor | cycles/pkt |")
print("|---|---|---|---|---|---|---|---|---|")
for (encr, size), f in floors.items():
    line = [encr + ("" if f["integ"] == "none" else " + " + f["integ"]), size,
            f"{f['mpps']:.2f} ({f['gbps']:.1f})"]
    for d in ("encrypt", "decrypt"):
        h = hub.get((encr, size, d))
        if h is None:
            line += ["-", "-", "-"]
            continue
        mpps = h["gen"]["rx_mpps"]
        gbps = mpps * frame_bytes(size) * 8 / 1000
        cpp = f["tsc_hz"] / (mpps * 1e6) if mpps > 0 else float("inf")
        line += [f"{mpps:.2f} ({gbps:.1f})", f"{mpps / f['mpps']:.2f}x", f"{cpp:.0f}"]
    print("| " + " | ".join(line) + " |")
