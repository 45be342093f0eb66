#!/usr/bin/env bash
# strongSwan's userspace ESP (charon + kernel-libipsec, what a Linux user runs here: the kernel has
# no ESP) between two namespaces, measured with iperf3 UDP through the tunnel: A encrypts, B
# decrypts, each charon and iperf3 sharing the machine's two vCPUs. Appends JSON lines to the
# benchmark results (scripts/bench/run.sh's file) for doc/performance.md.
#   scripts/bench/strongswan.sh [--seconds N] [--sizes "64 512 1420"] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=5 SIZES="64 512 1420" OUT=$ROOT/build/bench-results.jsonl
while (($#)); do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for p in strongswan-swanctl libcharon-extra-plugins iperf3; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p >/dev/null
done

TAG=fhss$$ WORK=$(mktemp -d /tmp/fh-ss.XXXXXX)
A=${TAG}a B=${TAG}b
cleanup() {
  for ns in $A $B; do
    ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del $ns 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add $A
ip netns add $B
ip link add ss-a netns $A type veth peer name ss-b netns $B
ip -n $A addr add 192.168.0.10/24 dev ss-a
ip -n $B addr add 192.168.0.20/24 dev ss-b
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set ss-a up
ip -n $B link set ss-b up
# the protected networks' hosts: the gateways themselves, on lo
ip -n $A addr add 10.10.1.10/32 dev lo
ip -n $B addr add 10.20.2.20/32 dev lo

charon() {  # namespace dir local remote local_ts remote_ts esp
  local ns=$1 d=$WORK/$1
  mkdir -p "$d/run"
  rm -f "$d/vici.sock" # a stale socket of the previous instance would answer "refused"
  cat > "$d/strongswan.conf" <<CONF
charon {
  load = random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici updown
  filelog { log { path = $d/charon.log
    default = 1 } }
  plugins { vici { socket = unix://$d/vici.sock } }
}
CONF
  cat > "$d/swanctl.conf" <<CONF
connections {
  bench {
    local_addrs = $3
    remote_addrs = $4
    proposals = aes256-sha256-modp2048
    local { auth = psk
      id = $3 }
    remote { auth = psk
      id = $4 }
    children { net { local_ts = $5
        remote_ts = $6
        esp_proposals = $7
        mode = tunnel } }
  }
}
secrets { ike-1 { id-1 = 192.168.0.10
    id-2 = 192.168.0.20
    secret = cisco123 } }
CONF
  # charon's pid file is fixed at /var/run/charon.pid: a private /run per instance
  STRONGSWAN_CONF=$d/strongswan.conf ip netns exec $ns unshare -m --propagation private \
    sh -c "mount --bind $d/run /run && exec /usr/lib/ipsec/charon" >/dev/null 2>&1 &
  for _ in $(seq 50); do [[ -S $d/vici.sock ]] && break; sleep 0.1; done
  ip netns exec $ns swanctl --load-all --file "$d/swanctl.conf" --uri "unix://$d/vici.sock" >"$d/load.log" 2>&1 ||
    { echo "swanctl --load-all failed:" >&2; grep -v "^plugin\\|opening directory" "$d/load.log" | head -5 >&2; return 1; }
}

measure() {  # esp proposal, flexhub name, frame size
  local esp=$1 name=$2 size=$3 integ=none
  [[ $name == esp-aes-256 ]] && integ=esp-sha256-hmac
  cleanup_charons
  charon $A "" 192.168.0.10 192.168.0.20 10.10.1.0/24 10.20.2.0/24 "$esp"
  charon $B "" 192.168.0.20 192.168.0.10 10.20.2.0/24 10.10.1.0/24 "$esp"
  ip netns exec $A swanctl --initiate --child net --uri "unix://$WORK/$A/vici.sock" >/dev/null
  ip netns exec $B iperf3 -s -B 10.20.2.20 -1 >/dev/null 2>&1 &
  sleep 0.5
  # UDP payload for a frame of this size: minus Ethernet 14, IP 20, UDP 8
  local len=$((size - 42)) out
  out=$(ip netns exec $A iperf3 -c 10.20.2.20 -B 10.10.1.10 -u -b 0 -l $len -t "$SECONDS_EACH" --json 2>/dev/null || true)
  /usr/bin/python3 - "$out" "$name" "$integ" "$size" "$OUT" <<'PY'
import json, sys
out, name, integ, size, path = sys.argv[1:]
try:
    end = json.loads(out)["end"]["sum"]
    secs = end["seconds"]
    rx = end["packets"] - end["lost_packets"]
    mpps = rx / secs / 1e6
except Exception as e:
    mpps = 0.0
r = {"test": "strongswan", "dir": "encrypt+decrypt", "encr": name, "integ": integ, "size": size,
     "gen": {"rx_mpps": round(mpps, 4)}}
open(path, "a").write(json.dumps(r) + "\n")
print(json.dumps(r))
PY
}

cleanup_charons() {
  for ns in $A $B; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; done
  sleep 0.5
}

for alg in "aes256gcm16 esp-gcm-256" "aes256-sha256 esp-aes-256"; do
  set -- $alg
  for size in $SIZES; do
    measure "$1" "$2" "$size"
  done
done
