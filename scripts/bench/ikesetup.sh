#!/bin/bash
# IKE setup rate and 10,000 spokes of the hub role (issue 9 item 8), in network namespaces:
#
#   ikg: build/app/ikegen/ikegen, the spokes: 192.168.16.1 ... (one /32 each on gen-gi1), core 1
#   ikh: the hub 192.168.0.10/16 on hub-gi1 (flexhub through net_af_packet, or strongSwan's
#        charon with kernel-libipsec), core 0; its LAN 10.10.1.0/24 on hub-gi2 -> ikl
#
# 1. Rate, side by side in one run: for each repetition and DH group (31 = X25519, 14 = MODP-2048)
#    a fresh flexhub, then a fresh charon, each alone on core 0 (taskset, all its threads), each
#    measured twice ("cold": right after start; "warm": the same again) with the same ikegen
#    command (a window of 64 outstanding negotiations, at both hubs' cookie threshold; Delete at
#    the end of each).
#    ikegen reports established/s, latency percentiles, and the hub's CPU time per IKE SA
#    (schedstat of all its threads), which on this shared machine is steadier than wall time.
# 2. 10,000 spokes held by one flexhub: setup, VmRSS/VmHWM, the daemon's counters, a sample of
#    outbound forwarding (pings from the LAN into 20 Virtual-Access tunnels, ESP counted on the
#    spokes' wire), then a hub restart (SIGKILL, as in a crash, and a new daemon) and a reconnect
#    storm: every spoke again at once (ikegen re-initiates on SIGUSR1, retries what fails) until all
#    10,000 are back.
#
# Usage (as root, from the tree root, after ninja -C build):
#   bash scripts/bench/ikesetup.sh [--reps 3] [--count31 3000] [--count14 300] [--window 64]
#        [--big 10000] [--no-rate] [--no-big] [--no-charon] [--out FILE.jsonl]
# Raw JSON lines (ikegen's, the daemon's counters, memory) go to --out (build/ikesetup.jsonl).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=${FLEXHUB_BUILD:-$ROOT/build}
GEN=$B/app/ikegen/ikegen
FH=$B/app/flexhub/flexhub
CTL=$B/app/flexhubctl/flexhubctl
CHARON=/usr/lib/ipsec/charon
REPS=3 COUNT31=3000 COUNT14=300 WINDOW=64 BIG=10000 DO_RATE=1 DO_BIG=1 DO_CHARON=1
OUT=$B/ikesetup.jsonl
while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=$2; shift ;;
	--count31) COUNT31=$2; shift ;;
	--count14) COUNT14=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--big) BIG=$2; shift ;;
	--no-rate) DO_RATE=0 ;;
	--no-big) DO_BIG=0 ;;
	--no-charon) DO_CHARON=0 ;;
	--out) OUT=$2; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
for f in "$GEN" "$FH" "$CTL"; do [ -x "$f" ] || { echo "missing $f: ninja -C build" >&2; exit 1; }; done
[ $DO_CHARON = 0 ] || [ -x $CHARON ] || { echo "no $CHARON (strongswan-charon); use --no-charon" >&2; exit 1; }

H=ikbh G=ikbg L=ikbl
W=$(mktemp -d /tmp/ikesetup.XXXXXX)
HUB=192.168.0.10 SRC=192.168.16.1
NADDR=$BIG
[ "$NADDR" -ge "$COUNT31" ] || NADDR=$COUNT31
FHPID= CHPID= GENPID=

cleanup() {
	[ -n "$GENPID" ] && kill -TERM "$GENPID" 2>/dev/null
	[ -n "$FHPID" ] && kill -TERM "$FHPID" 2>/dev/null
	[ -n "$CHPID" ] && kill -TERM "$CHPID" 2>/dev/null
	sleep 1
	for n in $H $G $L; do ip netns del $n 2>/dev/null; done
}
trap cleanup EXIT

note() { echo "== $*" >&2; }
jline() { echo "$1" >> "$OUT"; }

# ---- namespaces ----
for n in $H $G $L; do ip netns del $n 2>/dev/null; ip netns add $n; ip -n $n link set lo up; done
ip link add hub-gi1 netns $H type veth peer name gen-gi1 netns $G
ip link add hub-gi2 netns $H type veth peer name lan-gi2 netns $L
for x in "$H hub-gi1" "$H hub-gi2" "$G gen-gi1" "$L lan-gi2"; do
	set -- $x
	ip -n $1 link set $2 up
	ip netns exec $1 sysctl -qw net.ipv6.conf.$2.disable_ipv6=1
done
ip -n $G addr add 192.168.0.20/16 dev gen-gi1
ip -n $L addr add 10.10.1.20/24 dev lan-gi2
ip -n $L route add default via 10.10.1.10
/usr/bin/python3 -c "
import ipaddress, sys
b = int(ipaddress.ip_address('$SRC'))
for i in range($NADDR):
    print(f'addr add {ipaddress.ip_address(b + i)}/32 dev gen-gi1')" | ip -n $G -b -
note "$NADDR spoke addresses from $SRC on $G/gen-gi1; work dir $W; results to $OUT"

# ---- the hub's configs ----
# flexhub: config/hub-and-spoke-hub.yaml with the WAN a /16 (room for the spokes), a pool of
# 65,534 addresses, groups 14 and 31 in the proposal, ARP cache for 10,000 spokes; everything else
# (limits, cookie-challenge 64, limit-max-in-negotiation-sa 1024, idle-sleep-us 200, 1 worker,
# no hugepages, memory-mb 512) as the file or the defaults have it.
sed -e 's/192.168.0.10 255.255.255.0/192.168.0.10 255.255.0.0/' \
    -e 's/FlexPool: {first: 10.1.1.2, last: 10.1.1.254}/FlexPool: {first: 10.64.0.1, last: 10.64.255.254}/' \
    -e 's/        group: 14/        group: [14, 31]/' \
    -e "s#^control-socket:.*#control-socket: $W/hub.sock#" config/hub-and-spoke-hub.yaml > $W/hub.yaml
cat >> $W/hub.yaml <<'EOF'
limits:
  neighbours: 16384             # one ARP entry per spoke (default 8192)
EOF
"$FH" --check-config -c $W/hub.yaml >&2 || exit 1

# charon: the same proposals, PSK, a /16 pool, local_ts the hub's LAN; kernel-libipsec as in
# tests/integration/strongswan.py. Tuned as a hub would be: an IKE SA hash table (the default is
# one bucket), the cookie threshold at flexhub's 64, and logging at level 0 (flexhub logs its
# INFO lines, so this favours charon). Threads: its default (16), all on core 0.
mkdir -p $W/ch/run
cat > $W/ch/strongswan.conf <<EOF
charon {
  load = random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici updown
  cookie_threshold = 64
  ikesa_table_size = 16384
  ikesa_table_segments = 16
  filelog { log { path = $W/ch/charon.log
    time_format = %T
    default = 0 } }
  plugins { vici { socket = unix://$W/ch/vici.sock } }
}
EOF
cat > $W/ch/swanctl.conf <<'EOF'
connections {
  hub {
    version = 2
    local_addrs = 192.168.0.10
    remote_addrs = %any
    pools = p
    proposals = aes256-sha256-modp2048, aes256-sha256-curve25519
    rekey_time = 0
    dpd_delay = 0
    unique = never
    local { auth = psk
      id = 192.168.0.10 }
    remote { auth = psk }
    children { net { local_ts = 10.10.1.0/24
        esp_proposals = aes256-sha1
        rekey_time = 0
        mode = tunnel } }
  }
}
pools { p { addrs = 10.64.0.0/16 } }
secrets { ike-any { secret = cisco123 } }
EOF

flexhub_start() {
	: > $W/hub.log
	ip netns exec $H taskset -c 0 "$FH" -c $W/hub.yaml > $W/hub.out 2>> $W/hub.log &
	FHPID=$!
	echo $FHPID > $W/hub.pid
	for i in $(seq 100); do grep -q " up: " $W/hub.out 2>/dev/null && break; sleep 0.1; done
	grep -q " up: " $W/hub.out || { note "flexhub did not come up"; tail $W/hub.log >&2; exit 1; }
	ip -n $G neigh flush all
}

flexhub_stop() {
	kill -TERM $FHPID 2>/dev/null
	for i in $(seq 100); do kill -0 $FHPID 2>/dev/null || break; sleep 0.1; done
	kill -KILL $FHPID 2>/dev/null
	wait $FHPID 2>/dev/null
	FHPID=
}

# charon answers through the kernel, whose ARP cache is one table for the whole machine with
# gc_thresh3 = 1,024 dynamic entries: past ~1,000 spokes it drops replies ("neighbor table
# overflow"). Permanent entries do not count against it, so the hub's namespace gets one per spoke,
# at each charon start: flexhub's port (net_af_packet) takes the link down when it stops, and the
# kernel flushes permanent entries with the link (flexhub has its own ARP cache: limits.neighbours).
charon_arp() {
	local mac
	mac=$(ip -n $G -j link show gen-gi1 | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')
	/usr/bin/python3 -c "
import ipaddress
b = int(ipaddress.ip_address('$SRC'))
for i in range($NADDR):
    print(f'neigh replace {ipaddress.ip_address(b + i)} lladdr $mac dev hub-gi1 nud permanent')" | ip -n $H -b -
}

charon_start() {
	# charon owns the hub's addresses only while it runs (flexhub's ports have none in the kernel)
	ip -n $H addr add $HUB/16 dev hub-gi1
	ip -n $H addr add 10.10.1.10/24 dev hub-gi2
	charon_arp
	rm -f $W/ch/vici.sock
	STRONGSWAN_CONF=$W/ch/strongswan.conf ip netns exec $H unshare -m --propagation private \
		sh -c "mount --bind $W/ch/run /run && exec taskset -c 0 $CHARON" > /dev/null 2>&1 &
	CHPID=$!
	for i in $(seq 100); do [ -S $W/ch/vici.sock ] && break; sleep 0.1; done
	ip netns exec $H swanctl --load-all --file $W/ch/swanctl.conf --uri unix://$W/ch/vici.sock > /dev/null 2>&1 ||
		{ note "swanctl --load-all failed"; exit 1; }
	ip -n $G neigh flush all
}

charon_stop() {
	kill -TERM $CHPID 2>/dev/null
	for i in $(seq 150); do kill -0 $CHPID 2>/dev/null || break; sleep 0.1; done
	kill -KILL $CHPID 2>/dev/null
	wait $CHPID 2>/dev/null
	CHPID=
	ip -n $H addr del $HUB/16 dev hub-gi1
	ip -n $H addr del 10.10.1.10/24 dev hub-gi2
}

# one ikegen run against the hub; its JSON lines, tagged, to $OUT; text to stderr
gen_run() { # label pid args...
	local label=$1 pid=$2
	shift 2
	ip netns exec $G taskset -c 1 "$GEN" --hub $HUB --src-base $SRC --src-count $NADDR --label "$label" \
		--hub-pid "$pid" "$@" > $W/gen.out
	grep -v '^{' $W/gen.out >&2
	grep '^{' $W/gen.out >> "$OUT"
}

mem_line() { # label pid
	local rss hwm
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$2/status)
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/$2/status)
	note "$1: VmRSS $((rss / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
	jline "{\"tool\":\"ikesetup\",\"phase\":\"memory\",\"label\":\"$1\",\"vmrss_kib\":$rss,\"vmhwm_kib\":$hwm}"
}

ctl_lines() { # label: the daemon's own counters, as JSON lines
	local s c p
	s=$("$CTL" -s $W/hub.sock --json show crypto ikev2 stats | tr -d '\n')
	c=$("$CTL" -s $W/hub.sock --json show counters | tr -d '\n')
	p=$("$CTL" -s $W/hub.sock --json show ip local pool | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps([{k: v for k, v in x.items() if k != "leases"} for x in d]))')
	jline "{\"tool\":\"flexhubctl\",\"label\":\"$1\",\"ikev2_stats\":$s,\"pool\":$p,\"counters\":$c}"
	echo "$s" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("   flexhub ikev2 stats:", ", ".join(f"{k} {v}" for k, v in d.items() if v))' >&2
	echo "$p" | /usr/bin/python3 -c '
import json, sys
for x in json.load(sys.stdin): print("   pool", x.get("pool"), "in use", x.get("in-use"))' >&2
}

date -u +"{\"tool\":\"ikesetup\",\"phase\":\"start\",\"date\":\"%Y-%m-%dT%H:%M:%SZ\",\"host\":\"$(hostname)\",\"nproc\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"

# ---- 1. rate, side by side ----
if [ $DO_RATE = 1 ]; then
	for rep in $(seq $REPS); do
		for grp in 31 14; do
			n=$COUNT31
			[ $grp = 14 ] && n=$COUNT14
			note "rep $rep, group $grp, $n spokes, window $WINDOW: flexhub"
			flexhub_start
			# a fresh hub (ARP for every spoke, first allocations), then the same again on it
			for t in cold warm; do
				gen_run "flexhub-g$grp-r$rep-$t" $FHPID --count $n --window $WINDOW --group $grp --ts gre --delete --timeout 120
			done
			ctl_lines "flexhub-g$grp-r$rep"
			flexhub_stop
			if [ $DO_CHARON = 1 ]; then
				note "rep $rep, group $grp, $n spokes, window $WINDOW: charon"
				charon_start
				for t in cold warm; do
					gen_run "charon-g$grp-r$rep-$t" $CHPID --count $n --window $WINDOW --group $grp --ts any --delete --timeout 120
				done
				charon_stop
			fi
		done
	done
fi

# ---- 2. 10,000 spokes on one flexhub, restart, storm ----
if [ $DO_BIG = 1 ]; then
	note "$BIG spokes held by one flexhub (group 31, window 64)"
	flexhub_start
	mem_line "flexhub-before-$BIG" $FHPID
	ip netns exec $G taskset -c 1 "$GEN" --hub $HUB --src-base $SRC --src-count $NADDR --label "flexhub-$BIG" \
		--hub-pid-file $W/hub.pid --count $BIG --window 64 --group 31 --ts gre --hold --retries 20 --timeout 300 \
		--delete --csv $W/spokes.csv > $W/big.out &
	GENPID=$!
	for i in $(seq 3000); do grep -q '"phase":"setup"' $W/big.out && break; sleep 0.1; done
	grep -v '^{' $W/big.out >&2
	grep '^{' $W/big.out >> "$OUT"
	mem_line "flexhub-$BIG-held" $FHPID
	ctl_lines "flexhub-$BIG-held"

	# forwarding, one way: the hub's LAN pings 20 spokes' pool addresses; flexhub routes them into
	# their Virtual-Access, GRE + ESP out to the spoke's address. ikegen has no ESP: the spokes'
	# side counts the ESP that arrives per destination (nftables, a set of addresses), then drops it.
	addrs=$(awk -F, 'NR > 1 && $3 == "up" {print $9}' $W/spokes.csv | awk -v n=$BIG 'NR % int(n / 20 + 1) == 1' | head -20)
	ip netns exec $G nft -f - <<'EOF'
table ip espcount {
  set seen {
    type ipv4_addr
    flags dynamic
    size 65536
  }
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    ip protocol esp counter update @seen { ip daddr }
  }
}
EOF
	for a in $addrs; do ip netns exec $L ping -c 2 -i 0.2 -W 1 $a > /dev/null; done
	seen=$(ip netns exec $G nft -j list set ip espcount seen | /usr/bin/python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    if "set" in o: print(",".join(e if isinstance(e, str) else json.dumps(e) for e in o["set"].get("elem", [])))')
	esp=$(ip netns exec $G nft list chain ip espcount pre | awk '/counter packets/ {for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1)}')
	ok=0
	for a in $addrs; do
		sp=$(awk -F, -v a=$a '$9 == a {split($2, s, ":"); print s[1]}' $W/spokes.csv)
		case ",$seen," in *",$sp,"*) ok=$((ok + 1)) ;; esac
	done
	n_addr=$(echo $addrs | wc -w)
	note "forwarding sample: ESP from the hub arrived for $ok of $n_addr pinged spokes (${esp:-0} ESP packets; 2 pings each)"
	jline "{\"tool\":\"ikesetup\",\"phase\":\"forwarding-sample\",\"pinged\":$n_addr,\"esp_seen\":$ok,\"esp_packets\":${esp:-0}}"
	ip netns exec $G nft delete table ip espcount

	note "hub restart (SIGKILL, new daemon), then every spoke again at once"
	kill -KILL $FHPID
	wait $FHPID 2>/dev/null
	flexhub_start
	kill -USR1 $GENPID
	for i in $(seq 3000); do grep -q '"phase":"storm"' $W/big.out && break; sleep 0.1; done
	# ikegen held the new SAs: its storm report, then the daemon's view
	sed -n '/ikegen storm/,$p' $W/big.out | grep -v '^{' >&2
	grep '"phase":"storm"' $W/big.out >> "$OUT"
	mem_line "flexhub-$BIG-after-storm" $FHPID
	ctl_lines "flexhub-$BIG-after-storm"
	kill -TERM $GENPID
	wait $GENPID
	GENPID=
	grep '"phase":"delete"' $W/big.out >> "$OUT"
	grep 'ikegen delete' $W/big.out >&2
	flexhub_stop
fi
note "done; raw lines in $OUT"
