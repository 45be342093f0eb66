#!/usr/bin/env bash
# Data-plane benchmark: flexhub between two net_memif links driven by flexhub-gen, next to the
# crypto floor (the same ESP cipher+ICV work with no packet I/O) measured in the same run.
#
#   scripts/bench/run.sh [--seconds N] [--sizes "64 512 1420 imix"] [--no-hugepages] [--out FILE]
#                        [--zero-copy] [--quick]
# --zero-copy: flexhub's memif ports as zero-copy clients (the generator's side copies; needs
# hugepages and --single-file-segments). --quick: the I/O ceiling and flexhub's GCM encrypt only.
#
# Encrypt: plaintext LAN frames in on GigabitEthernet2 -> GRE + ESP out of Tunnel0 on Gi1.
# Decrypt: ESP (GRE inside) in on Gi1 -> plaintext out on Gi2 (replay window off: frames repeat).
# One worker lcore, busy polling; the generator runs on the other core. Results are JSON lines
# in the output file and a Markdown table on stdout. Hugepages are used when they can be had and
# given back afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=5
SIZES="64 512 1420 imix"
HUGE=1
ZC=
QUICK=0
OUT=$ROOT/build/bench-results.jsonl
while (($#)); do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --no-hugepages) HUGE=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    --zero-copy) ZC=",zero-copy=yes"; shift ;;
    --quick) QUICK=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh >/dev/null
GEN=$ROOT/build/app/flexhub-gen/flexhub-gen
SECGW=
SECGW_MEM=()
HUB=$ROOT/build/app/flexhub/flexhub
WORK=$(mktemp -d /tmp/fh-bench.XXXXXX)
# DPDK's ipsec-secgw, built from the examples Debian ships in dpdk-doc, for the side-by-side
if dpkg-query -W -f='${Status}' dpdk-doc 2>/dev/null | grep -q "install ok installed" ||
   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpdk-doc >/dev/null 2>&1; then
  if [[ ! -x build/ipsec-secgw/build/ipsec-secgw ]]; then
    rm -rf build/ipsec-secgw build/common
    cp -r /usr/share/dpdk/examples/ipsec-secgw build/ipsec-secgw
    cp -r /usr/share/dpdk/examples/common build/common
    # the one change: the example demands RX checksum offload, which no virtual device offers
    # (memif, af_packet, ring); without it, it checks checksums in software like flexhub does
    sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' build/ipsec-secgw/ipsec-secgw.c
    make -C build/ipsec-secgw -j2 >/dev/null 2>&1 || echo "ipsec-secgw did not build: skipped" >&2
  fi
  [[ -x build/ipsec-secgw/build/ipsec-secgw ]] && SECGW=$ROOT/build/ipsec-secgw/build/ipsec-secgw
fi
HUGEDIR=$WORK/huge
old_nr=$(cat /proc/sys/vm/nr_hugepages)
hub_pid=

cleanup() {
  [[ -n $hub_pid ]] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  if mountpoint -q "$HUGEDIR" 2>/dev/null; then umount "$HUGEDIR"; fi
  echo "$old_nr" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

MEMMODE="no hugepages (--no-huge)"
if ((HUGE)); then
  mkdir -p "$HUGEDIR"
  echo 1024 > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  if [[ $(cat /proc/sys/vm/nr_hugepages) -ge 512 ]] && mount -t hugetlbfs none "$HUGEDIR" 2>/dev/null; then
    MEMMODE="hugepages (2 MiB, $(cat /proc/sys/vm/nr_hugepages) pages)"
  else
    HUGE=0
    echo "$old_nr" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
fi
if ((HUGE)); then
  GEN_MEM=(--huge-dir "$HUGEDIR" --file-prefix fhb-gen -m 512)
  SECGW_MEM=(--huge-dir "$HUGEDIR" --file-prefix fhb-secgw -m 512)
  HUB_MEM="hugepages: true
  eal-args: [\"--huge-dir=$HUGEDIR\", \"--file-prefix=fhb-hub\", \"--no-shconf\"${ZC:+, \"--single-file-segments\"}]"
else
  GEN_MEM=(--no-huge -m 1024 --file-prefix fhb-gen)
  SECGW_MEM=(--no-huge -m 1024 --file-prefix fhb-secgw)
  HUB_MEM="memory-mb: 1024
  eal-args: [\"--no-shconf\"]"
  [[ -n $ZC ]] && { echo "--zero-copy needs hugepages" >&2; exit 2; }
fi
[[ -n $ZC ]] && MEMMODE="$MEMMODE, flexhub memif zero-copy"

GEN_MAC_LAN=02:00:00:00:be:01 GEN_MAC_WAN=02:00:00:00:be:02
HUB_MAC_WAN=02:00:00:00:f1:01 HUB_MAC_LAN=02:00:00:00:f1:02
KEY_GCM=$(printf '11%.0s' $(seq 36)) KEY_CBC=$(printf '11%.0s' $(seq 32)) AKEY=$(printf '33%.0s' $(seq 32))

hub_config() {  # encryption integrity [route: tunnel|plain] [tunnel-mode: gre|ipsec]
  local enc=$1 integ=$2 key=$KEY_CBC akeys="" via="interface: Tunnel0" tmode=${4:-gre}
  [[ ${3:-tunnel} == plain ]] && via="next-hop: 192.168.0.20"
  [[ $enc == esp-gcm-256 ]] && key=$KEY_GCM
  [[ $integ != none ]] && akeys="
        integrity-key-in: \"$AKEY\"
        integrity-key-out: \"$AKEY\""
  cat <<EOF
hostname: bench
control-socket: $WORK/hub.sock
dataplane:
  workers: 1
  idle-sleep-us: 0
  mbufs: 16383
  $HUB_MEM
crypto:
  ipsec:
    static-sas:
      BENCH:
        interface: Tunnel0
        spi-in: 0xa001
        spi-out: 0xb001
        encryption: $enc
        integrity: $integ
        replay-window: 0
        encryption-key-in: "$key"
        encryption-key-out: "$key"$akeys
interfaces:
  GigabitEthernet1:
    device: net_memif0,role=client,socket=$WORK/wan.sock,id=0,mac=$HUB_MAC_WAN$ZC
    ip-address: 192.168.0.10/24
  GigabitEthernet2:
    device: net_memif1,role=client,socket=$WORK/lan.sock,id=0,mac=$HUB_MAC_LAN$ZC
    ip-address: 10.10.1.10/24
  Tunnel0:
    ip-address: 10.1.120.10/24
    tunnel-source: GigabitEthernet1
    tunnel-destination: 192.168.0.20
    tunnel-mode: $tmode
ip:
  routes:
    - {prefix: 10.20.2.0/24, $via}
    - {prefix: 10.10.2.0/24, next-hop: 10.10.1.1}
  arp:
    - {address: 192.168.0.20, mac: $GEN_MAC_WAN, interface: GigabitEthernet1}
    - {address: 10.10.1.1, mac: $GEN_MAC_LAN, interface: GigabitEthernet2}
EOF
}

# one measurement: direction (encrypt|decrypt|forward), encryption, integrity, size, and what is
# measured: flexhub with GRE (FlexVPN), flexhub in plain IPsec tunnel mode, or ipsec-secgw
measure() {
  local dir=$1 enc=$2 integ=$3 size=$4 dut=${5:-flexhub-gre} key=$KEY_CBC out tx rx spi=0xa001 gre=(--gre) q=1
  [[ $enc == esp-gcm-256 ]] && key=$KEY_GCM
  rm -f "$WORK"/*.sock
  if [[ $dut == secgw ]]; then
    spi=6
    gre=()
    q=2 # its main lcore and worker lcore each get a TX queue
  elif [[ $dut == flexhub-ipsec ]]; then
    gre=()
  fi
  # generator port 0 sends, port 1 receives: encrypt = LAN -> WAN, decrypt = WAN -> LAN
  if [[ $dir == encrypt || $dir == forward ]]; then
    tx="net_memif0,role=server,socket=$WORK/lan.sock,id=0,mac=$GEN_MAC_LAN"
    rx="net_memif1,role=server,socket=$WORK/wan.sock,id=0,mac=$GEN_MAC_WAN"
    args=(--mode plain --dst-mac $HUB_MAC_LAN)
  else
    tx="net_memif0,role=server,socket=$WORK/wan.sock,id=0,mac=$GEN_MAC_WAN"
    rx="net_memif1,role=server,socket=$WORK/lan.sock,id=0,mac=$GEN_MAC_LAN"
    args=(--mode esp "${gre[@]}" --dst-mac $HUB_MAC_WAN --encr "$enc" --integ "$integ" --spi $spi --key "$key" --auth-key "$AKEY")
  fi
  "$GEN" run "${args[@]}" --queues $q --size "$size" --seconds "$SECONDS_EACH" -- -l 0 --no-pci --no-shconf --no-telemetry \
    --log-level=lib.eal:error "${GEN_MEM[@]}" --vdev "$tx" --vdev "$rx" > "$WORK/gen.out" 2>"$WORK/gen.err" &
  local gen_pid=$!
  for _ in $(seq 50); do [[ -S $WORK/lan.sock && -S $WORK/wan.sock ]] && break; sleep 0.1; done
  if [[ $dut == secgw ]]; then
    secgw_config "$enc" "$integ" > "$WORK/secgw.cfg"
    "$SECGW" --lcores=0@0,1@1 --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error "${SECGW_MEM[@]}" \
      --vdev "net_memif0,role=client,socket=$WORK/lan.sock,id=0,mac=$HUB_MAC_LAN" \
      --vdev "net_memif1,role=client,socket=$WORK/wan.sock,id=0,mac=$HUB_MAC_WAN" --vdev crypto_aesni_mb0 \
      -- -p 0x3 -u 0x2 --config "(0,0,1),(1,0,1)" -f "$WORK/secgw.cfg" >/dev/null 2>"$WORK/hub.err" &
  else
    hub_config "$enc" "$integ" "$([[ $dir == forward ]] && echo plain || echo tunnel)" \
      "$([[ $dut == flexhub-ipsec ]] && echo ipsec || echo gre)" > "$WORK/hub.yaml"
    "$HUB" -c "$WORK/hub.yaml" >/dev/null 2>"$WORK/hub.err" &
  fi
  hub_pid=$!
  if [[ -n ${FH_BENCH_PERF:-} ]]; then
    sleep 2
    perf record -q -g -o "$FH_BENCH_PERF.$dut.$dir.$size.data" -p "$hub_pid" -- sleep 2 >/dev/null 2>&1 || true
  fi
  wait "$gen_pid" || { cat "$WORK/gen.err" "$WORK/hub.err" >&2; kill "$hub_pid"; hub_pid=; return 1; }
  # flexhub's own cost: TSC cycles of worker iterations that had packets, per packet received
  local busy=null
  if [[ $dut != secgw ]]; then
    busy=$("$ROOT/build/app/flexhubctl/flexhubctl" -s "$WORK/hub.sock" --json show counters 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["dataplane"]; print(json.dumps({"busy_cycles": d["busy-cycles"], "rx_packets": d["rx-packets"]}))' 2>/dev/null || echo null)
  fi
  # the device may already be gone: flexhub can crash in the memif PMD when the generator (the
  # memif server) exits while its worker polls (see doc/performance.md); the point is measured
  local rc=0
  kill "$hub_pid" 2>/dev/null || true
  wait "$hub_pid" 2>/dev/null || rc=$?
  hub_pid=
  if ((rc == 139)); then
    echo "$dut $dir $enc $size: the device crashed (SIGSEGV) after the generator stopped" >&2
    busy=null
  fi
  out=$(tail -1 "$WORK/gen.out")
  echo "{\"test\":\"$dut\",\"dir\":\"$dir\",\"encr\":\"$enc\",\"integ\":\"$integ\",\"size\":\"$size\",\"memory\":\"$MEMMODE\",\"gen\":$out,\"hub\":$busy}" >> "$OUT"
}

colon() { sed 's/../&:/g; s/:$//' <<<"$1"; }

# DPDK's example security gateway: same SAs, same addresses, same memif links
secgw_config() {
  local enc=$1 integ=$2 alg
  if [[ $enc == esp-gcm-256 ]]; then
    alg="aead_algo aes-256-gcm aead_key $(colon "$KEY_GCM")"
  else
    alg="cipher_algo aes-256-cbc cipher_key $(colon "$KEY_CBC") auth_algo sha256-hmac auth_key $(colon "$AKEY")"
  fi
  printf '%s\n' "sp ipv4 out esp protect 5 pri 1 dst 10.20.2.0/24 sport 0:65535 dport 0:65535" \
    "sp ipv4 in esp protect 6 pri 1 dst 10.10.2.0/24 sport 0:65535 dport 0:65535" \
    "sa out 5 $alg mode ipv4-tunnel src 192.168.0.10 dst 192.168.0.20" \
    "sa in 6 $alg mode ipv4-tunnel src 192.168.0.20 dst 192.168.0.10" \
    "rt ipv4 dst 192.168.0.20/32 port 1" "rt ipv4 dst 10.10.2.0/24 port 0" \
    "neigh port 0 $GEN_MAC_LAN" "neigh port 1 $GEN_MAC_WAN"
}

floor() {  # encryption integrity size
  local out
  out=$("$GEN" floor --encr "$1" --integ "$2" --size "$3" --seconds "$SECONDS_EACH")
  echo "{\"test\":\"floor\",\"encr\":\"$1\",\"integ\":\"$2\",\"size\":\"$3\",\"floor\":$out}" >> "$OUT"
}

: > "$OUT"
echo "benchmark: $SECONDS_EACH s per point, $MEMMODE, results in $OUT" >&2
# the same path without a tunnel: plain routing, what memif and the generator allow
for size in $SIZES; do
  measure forward esp-gcm-256 none "$size"
done
if ((QUICK)); then
  for size in $SIZES; do
    floor esp-gcm-256 none "$size"
    measure encrypt esp-gcm-256 none "$size" flexhub-gre || true
  done
  /usr/bin/python3 scripts/bench/report.py "$OUT"
  exit 0
fi
for alg in "esp-gcm-256 none" "esp-aes-256 esp-sha256-hmac"; do
  set -- $alg
  for size in $SIZES; do
    floor "$1" "$2" "$size"
    for dut in flexhub-gre flexhub-ipsec ${SECGW:+secgw}; do
      measure encrypt "$1" "$2" "$size" "$dut" || true
      measure decrypt "$1" "$2" "$size" "$dut" || true
    done
  done
done
# strongSwan's userspace ESP, what a Linux user runs here instead (no kernel ESP on these machines)
bash scripts/bench/strongswan.sh --seconds "$SECONDS_EACH" --sizes "$(sed 's/imix//' <<<"$SIZES")" --out "$OUT" \
  >/dev/null 2>&1 || echo "strongSwan measurement failed: see scripts/bench/strongswan.sh" >&2
/usr/bin/python3 scripts/bench/report.py "$OUT"
