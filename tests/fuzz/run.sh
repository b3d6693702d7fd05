#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each for a bounded
# time over its seed corpus (tests/fuzz/corpus/<target>/; new inputs go to a temporary directory,
# not into the repository). Fails on the first finding: a crash, a sanitizer report, a leak, a
# timeout, or a target's own check (the parsers disagreeing).
#   bash tests/fuzz/run.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-${JOOPANG_FUZZ_SECONDS:-30}}"
build="${JOOPANG_FUZZ_BUILD_DIR:-build-fuzz}"
cxx="$(command -v clang++-14 || command -v clang++)"
cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOOPANG_BUILD_JOBS:-2}"
work="$(mktemp -d /tmp/joopang-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT
status=0
for target in fuzz_plain_request fuzz_beast_request fuzz_http_differential fuzz_json_input fuzz_resp_reader; do
  mkdir -p "$work/$target"
  echo "== $target: ${seconds}s"
  if ! "$build/$target" "$work/$target" "tests/fuzz/corpus/$target" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$work/$target-" > "$work/$target.log" 2>&1; then
    echo "!! $target found a failure:"; tail -60 "$work/$target.log"
    for a in "$work/$target"-*; do [ -f "$a" ] && { echo "input ($a):"; od -c "$a" | head -20; }; done
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$work/$target.log" | tr '\n' ' '; echo
  fi
done
exit $status
