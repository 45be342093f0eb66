#!/usr/bin/env bash
# Thousands of tunnels (issue 8, item 8): one flexhub with N static tunnels (each its own manually
# keyed esp-aes 256 + esp-sha-hmac pair and routed /24; scripts/bench/scale_config.py) between the
# same two net_memif links as run.sh, driven by flexhub-gen. A fresh daemon per N, frame size and
# repetition (its start time and memory each time); the show commands and install in the daemon of
# the last frame size, after its traffic (links down):
#   start    time from exec to the " up: " line; VmRSS, VmHWM and HugetlbPages of /proc/PID/status
#   show     wall time of `flexhubctl show crypto ipsec sa` (text and --json) and `show crypto ikev2 sa`
#   forward  LAN -> encrypt -> WAN packet rate, per frame size, five phases in one generator run:
#              all0, one, all1, churn, all2
#              one   = every frame to Tunnel0's prefix (--dst-count 1)
#              all   = destinations cycling over all N tunnels' prefixes (--dst-count N)
#              churn = all, while `crypto ipsec bench churn 1000 S` adds and removes 1,000 pairs/s
#   install  `crypto ipsec bench install N` (N more pairs in and out), then VmHWM again
# Raw JSON lines to --out; the Markdown table (medians over the repetitions) from scale_report.py.
#
#   sudo bash scripts/bench/scale.sh [--seconds 3] [--reps 3] [--tunnels "1 1000 10000"]
#                                    [--sizes "64 1420"] [--churn 1000] [--memory-mb 512] [--no-hugepages]
#                                    [--out FILE]      (default out: build/scale-results.jsonl)
# A run that fails (the daemon crashed: see doc/performance.md) is recorded as a scale-failure
# line with the daemon's last log lines, and the others go on.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=3 REPS=3 TUNNELS="1 1000 10000" SIZES="64 1420" CHURN=1000 HUGE=1 MEM=512
OUT=$ROOT/build/scale-results.jsonl
while (($#)); do
  case $1 in
    --seconds) SECS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --tunnels) TUNNELS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --churn) CHURN=$2; shift 2 ;;
    --memory-mb) MEM=$2; shift 2 ;;
    --no-hugepages) HUGE=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x build/app/flexhub/flexhub && -x build/app/flexhub-gen/flexhub-gen ]] || bash scripts/setup.sh >/dev/null
HUB=$ROOT/build/app/flexhub/flexhub GEN=$ROOT/build/app/flexhub-gen/flexhub-gen CTL=$ROOT/build/app/flexhubctl/flexhubctl
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/fh-scale.XXXXXX)
HUGEDIR=$WORK/huge
old_nr=$(cat /proc/sys/vm/nr_hugepages)
hub_pid= gen_pid=
cleanup() {
  [[ -n $gen_pid ]] && kill "$gen_pid" 2>/dev/null && wait "$gen_pid" 2>/dev/null
  [[ -n $hub_pid ]] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  if mountpoint -q "$HUGEDIR" 2>/dev/null; then umount "$HUGEDIR"; fi
  echo "$old_nr" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
MEMMODE="no hugepages (--no-huge -m $MEM)"
if ((HUGE)); then
  mkdir -p "$HUGEDIR"
  echo $((old_nr + 1024)) > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  if [[ $(cat /proc/sys/vm/nr_hugepages) -ge $((old_nr + 768)) ]] && mount -t hugetlbfs none "$HUGEDIR" 2>/dev/null; then
    MEMMODE="hugepages (2 MiB; flexhub -m $MEM)"
  else
    HUGE=0; echo "$old_nr" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
fi
if ((HUGE)); then GEN_MEM=(--huge-dir "$HUGEDIR" --file-prefix fhs-gen -m 512); HD=(--huge-dir "$HUGEDIR")
else GEN_MEM=(--no-huge -m 1024 --file-prefix fhs-gen); HD=(); fi
GEN_MAC_LAN=02:00:00:00:be:01 GEN_MAC_WAN=02:00:00:00:be:02 HUB_MAC_LAN=02:00:00:00:f1:02

status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >"$WORK/wall.out" 2>&1 || true; t1=$(date +%s.%N); $PY -c "print(round($t1 - $t0, 4))"; }

# the generator for one daemon run, phases back to back in one process (memif links stay up):
# all (destinations cycling over the N tunnels' prefixes), one (every frame to Tunnel0's prefix),
# all, churn (all, during a bench churn), all: each measured phase has an "all" on either side,
# so a drift of the shared machine's speed cancels out of the ratios
gen_start() {
  local size=$1 n=$2
  rm -f "$WORK/lan.sock" "$WORK/wan.sock"
  "$GEN" run --mode plain --dst-mac $HUB_MAC_LAN --dst-count "$n,1,$n,$n,$n" --dst-base 172.16.0.2 --dst-stride 256 \
    --size "$size" --seconds "$SECS" -- -l 0 --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error \
    "${GEN_MEM[@]}" --vdev "net_memif0,role=server,socket=$WORK/lan.sock,id=0,mac=$GEN_MAC_LAN" \
    --vdev "net_memif1,role=server,socket=$WORK/wan.sock,id=0,mac=$GEN_MAC_WAN" >"$WORK/gen.out" 2>"$WORK/gen.err" &
  gen_pid=$!
  for _ in $(seq 100); do [[ -S $WORK/lan.sock && -S $WORK/wan.sock ]] && break; sleep 0.05; done
}

# one daemon run: N tunnels, one frame size, the generator's five phases; 1 when the daemon or the
# generator failed
one_run() {
  local n=$1 size=$2 rep=$3 last=$4 t0 t1 rss hwm htlb cst cnt extra=
  gen_start "$size" "$n"
  t0=$(date +%s.%N)
  "$HUB" -c "$WORK/hub.yaml" >"$WORK/hub.log" 2>&1 &
  hub_pid=$!
  until grep -qs " up: " "$WORK/hub.log"; do
    kill -0 $hub_pid 2>/dev/null || return 1
    sleep 0.02
  done
  t1=$(date +%s.%N)
  rss=$(status_kib $hub_pid VmRSS) hwm=$(status_kib $hub_pid VmHWM) htlb=$(status_kib $hub_pid HugetlbPages)
  # the churn phase: 1,000 pairs/s in and out while its warm-up and window run
  until grep -q "phase 3" "$WORK/gen.err"; do
    kill -0 $gen_pid 2>/dev/null || break
    sleep 0.02
  done
  "$CTL" -s "$WORK/hub.sock" crypto ipsec bench churn "$CHURN" $((SECS + 1)) >/dev/null || return 1
  wait $gen_pid || { gen_pid=; return 1; }
  gen_pid=
  cst=$("$CTL" -s "$WORK/hub.sock" crypto ipsec bench status) || return 1
  cnt=$("$CTL" -s "$WORK/hub.sock" --json show counters) || return 1
  $PY - "$n" "$rep" "$size" "$CHURN" "$cst" "$cnt" "$WORK/gen.out" >>"$OUT" <<'PY'
import json, sys
n, rep, size, churn, cst, cnt, gen = sys.argv[1:]
c = json.loads(cnt)["dataplane"]
names = ["all0", "one", "all1", "churn", "all2"]
phases = {names[g["phase"]]: g for g in map(json.loads, open(gen)) if "phase" in g}
print(json.dumps({"test": "scale-forward", "tunnels": int(n), "rep": int(rep), "size": size, "churn_per_s": int(churn),
                  "phases": phases, "churn_status": cst.strip(),
                  "hub": {k: v for k, v in c.items() if isinstance(v, int) and v != 0}}))
PY
  if [[ $size == "$last" ]]; then
    # the tables untouched by traffic now (links down): the show commands, then bench install N
    local show_sa sa_lines show_sa_json sa_n show_ike ike_lines hwm1 inst hwm2 rss2
    show_sa=$(wall "$CTL" -s "$WORK/hub.sock" show crypto ipsec sa); sa_lines=$(wc -l <"$WORK/wall.out")
    show_sa_json=$(wall "$CTL" -s "$WORK/hub.sock" --json show crypto ipsec sa)
    sa_n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/wall.out" 2>/dev/null || echo null)
    show_ike=$(wall "$CTL" -s "$WORK/hub.sock" show crypto ikev2 sa); ike_lines=$(wc -l <"$WORK/wall.out")
    hwm1=$(status_kib $hub_pid VmHWM)
    inst=$("$CTL" -s "$WORK/hub.sock" --json crypto ipsec bench install "$n") || return 1
    hwm2=$(status_kib $hub_pid VmHWM) rss2=$(status_kib $hub_pid VmRSS)
    extra=",\"show_ipsec_sa_s\":$show_sa,\"show_ipsec_sa_lines\":$sa_lines,\"show_ipsec_sa_json_s\":$show_sa_json,\"show_ipsec_sa_json_pairs\":$sa_n,\"show_ikev2_sa_s\":$show_ike,\"show_ikev2_sa_lines\":$ike_lines,\"hwm_after_traffic_kib\":$hwm1,\"install\":$inst,\"rss_after_install_kib\":$rss2,\"hwm_after_install_kib\":$hwm2"
  fi
  kill $hub_pid; wait $hub_pid 2>/dev/null || true; hub_pid=
  echo "{\"test\":\"scale-start\",\"tunnels\":$n,\"rep\":$rep,\"size\":\"$size\",\"memory\":\"$MEMMODE\",\"start_s\":$($PY -c "print(round($t1 - $t0, 3))"),\"rss_kib\":$rss,\"hwm_kib\":$hwm,\"hugetlb_kib\":${htlb:-0}$extra}" >>"$OUT"
}

: >"$OUT"
echo "scale benchmark: tunnels $TUNNELS, $REPS reps, $SECS s per point, sizes $SIZES, $MEMMODE; raw lines in $OUT" >&2
for rep in $(seq "$REPS"); do
  for n in $TUNNELS; do
    $PY scripts/bench/scale_config.py "$n" "$WORK" "${HD[@]}" --memory-mb "$MEM" >"$WORK/hub.yaml"
    last=${SIZES##* }
    for size in $SIZES; do
      if ! one_run "$n" "$size" "$rep" "$last"; then
        # a failed run is recorded (with the daemon's last words) and the matrix goes on
        [[ -n $gen_pid ]] && { kill "$gen_pid" 2>/dev/null; wait "$gen_pid" 2>/dev/null; gen_pid=; }
        [[ -n $hub_pid ]] && { kill "$hub_pid" 2>/dev/null; wait "$hub_pid"; rc=$?; hub_pid=; } || rc=?
        $PY -c 'import json,sys; print(json.dumps({"test":"scale-failure","tunnels":int(sys.argv[1]),"rep":int(sys.argv[2]),"size":sys.argv[3],"hub_rc":sys.argv[4],"hub_log":open(sys.argv[5]).read()[-1500:],"gen_err":open(sys.argv[6]).read()[-500:]}))' \
          "$n" "$rep" "$size" "$rc" "$WORK/hub.log" "$WORK/gen.err" >>"$OUT" || true
        echo "rep $rep, $n tunnels, $size B FAILED (rc $rc): $(tail -2 "$WORK/hub.log" | tr '\n' ' ')" >&2
        continue
      fi
      echo "rep $rep, $n tunnels, $size B done" >&2
    done
  done
done
$PY scripts/bench/scale_report.py "$OUT"
