#!/usr/bin/env bash
# The SA tables at scale, from the inside (not a timed test): one flexhub with N static tunnels
# (each its own manually keyed SA pair and routed prefix, the generator of
# tests/integration/test_scale.py) on two veths in a namespace; prints its start time, resident
# memory, the rate of `crypto ipsec bench install N` (N more real SA pairs in and out of the
# workers' tables) and the wall time of the big show commands.
#   scripts/bench/tables.sh [N ...]      (default: 1 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HUB=$ROOT/build/app/flexhub/flexhub
CTL=$ROOT/build/app/flexhubctl/flexhubctl
[[ -x $HUB ]] || bash scripts/setup.sh >/dev/null
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null
W=$(mktemp -d /tmp/fh-tables.XXXXXX)
NS=fhtab$$
cleanup() { pkill -f "$W/a.yaml" 2>/dev/null || true; ip netns del $NS 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ip netns add $NS
ip -n $NS link add a-gi1 type veth peer name x-gi1
ip -n $NS link add a-gi2 type veth peer name x-gi2
for l in lo a-gi1 x-gi1 a-gi2 x-gi2; do ip -n $NS link set $l up; done
printf '| tunnels | start (s) | RSS after start (MiB) | install N pairs (pairs/s) | remove (pairs/s)  peak RSS with N more pairs (MiB) | show crypto ipsec sa (s) | --json (s) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for N in "${@:-1 1000 10000}"; do
  /usr/bin/python3 - "$N" "$W" <<'PY'
import sys, types
sys.path.insert(0, "tests/integration")
# the generator only: test_scale imports pytest for its fixtures
sys.modules["pytest"] = types.SimpleNamespace(mark=types.SimpleNamespace(skipif=lambda *a, **k: None),
                                              fixture=lambda *a, **k: (lambda f: f))
from test_scale import config
n, w = int(sys.argv[1]), sys.argv[2]
open(f"{w}/a.yaml", "w").write(f"control-socket: {w}/a.sock\n" + config("a", n))
PY
  rm -f "$W/a.log"
  t0=$(date +%s.%N)
  ip netns exec $NS "$HUB" -c "$W/a.yaml" >"$W/a.log" 2>&1 &
  until grep -q " up: " "$W/a.log" 2>/dev/null; do sleep 0.05; done
  t1=$(date +%s.%N)
  P=$(pgrep -f "$W/a.yaml" | tail -1)
  rss1=$(awk '/VmRSS/{print int($2/1024)}' /proc/$P/status)
  j=$("$CTL" -s "$W/a.sock" --json crypto ipsec bench install "$N")
  ins=$(echo "$j" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f %.0f" % (d["install-per-s"], d["remove-per-s"]))')
  s1=$( { /usr/bin/time -f %e "$CTL" -s "$W/a.sock" show crypto ipsec sa >/dev/null; } 2>&1 )
  s2=$( { /usr/bin/time -f %e "$CTL" -s "$W/a.sock" --json show crypto ipsec sa >/dev/null; } 2>&1 )
  hwm=$(awk '/VmHWM/{print int($2/1024)}' /proc/$P/status)
  printf '| %s | %.2f | %s | %s | %s | %s | %s | %s |\n' "$N" "$(echo "$t1 - $t0" | bc)" "$rss1" \
    "${ins% *}" "${ins#* }" "$hwm" "$s1" "$s2"
  kill "$P"; wait "$P" 2>/dev/null || true
done
