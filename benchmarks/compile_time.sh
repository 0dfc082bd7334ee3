#!/usr/bin/env bash
# benchmarks/compile_time.sh — how long a first program takes to compile: CPU seconds (user + sys)
# of compiling and linking examples/first_gpt.cpp (a small Gpt2<float>: forward, backward, AdamW
# step) at -O2, the median of RUNS runs, with the umbrella <tlcr/tlcr.hpp> or only the layers it
# uses (<tlcr/models.hpp>, <tlcr/optim.hpp>), each:
#   header-only  every template instantiated in the program's unit (the default)
#   prebuilt     -DTLCR_PREBUILT, linked to the prebuilt instances (tlcr/instances.hpp), which
#                are compiled once per project (or per set of flags) and timed once, on their own
# and all of it again with -march=native (tlcr's own builds; the packed float GEMM).
# CPU time, not wall time, so a busy machine changes the figure little. Prints a markdown table.
# usage: benchmarks/compile_time.sh [RUNS=3]      (CXX picks the compiler, default g++)
set -euo pipefail

runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cxx=${CXX:-g++}
eigen=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compile=("$cxx" -std=c++20 -O2 -fopenmp -I"$root/include" $eigen)

cpu_seconds() { awk '{printf "%.1f", $1 + $2}' "$work/time"; }

# median CPU seconds of `runs` compile-and-link runs of first_gpt.cpp with the given extra flags
measure() {
  local times=()
  for ((i = 0; i < runs; ++i)); do
    /usr/bin/time -f "%U %S" -o "$work/time" "${compile[@]}" "$@" "$root/examples/first_gpt.cpp" \
      -o "$work/first_gpt"
    times+=("$(cpu_seconds)")
  done
  "$work/first_gpt" >/dev/null  # the program must still build and train
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

# CPU seconds of compiling the prebuilt instances once, with the given extra flags, into $work/$1.o
build_instances() {
  local out=$1
  shift
  echo '#include <tlcr/instances.hpp>' >"$work/instances.cpp"
  /usr/bin/time -f "%U %S" -o "$work/time" "${compile[@]}" -DTLCR_PREBUILT "$@" -c \
    "$work/instances.cpp" -o "$work/$out.o"
  cpu_seconds
}

"$cxx" --version | head -1
echo
echo "| first program (examples/first_gpt.cpp, -O2) | header-only | prebuilt |"
echo "|---|---|---|"
for arch in "" "-march=native"; do
  flags=($arch)
  suffix=${arch:+, $arch}
  tag=instances${arch:+_native}
  instances=$(build_instances "$tag" "${flags[@]}")
  echo "| umbrella <tlcr/tlcr.hpp>$suffix | $(measure "${flags[@]}") |" \
    "$(measure "${flags[@]}" -DTLCR_PREBUILT "$work/$tag.o") |"
  echo "| layers <tlcr/models.hpp> + <tlcr/optim.hpp>$suffix |" \
    "$(measure "${flags[@]}" -DFIRST_GPT_LAYER_HEADERS) |" \
    "$(measure "${flags[@]}" -DFIRST_GPT_LAYER_HEADERS -DTLCR_PREBUILT "$work/$tag.o") |"
  echo "| the prebuilt instances themselves, once$suffix | | $instances |"
done
