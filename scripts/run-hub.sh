#!/usr/bin/env bash
# The main job: the guide's FlexVPN hub doing its job, on DPDK virtual devices (net_af_packet on veth
# pairs in network namespaces: no NIC, no hugepages). On one bridge (192.168.0.0/24):
#
#   hub LAN 10.10.1.20 -- [hub Gi2 10.10.1.10 | Gi1 192.168.0.10] --+-- br0 --+-- [spoke Gi1 192.168.0.20 | Gi2 10.20.2.20] -- spoke LAN 10.20.2.2
#      config/hub-and-spoke-hub.yaml (unchanged)                               |      config/hub-and-spoke-spoke.yaml (unchanged)
#                                                                               +-- road warrior 192.168.0.101 (strongSwan charon, virtual IP)
#
# The spoke and the road warrior connect (IKEv2 PSK; each gets a FlexPool address and a
# Virtual-Access on the hub), the hub's show commands, the spoke's routes and the road warrior's SAs
# are printed, and both ping the hub's LAN. Then it keeps running for you to explore; Ctrl-C stops
# the daemons and charon and removes the namespaces (leftovers of an earlier run go at start).
#   scripts/run-hub.sh           keep running until Ctrl-C
#   scripts/run-hub.sh --once    do everything, print, clean up; exit 0 when all of it worked
# Anything that does not come up within WAIT seconds (default 30) fails with the log tail, exit 1.
# FLEXHUB_BUILD=DIR uses the binaries built in DIR (packages are still checked) instead of building
# build/ with scripts/setup.sh. FLEXHUB_RUN_HUB_TAG=X names the namespaces fhX-* and the work
# directory /tmp/flexhub-run-hub-X (default "rh"), so that two runs can coexist.
set -euo pipefail
[[ -z ${FLEXHUB_BUILD:-} ]] || FLEXHUB_BUILD=$(realpath "$FLEXHUB_BUILD")   # before the cd
cd "$(dirname "$0")/.."
ROOT=$PWD

ONCE=0
for a in "$@"; do
  case $a in
    --once) ONCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-hub: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  echo "run-hub: run as root (network namespaces, DPDK af_packet ports)" >&2
  exit 1
fi

WAIT=${WAIT:-30}
TAG=${FLEXHUB_RUN_HUB_TAG:-rh}
SW=fh$TAG-sw HUB=fh$TAG-hub LH=fh$TAG-lh SP=fh$TAG-sp LS=fh$TAG-ls RW=fh$TAG-rw
NSS=("$RW" "$SP" "$HUB" "$LS" "$LH" "$SW")   # stopped in this order: road warrior, spoke, hub
WORK=/tmp/flexhub-run-hub-$TAG   # not under /run: charon gets a private /run
RW_ADDR=192.168.0.101

# every process in our namespaces (ours, or left over from an earlier run), TERM then KILL
stop_namespaces() {
  local ns p left
  for ns in "${NSS[@]}"; do
    ip netns list 2>/dev/null | grep -qw "^$ns" || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
      left=$(ip netns pids "$ns" 2>/dev/null)
      [[ -z $left ]] && break
      sleep 0.1
    done
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  wait 2>/dev/null || true
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
cleanup() {
  trap - EXIT INT TERM
  stop_namespaces
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo; echo "run-hub: stopping (namespaces, flexhub, charon)"; exit 130' INT TERM

stop_namespaces
rm -rf "$WORK"
mkdir -p "$WORK"

die() {  # message, then the logs whose tail explains it
  local msg=$1 f
  shift
  {
    echo
    echo "run-hub: FAILED: $msg"
    for f in "$@"; do
      [[ -s $f ]] || { echo "---- $f: empty"; continue; }
      echo "---- last lines of $f"
      tail -n 25 "$f"
    done
  } >&2
  exit 1
}

echo "== setup: Debian packages and the build (scripts/setup.sh; minutes on a fresh machine, log: $WORK/setup.log)"
if [[ -n ${FLEXHUB_BUILD:-} ]]; then
  BUILD=$FLEXHUB_BUILD
  bash scripts/setup.sh --deps-only >"$WORK/setup.log" 2>&1 || die "scripts/setup.sh --deps-only" "$WORK/setup.log"
else
  BUILD=$ROOT/build
  bash scripts/setup.sh >"$WORK/setup.log" 2>&1 || die "scripts/setup.sh (packages, build)" "$WORK/setup.log"
fi
FLEXHUB=$BUILD/app/flexhub/flexhub
FLEXHUBCTL=$BUILD/app/flexhubctl/flexhubctl
[[ -x $FLEXHUB && -x $FLEXHUBCTL ]] || die "no flexhub/flexhubctl in $BUILD"
CHARON=/usr/lib/ipsec/charon
PLUGINS="random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici updown"
[[ -x $CHARON ]] && command -v swanctl >/dev/null || die "strongSwan (charon, swanctl) is not installed: apt-get install strongswan-charon strongswan-swanctl"
for p in $PLUGINS; do
  [[ -e /usr/lib/ipsec/plugins/libstrongswan-$p.so ]] ||
    die "strongSwan plugin $p missing from /usr/lib/ipsec/plugins (libstrongswan-standard-plugins, libcharon-extra-plugins; scripts/setup.sh installs them)"
done

declare -A PIDS
HUB_SOCK=$WORK/hub.sock SP_SOCK=$WORK/spoke.sock VICI=$WORK/rw/vici.sock
hubctl() { "$FLEXHUBCTL" -s "$HUB_SOCK" "$@"; }
spctl() { "$FLEXHUBCTL" -s "$SP_SOCK" "$@"; }
# swanctl reads /etc/strongswan.conf and complains on stderr about plugins it does not need
swanctl_rw() { ip netns exec "$RW" swanctl "$@" --uri "unix://$VICI" 2>>"$WORK/rw/swanctl.err"; }
until_ok() {  # seconds, command...: true once the command succeeds, false after the deadline
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

echo "== network: namespaces $SW (bridge br0) $HUB $LH $SP $LS $RW"
for ns in "$SW" "$HUB" "$LH" "$SP" "$LS" "$RW"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
noipv6() { ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null 2>&1 || true; }
plug() {  # namespace iface bridge-port [address]: a veth from the namespace to br0
  ip link add "$2" netns "$1" type veth peer name "$3" netns "$SW"
  ip -n "$SW" link set "$3" master br0 up
  ip -n "$1" link set "$2" up
  noipv6 "$1" "$2"
  noipv6 "$SW" "$3"
  [[ -z ${4:-} ]] || ip -n "$1" addr add "$4" dev "$2"
}
lan() {  # router-ns router-iface lan-ns lan-iface lan-address gateway
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
  noipv6 "$1" "$2"
  noipv6 "$3" "$4"
  ip -n "$3" addr add "$5" dev "$4"
  ip -n "$3" route add default via "$6"
}
plug "$HUB" hub-gi1 br-hub
plug "$SP" sp-gi1 br-sp
plug "$RW" rw-gi1 br-rw "$RW_ADDR/24"
lan "$HUB" hub-gi2 "$LH" lh-gi2 10.10.1.20/24 10.10.1.10
lan "$SP" sp-gi2 "$LS" ls-gi2 10.20.2.2/24 10.20.2.20

start_flexhub() {  # namespace config name socket
  ip netns exec "$1" "$FLEXHUB" -c "$2" -s "$4" >"$WORK/$3.out" 2>"$WORK/$3.log" &
  local pid=$! end=$((SECONDS + WAIT))
  PIDS[$3]=$pid
  while ! grep -qs " up: " "$WORK/$3.out"; do
    kill -0 "$pid" 2>/dev/null || die "flexhub ($3, $2) exited while starting" "$WORK/$3.out" "$WORK/$3.log"
    ((SECONDS < end)) || die "flexhub ($3, $2) not up within ${WAIT}s" "$WORK/$3.out" "$WORK/$3.log"
    sleep 0.2
  done
  echo "   $(cat "$WORK/$3.out")"
}
echo "== hub: flexhub -c config/hub-and-spoke-hub.yaml in $HUB"
start_flexhub "$HUB" config/hub-and-spoke-hub.yaml hub "$HUB_SOCK"
echo "== spoke: flexhub -c config/hub-and-spoke-spoke.yaml in $SP"
start_flexhub "$SP" config/hub-and-spoke-spoke.yaml spoke "$SP_SOCK"

sessions_up() { [[ $(hubctl show crypto session | grep -c UP-ACTIVE) -ge $1 ]]; }
spoke_routes() { spctl show ip route | grep -q "10.10.1.0/24.*Tunnel0"; }
echo "== the spoke connects (IKEv2, mode-config: an address from FlexPool, pushed routes)"
until_ok "$WAIT" sessions_up 1 || die "the spoke's session is not UP-ACTIVE on the hub within ${WAIT}s" "$WORK/spoke.log" "$WORK/hub.log"
until_ok "$WAIT" spoke_routes || die "the spoke has no route to 10.10.1.0/24 via Tunnel0 within ${WAIT}s" "$WORK/spoke.log" "$WORK/hub.log"

echo "== road warrior: strongSwan charon (kernel-libipsec) at $RW_ADDR in $RW, asking for a virtual IP"
mkdir -p "$WORK/rw/run"
cat >"$WORK/rw/strongswan.conf" <<EOF
charon {
  load = $PLUGINS
  filelog { log { path = $WORK/rw/charon.log
    time_format = %T
    flush_line = yes
    default = 1
    ike = 2 } }
  plugins { vici { socket = unix://$VICI } }
}
EOF
cat >"$WORK/rw/swanctl.conf" <<EOF
connections {
  hub {
    version = 2
    local_addrs = $RW_ADDR
    remote_addrs = 192.168.0.10
    vips = 0.0.0.0
    proposals = aes256-sha256-modp2048
    rekey_time = 0
    dpd_delay = 0
    local { auth = psk
      id = $RW_ADDR }
    remote { auth = psk
      id = 192.168.0.10 }
    children { net { remote_ts = 10.10.1.0/24,10.1.1.1/32
        esp_proposals = aes256-sha1
        rekey_time = 0
        mode = tunnel } }
  }
}
secrets { ike-1 { id-1 = 192.168.0.10
    id-2 = $RW_ADDR
    secret = cisco123 } }
EOF
STRONGSWAN_CONF=$WORK/rw/strongswan.conf ip netns exec "$RW" unshare -m --propagation private \
  sh -c "mount --bind $WORK/rw/run /run && exec $CHARON" >"$WORK/rw/charon.out" 2>&1 &
PIDS[charon]=$!
charon_ready() {
  kill -0 "${PIDS[charon]}" 2>/dev/null || die "charon exited while starting" "$WORK/rw/charon.out" "$WORK/rw/charon.log"
  [[ -S $VICI ]]
}
until_ok "$WAIT" charon_ready || die "charon's vici socket $VICI not there within ${WAIT}s" "$WORK/rw/charon.out" "$WORK/rw/charon.log"
swanctl_rw --load-all --file "$WORK/rw/swanctl.conf" >"$WORK/rw/load.out" 2>&1 ||
  die "swanctl --load-all" "$WORK/rw/load.out" "$WORK/rw/charon.log"
timeout $((WAIT + 5)) ip netns exec "$RW" swanctl --initiate --child net --timeout "$WAIT" --uri "unix://$VICI" \
  >"$WORK/rw/initiate.out" 2>&1 || die "the road warrior's swanctl --initiate failed" "$WORK/rw/initiate.out" "$WORK/hub.log"
until_ok "$WAIT" sessions_up 2 || die "2 sessions not UP-ACTIVE on the hub within ${WAIT}s" "$WORK/hub.log" "$WORK/rw/charon.log"
VIP=$(swanctl_rw --list-sas | sed -n "s/.*local .* @ [0-9.]*\[[0-9]*\] \[\([0-9.]*\)\].*/\1/p" | head -1)
[[ -n $VIP ]] || die "the road warrior has no virtual IP" "$WORK/rw/charon.log" "$WORK/hub.log"

# first packets wait for ARP on the LANs and the bridge: warm up, then the pings shown below
until_ok "$WAIT" ip netns exec "$LS" ping -c 1 -W 1 10.10.1.20 || die "spoke LAN 10.20.2.2 cannot reach the hub LAN 10.10.1.20 within ${WAIT}s" "$WORK/spoke.log" "$WORK/hub.log"
until_ok "$WAIT" ip netns exec "$RW" ping -c 1 -W 1 10.10.1.20 || die "the road warrior cannot reach the hub LAN 10.10.1.20 within ${WAIT}s" "$WORK/rw/charon.log" "$WORK/hub.log"

heading() { printf '\n======== %s\n' "$*"; }
for cmd in "show crypto session" "show ip route" "show ip interface brief" "show crypto ikev2 sa" "show ip local pool FlexPool"; do
  heading "hub: FlexVPN_HUB# $cmd"
  hubctl $cmd
done
heading "spoke: FlexVPN_Spoke# show ip route"
spctl show ip route
heading "road warrior ($RW_ADDR, virtual IP $VIP): swanctl --list-sas"
swanctl_rw --list-sas

fail=0
heading "ping: spoke LAN 10.20.2.2 -> hub LAN 10.10.1.20 (GRE over IPsec, Tunnel0 / Virtual-Access1)"
ip netns exec "$LS" ping -c 5 -i 0.2 -W 2 10.10.1.20 || fail=1
heading "ping: road warrior $VIP -> hub LAN 10.10.1.20 (IPsec in UDP 4500, Virtual-Access2)"
ip netns exec "$RW" ping -c 5 -i 0.2 -W 2 10.10.1.20 || fail=1
((fail == 0)) || die "a ping lost packets" "$WORK/hub.log"

if ((ONCE)); then
  # stop in order and check that every daemon exits cleanly
  for d in charon spoke hub; do
    kill -TERM "${PIDS[$d]}" 2>/dev/null || true
    rc=0
    wait "${PIDS[$d]}" || rc=$?
    log=$WORK/$d.log
    [[ $d == charon ]] && log=$WORK/rw/charon.log
    ((rc == 0)) || die "$d did not exit cleanly on SIGTERM (status $rc)" "$log"
  done
  echo
  echo "run-hub: OK (hub, spoke and road warrior up, both pings 0% loss; cleaned up)"
  exit 0
fi

cat <<EOF

======== the hub is running: try (in another shell, as root)
  $FLEXHUBCTL -s $HUB_SOCK show crypto session detail
  $FLEXHUBCTL -s $HUB_SOCK show crypto ipsec sa
  $FLEXHUBCTL -s $HUB_SOCK show ip route
  $FLEXHUBCTL -s $HUB_SOCK show ip local pool FlexPool
  $FLEXHUBCTL -s $HUB_SOCK show counters
  $FLEXHUBCTL -s $HUB_SOCK clear crypto session remote 192.168.0.20   # the spoke reconnects in ~5 s
  $FLEXHUBCTL -s $HUB_SOCK help
  $FLEXHUBCTL -s $SP_SOCK show ip interface brief                     # the spoke
  ip netns exec $LH ping 10.20.2.2                                    # hub LAN -> spoke LAN
  ip netns exec $LH ping $VIP                                       # hub LAN -> road warrior
  ip netns exec $RW swanctl --list-sas --uri unix://$VICI
logs: $WORK/hub.log $WORK/spoke.log $WORK/rw/charon.log
Ctrl-C stops flexhub (hub and spoke) and charon and removes the namespaces.
EOF
# until Ctrl-C, or until a daemon dies
while :; do
  for d in hub spoke charon; do
    kill -0 "${PIDS[$d]}" 2>/dev/null || die "$d exited" "$WORK/hub.log" "$WORK/spoke.log" "$WORK/rw/charon.log"
  done
  sleep 1
done
