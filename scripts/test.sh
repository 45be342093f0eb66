#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run). Installs its packages, then:
#   1. debugoptimized build with -Werror; C unit tests (TAP, one line per check); a release (-O3)
#      build must compile too
#   2. integration tests (pytest): daemons in network namespaces on DPDK virtual devices
#   3. the same unit and integration tests on an ASan+UBSan build (leaks fail the daemon's exit)
#   4. libFuzzer targets: the regression corpus, then FUZZ_SECONDS of fuzzing each (clang)
# Ends with "N passed, N failed, N skipped"; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
PY=/usr/bin/python3   # Debian's python3, with python3-pytest and python3-scapy

bash scripts/setup.sh --deps-only || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

pass=0 fail=0 skip=0
failed=()
note() { printf '\n=== %s\n' "$*"; }
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); failed+=("$1"); echo "FAILED: $1"; }

# add TAP results of a meson build's unit tests to the totals
count_unit() {
  local dir=$1 label=$2 out
  out=$($PY - "$dir/meson-logs/testlog.json" <<'PYEOF'
import json, re, sys
p = f = 0
names = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout", "")
    tp = len(re.findall(r"(?m)^ok ", out))
    tf = len(re.findall(r"(?m)^not ok ", out))
    if t["result"] != "OK" and tf == 0:
        tf = 1  # crashed or failed without saying which check
    if tf:
        names.append(t["name"])
    p += tp
    f += tf
print(p, f, " ".join(names))
PYEOF
  )
  read -r p f names <<<"$out"
  pass=$((pass + p)); fail=$((fail + f))
  [[ $f -gt 0 ]] && failed+=("$label unit: $names")
  echo "$label unit tests: $p passed, $f failed"
}

# add a pytest run's junit results to the totals
count_pytest() {
  local xml=$1 label=$2 out
  out=$($PY - "$xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1, 0); sys.exit()
s = r if r.tag == "testsuite" else r.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f + e, k)
PYEOF
  )
  read -r p f k <<<"$out"
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + k))
  [[ $f -gt 0 ]] && failed+=("$label integration")
  return 0
}

build() {  # dir, meson options...
  local dir=$1; shift
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log"; return 1; }
}

run_suite() {  # dir label
  local dir=$1 label=$2
  note "$label: unit tests"
  meson test -C "$dir" --suite unit --print-errorlogs >/dev/null 2>&1
  count_unit "$dir" "$label"
  note "$label: integration tests"
  FLEXHUB_BUILD=$ROOT/$dir timeout 1200 $PY -m pytest -q -p no:cacheprovider --junitxml="$dir/pytest.xml" \
    tests/integration
  count_pytest "$dir/pytest.xml" "$label"
}

note "release build (-Werror)"
if build build --buildtype=debugoptimized; then ok; run_suite build release; else bad "release build"; fi

note "release build (-O3 -Werror): compiles clean"
if build build-rel --buildtype=release; then ok; else bad "release (-O3) build"; fi

note "ASan+UBSan build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if build build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; then
  ok; run_suite build-asan asan
else
  bad "asan build"
fi

note "fuzz targets (clang libFuzzer + ASan/UBSan), ${FUZZ_SECONDS}s each"
if CC=clang build build-fuzz --buildtype=debug -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false; then
  ok
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [[ -x $f && -f $f ]] || continue
    name=$(basename "$f"); target=${name#fuzz_}
    regress=(tests/fuzz/regress/"$target"-*)
    if [[ -e ${regress[0]} ]]; then
      if "$f" "${regress[@]}" >"build-fuzz/$name.regress.log" 2>&1; then ok; else bad "$name regression corpus"; tail -20 "build-fuzz/$name.regress.log"; fi
    fi
    corpus=build-fuzz/corpus-$target
    rm -rf "$corpus"; mkdir -p "$corpus"
    [[ $target == config ]] && cp config/*.yaml "$corpus"/
    for seed in tests/fuzz/seeds/"$target"-*; do [[ -e $seed ]] && cp "$seed" "$corpus"/; done
    opts=()  # tests/fuzz/<target>.options: extra libFuzzer flags, one per line, # comments
    [[ -f tests/fuzz/$name.options ]] && mapfile -t opts < <(grep -v '^[[:space:]]*\(#\|$\)' "tests/fuzz/$name.options")
    if "$f" "${opts[@]}" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -artifact_prefix="build-fuzz/$name-" "$corpus" \
         >"build-fuzz/$name.log" 2>&1; then
      ok; grep -E '^Done' "build-fuzz/$name.log"
    else
      bad "$name"; tail -40 "build-fuzz/$name.log"
    fi
  done
else
  bad "fuzz build"
fi

echo
((${#failed[@]})) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
