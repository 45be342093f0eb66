#!/usr/bin/env bash
# The guide's first topology, end to end: RouterA and RouterB (config/site-to-site-a.yaml and -b.yaml
# as they are) on DPDK virtual devices in network namespaces, a LAN host behind each. The routers
# negotiate Tunnel0 with IKEv2 (PSK, aes-cbc-256/sha256/group 14) by themselves; then LAN A pings
# LAN B through it and the guide's show commands run on RouterB. Ctrl-C stops and cleans up.
#   scripts/run-site-to-site.sh          keep running until Ctrl-C
#   scripts/run-site-to-site.sh --once   show, then stop
set -euo pipefail
cd "$(dirname "$0")/.."
ONCE=${1:-}
bash scripts/setup.sh >/dev/null

A=fh-s2s-a B=fh-s2s-b LA=fh-s2s-la LB=fh-s2s-lb WORK=$(mktemp -d /tmp/fh-s2s.XXXXXX)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for ns in $A $B $LA $LB; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM
pids=()
for ns in $A $B $LA $LB; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; ip -n "$ns" link set lo up; done
# Gi1 to Gi1 (the guide's 192.168.0.0/24), Gi2 to each LAN
ip link add a-gi1 netns $A type veth peer name b-gi1 netns $B
ip link add a-gi2 netns $A type veth peer name la-gi2 netns $LA
ip link add b-gi2 netns $B type veth peer name lb-gi2 netns $LB
for x in "$A a-gi1" "$A a-gi2" "$B b-gi1" "$B b-gi2" "$LA la-gi2" "$LB lb-gi2"; do
  set -- $x
  ip -n "$1" link set "$2" up
done
ip -n $LA addr add 10.10.1.20/24 dev la-gi2
ip -n $LB addr add 10.20.2.2/24 dev lb-gi2
ip -n $LA route add default via 10.10.1.10
ip -n $LB route add default via 10.20.2.20

start() {  # namespace config name
  sed "s|^control-socket:.*|control-socket: $WORK/$3.sock|" "$2" > "$WORK/$3.yaml"
  ip netns exec "$1" build/app/flexhub/flexhub -c "$WORK/$3.yaml" 2>"$WORK/$3.log" >/dev/null &
  pids+=($!)
}
start $A config/site-to-site-a.yaml RouterA
start $B config/site-to-site-b.yaml RouterB
ctl() { build/app/flexhubctl/flexhubctl -s "$WORK/$1.sock" "${@:2}"; }

echo "waiting for IKEv2 to bring Tunnel0 up..."
for _ in $(seq 150); do
  ctl RouterB show crypto ikev2 sa 2>/dev/null | grep -q READY && break
  sleep 0.2
done
ip netns exec $LA ping -c 2 -W 1 10.20.2.2 >/dev/null 2>&1 || true  # ARP on the LANs
echo
echo "LAN A (10.10.1.20) -> LAN B (10.20.2.2) through Tunnel0:"
ip netns exec $LA ping -c 5 -i 0.2 -W 2 10.20.2.2 | tail -2
for cmd in "show crypto ikev2 sa" "show crypto ipsec sa" "show ip interface brief"; do
  echo
  echo "RouterB#$cmd"
  ctl RouterB $cmd
done
if [[ $ONCE == --once ]]; then
  exit 0
fi
echo
echo "running; flexhubctl -s $WORK/RouterA.sock (or RouterB.sock) for more. Ctrl-C stops."
wait
