#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for a
# set time, starting from its seed corpus; prints one line per target: executions, corpus size,
# and findings (crash, leak, timeout or out-of-memory inputs, saved under build/fuzz/findings/).
#
#   tests/fuzz/run_fuzzers.sh [seconds per target, default 60] [target ...]
#
# Needs clang-14 and libclang-rt-14-dev (Debian 12). Exit status 1 when any target found anything.
# A finding replays with the regular build: build/ci/tests/fuzz/fuzz_<name>_replay <file>.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$source" .cpp)
    targets+=("${name#fuzz_}")
  done
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}"

status=0
summary=build/fuzz/summary.txt
: >"$summary"
for name in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$name findings=build/fuzz/findings/$name
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null || true
  log=build/fuzz/$name.log
  start=$(date +%s)
  # -rss_limit_mb: a parser that tries to allocate for an absurd size is a finding. libFuzzer
  # stops at the first finding, so the time actually run is reported.
  if ! build/fuzz/tests/fuzz/fuzz_"$name" "$corpus" -max_total_time="$seconds" \
      -artifact_prefix="$findings"/ -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      >"$log" 2>&1; then
    status=1
  fi
  elapsed=$(($(date +%s) - start))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(find "$findings" -type f | wc -l)
  line="$name: ${runs} executions in ${elapsed} s, corpus $(ls "$corpus" | wc -l) inputs, findings ${found}"
  echo "$line" | tee -a "$summary"
  ((found == 0)) || status=1
done
exit $status
