#!/usr/bin/env bash
# Where the worker's time goes with N tunnels: perf record of flexhub's worker while flexhub-gen
# sends to ONE tunnel's prefix and then to ALL N (same daemon, same memif setup as scale.sh).
#   sudo bash scripts/bench/scale_perf.sh [N] [SIZE]     (default 10000 1420)
# Prints the top symbols of both profiles; perf data in build/scale-perf.{one,all}.data.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD N=${1:-10000} SIZE=${2:-1420}
HUB=$ROOT/build/app/flexhub/flexhub GEN=$ROOT/build/app/flexhub-gen/flexhub-gen
W=$(mktemp -d /tmp/fh-sperf.XXXXXX) old_nr=$(cat /proc/sys/vm/nr_hugepages) hub_pid= gen_pid=
cleanup() {
  [[ -n $gen_pid ]] && kill "$gen_pid" 2>/dev/null && wait "$gen_pid" 2>/dev/null
  [[ -n $hub_pid ]] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  mountpoint -q "$W/huge" && umount "$W/huge"
  echo "$old_nr" > /proc/sys/vm/nr_hugepages; rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/huge"; echo $((old_nr + 1024)) > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs none "$W/huge"
/usr/bin/python3 scripts/bench/scale_config.py "$N" "$W" --huge-dir "$W/huge" >"$W/hub.yaml"
"$GEN" run --mode plain --dst-mac 02:00:00:00:f1:02 --dst-count "1,$N" --size "$SIZE" --seconds 4 -- -l 0 --no-pci \
  --no-shconf --no-telemetry --log-level=lib.eal:error --huge-dir "$W/huge" --file-prefix fhsp-gen -m 512 \
  --vdev "net_memif0,role=server,socket=$W/lan.sock,id=0,mac=02:00:00:00:be:01" \
  --vdev "net_memif1,role=server,socket=$W/wan.sock,id=0,mac=02:00:00:00:be:02" >"$W/gen.out" 2>"$W/gen.err" &
gen_pid=$!
for _ in $(seq 100); do [[ -S $W/lan.sock && -S $W/wan.sock ]] && break; sleep 0.05; done
"$HUB" -c "$W/hub.yaml" >"$W/hub.log" 2>&1 &
hub_pid=$!
for ph in 0 1; do
  until grep -q "phase $ph" "$W/gen.err"; do sleep 0.02; done
  sleep 1.5
  name=$([[ $ph == 0 ]] && echo one || echo all)
  perf record -q -g -o "build/scale-perf.$name.data" -p "$hub_pid" -- sleep 2 >/dev/null 2>&1 || true
done
wait "$gen_pid"; gen_pid=
cat "$W/gen.out"
for name in one all; do
  echo "== $name (dst-count $([[ $name == one ]] && echo 1 || echo "$N"), $SIZE B)"
  perf report -i "build/scale-perf.$name.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -25
done
