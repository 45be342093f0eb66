#!/usr/bin/python3
"""Markdown tables from scripts/bench/scale.sh's JSON lines: medians over the repetitions.
spread/one = all / one, with all the mean of the two "all" phases around "one" (same daemon);
churn/quiet = churn / mean of the "all" phases around it."""
import json
import statistics as st
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fw = [r for r in rows if r["test"] == "scale-forward"]
sp = [r for r in rows if r["test"] == "scale-start"]
ns = sorted({r["tunnels"] for r in rows})
sizes = []
for r in fw:
    if r["size"] not in sizes:
        sizes.append(r["size"])
med = st.median


def f(x, d=2):
    return "-" if x is None else f"{x:,.{d}f}"


print("Start, memory, install, show (medians over %d daemon starts per N; install/show: one per repetition)\n"
      % max(1, len([r for r in sp if r["tunnels"] == ns[0]])))
print("| tunnels | start (s) | VmRSS after start (MiB) | VmHWM (MiB) | hugepages mapped (MiB) | RSS + hugepages (MiB) "
      "| install (pairs/s) | remove (pairs/s) | VmHWM after install N more (MiB) | show crypto ipsec sa (s) | --json (s) "
      "| show crypto ikev2 sa (s) | runs |")
print("|" + "---|" * 13)
for n in ns:
    s = [r for r in sp if r["tunnels"] == n]
    i = [r for r in s if "install" in r]
    mib = lambda k, rs: med(r[k] for r in rs) / 1024 if rs else None
    rss, hwm, htlb = mib("rss_kib", s), mib("hwm_kib", s), mib("hugetlb_kib", s)
    hwm_all = max(r.get("hwm_after_install_kib", r["hwm_kib"]) for r in s) / 1024
    print(f"| {n:,} | {f(med(r['start_s'] for r in s))} | {f(rss, 0)} | {f(hwm, 0)} | {f(htlb, 0)} | "
          f"{f(hwm_all + htlb, 0)} | "
          f"{f(med(r['install']['install-per-s'] for r in i), 0) if i else '-'} | "
          f"{f(med(r['install']['remove-per-s'] for r in i), 0) if i else '-'} | "
          f"{f(mib('hwm_after_install_kib', i), 0)} | {f(med(r['show_ipsec_sa_s'] for r in i), 3) if i else '-'} | "
          f"{f(med(r['show_ipsec_sa_json_s'] for r in i), 3) if i else '-'} | "
          f"{f(med(r['show_ikev2_sa_s'] for r in i), 3) if i else '-'} | {len(s)} |")
print()
print("Forwarding, LAN -> encrypt (esp-aes 256 + esp-sha-hmac, GRE) -> WAN, Mpps at the receiver "
      "(medians over the repetitions; ratios per run, then the median)\n")
print("| tunnels | frame | one tunnel | all N tunnels (quiet) | all, churn 1,000 pairs/s | spread/one | churn/quiet "
      "| all vs one at N=1's daemon | runs | churn status (last run) |")
print("|" + "---|" * 10)
base = {}
for size in sizes:
    for n in ns:
        rs = [r for r in fw if r["tunnels"] == n and r["size"] == size]
        if not rs:
            continue
        p = lambda r, k: r["phases"][k]["rx_mpps"]
        one = med(p(r, "one") for r in rs)
        allq = med((p(r, "all0") + p(r, "all1") + p(r, "all2")) / 3 for r in rs)
        ch = med(p(r, "churn") for r in rs)
        r1 = med((p(r, "all0") + p(r, "all1")) / 2 / p(r, "one") for r in rs)
        r2 = med(p(r, "churn") / ((p(r, "all1") + p(r, "all2")) / 2) for r in rs)
        if n == ns[0]:
            base[size] = one
        print(f"| {n:,} | {size} | {f(one)} | {f(allq)} | {f(ch)} | {r1:.3f}x | {r2:.3f}x | "
              f"{allq / base[size]:.3f}x | {len(rs)} | {rs[-1]['churn_status']} |")
