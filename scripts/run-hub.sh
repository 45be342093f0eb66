#!/usr/bin/env bash
# The main job on the embedded default: the guide's hub (config/hub.yaml) on DPDK virtual devices
# (net_af_packet on veth pairs inside network namespaces: no NIC, no hugepages). A neighbour
# namespace pings both hub ports, then the IOS-style show commands run. Ctrl-C stops and cleans up.
#   scripts/run-hub.sh          keep running until Ctrl-C
#   scripts/run-hub.sh --once   show, then stop
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

HUB=fh-demo-hub NBR=fh-demo-nbr SOCK=/run/flexhub-demo.sock
CTL=(build/app/flexhubctl/flexhubctl -s "$SOCK")
pid=

cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$HUB" 2>/dev/null || true
  ip netns del "$NBR" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$HUB"
ip netns add "$NBR"
# GigabitEthernet1 (192.168.0.10) faces the spokes' side, GigabitEthernet2 (10.10.1.10) the LAN
ip link add hub-gi1 netns "$HUB" type veth peer name nbr-gi1 netns "$NBR"
ip link add hub-gi2 netns "$HUB" type veth peer name nbr-gi2 netns "$NBR"
for l in hub-gi1 hub-gi2 lo; do ip -n "$HUB" link set "$l" up; done
for l in nbr-gi1 nbr-gi2 lo; do ip -n "$NBR" link set "$l" up; done
ip -n "$NBR" addr add 192.168.0.20/24 dev nbr-gi1
ip -n "$NBR" addr add 10.10.1.20/24 dev nbr-gi2

ip netns exec "$HUB" build/app/flexhub/flexhub -c config/hub.yaml -s "$SOCK" &
pid=$!
for _ in $(seq 100); do
  [[ -S $SOCK ]] && "${CTL[@]}" show version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "flexhub exited" >&2; exit 1; }
  sleep 0.1
done

echo; echo "== neighbour pings the hub's GigabitEthernet1 and GigabitEthernet2"
ip netns exec "$NBR" ping -c 3 -i 0.2 192.168.0.10
ip netns exec "$NBR" ping -c 3 -i 0.2 10.10.1.10
for cmd in "show version" "show ip interface brief" "show counters"; do
  echo; echo "FlexVPN_HUB# $cmd"
  "${CTL[@]}" $cmd
done

if [[ ${1:-} == --once ]]; then
  exit 0
fi
echo
echo "flexhub is running. In another shell: build/app/flexhubctl/flexhubctl -s $SOCK help"
echo "Ctrl-C stops it and removes the namespaces."
wait "$pid"
