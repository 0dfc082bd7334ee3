#!/usr/bin/env bash
# benchmarks/gpu_demo.sh — the second prepared GPU check: build the `tlcr` command with CUDA for
# this machine's GPU (one CUDA unit: a few minutes however many cores), then time `tlcr demo
# --device cuda` (the whole pipeline on the built-in task) and, with CPU_BASELINE=1, the same demo
# with --device cpu on this machine's cores, so that both wall times come from one machine.
# Results land in $OUT (or build/gpu_demo): each demo's directory and a line per run in times.txt.
# Environment: BUILD_DIR reuses a build; DEMO_ARGS adds demo flags (e.g. --quick); PYTHON unused.
# usage: benchmarks/gpu_demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/gpu-demo}
out=${OUT:-$root/build/gpu_demo}
mkdir -p "$out" "$(dirname "$build")"
nvidia-smi -L || { echo "gpu_demo: no GPU visible" >&2; exit 2; }
prefix_args=()
if compgen -G "$root/.gpu_deps/*.deb" >/dev/null; then  # see gpu_deps.sh
  prefix_args=(-DCMAKE_PREFIX_PATH="$("$root/benchmarks/gpu_deps.sh" unpack /tmp/tlcr_gpu_deps)")
fi
start=$(date +%s)
cmake -S "$root" -B "$build" "${prefix_args[@]}" -DCMAKE_BUILD_TYPE=Release -DTLCR_WITH_CUDA=ON \
  -DTLCR_BUILD_TESTS=OFF -DTLCR_BUILD_EXAMPLES=ON -DTLCR_BUILD_BENCHMARKS=OFF -DTLCR_WITH_MPI=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=native >"$build.configure.log" 2>&1 ||
  { tail -40 "$build.configure.log"; exit 1; }
cmake --build "$build" --target tlcr_cli -j "$(nproc)" >"$build.build.log" 2>&1 ||
  { tail -60 "$build.build.log"; exit 1; }
echo "built tlcr (CUDA) in $(($(date +%s) - start)) s" | tee "$out/times.txt"

devices=(cuda)
[[ -n ${CPU_BASELINE:-} ]] && devices+=(cpu)
for device in "${devices[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$build/examples/tlcr" demo --device "$device" --out "$out/demo-$device" ${DEMO_ARGS:-} \
    >"$out/demo-$device.log" 2>&1 || { tail -30 "$out/demo-$device.log"; exit 1; }
  echo "tlcr demo --device $device ${DEMO_ARGS:-}: $(($(date +%s) - start)) s on $(nproc) cores" \
    "and $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" | tee -a "$out/times.txt"
  tail -15 "$out/demo-$device.log"
done
