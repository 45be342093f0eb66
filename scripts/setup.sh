#!/usr/bin/env bash
# Install the Debian 12 packages flexhub builds and tests with (idempotent), then build it.
#   scripts/setup.sh              packages + release build in build/
#   scripts/setup.sh --deps-only  packages only
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential meson ninja-build pkg-config clang         # build, fuzzers
  dpdk dpdk-dev libipsec-mb-dev libssl-dev libyaml-dev        # data plane, IKE crypto, config
  libmnl-dev                                                  # netlink: route sync with FRR
  python3-pytest python3-scapy python3-cryptography           # integration tests (Debian's python3)
  iproute2 iputils-ping procps                                # namespaces, ping, pgrep
  strongswan-charon strongswan-swanctl libcharon-extra-plugins # IKEv2 interop peer (userspace ESP)
  libstrongswan-standard-plugins                              # charon's openssl (MODP groups) and gcm plugins
  nftables                                                    # NAT between peers (NAT-T tests)
  frr                                                         # routing protocols (zebra, eigrpd, ospfd, bgpd)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: run as root (apt-get install)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[[ ${1:-} == --deps-only ]] && exit 0

[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build
