#!/usr/bin/env bash
# benchmarks/compile_time.sh — how long a first program takes to compile: CPU seconds (user + sys)
# of compiling and linking examples/first_gpt.cpp (a small Gpt2<float>: forward, backward, AdamW
# step) at -O2, the median of RUNS runs, in four variants:
#   umbrella          #include <tlcr/tlcr.hpp>
#   layers            only the layers it uses (<tlcr/models.hpp>, <tlcr/optim.hpp>)
#   umbrella, native  the same with -march=native (tlcr's own builds; the packed float GEMM)
#   layers, native
# CPU time, not wall time, so a busy machine changes the figure little. Prints a markdown table.
# usage: benchmarks/compile_time.sh [RUNS=3]      (CXX picks the compiler, default g++)
set -euo pipefail

runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cxx=${CXX:-g++}
eigen=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# median CPU seconds of `runs` compilations with the given extra flags
measure() {
  local times=()
  for ((i = 0; i < runs; ++i)); do
    /usr/bin/time -f "%U %S" -o "$work/time" "$cxx" -std=c++20 -O2 -fopenmp -I"$root/include" \
      $eigen "$@" "$root/examples/first_gpt.cpp" -o "$work/first_gpt"
    times+=("$(awk '{printf "%.1f", $1 + $2}' "$work/time")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

"$cxx" --version | head -1
echo
echo "| first program (examples/first_gpt.cpp, -O2) | CPU seconds |"
echo "|---|---|"
echo "| umbrella <tlcr/tlcr.hpp> | $(measure) |"
echo "| layers <tlcr/models.hpp> + <tlcr/optim.hpp> | $(measure -DFIRST_GPT_LAYER_HEADERS) |"
echo "| umbrella, -march=native | $(measure -march=native) |"
echo "| layers, -march=native | $(measure -march=native -DFIRST_GPT_LAYER_HEADERS) |"
