#!/usr/bin/env bash
# benchmarks/gpu_check.sh — the prepared check for a machine with an NVIDIA GPU: configure and build
# the CUDA tests on all cores (the GPU's own architecture), then run every GPU test (ctest label
# "gpu"), each comparing a CUDA kernel with the CPU kernel. Prints the GPU, the build time and
# ctest's summary; exits non-zero when a test fails, or when no GPU is visible (the tests would
# only report "skipped"). Meant to finish in a few minutes; set BUILD_DIR to reuse a build.
# usage: benchmarks/gpu_check.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/gpu}
jobs=$(nproc)

mkdir -p "$(dirname "$build")"
if ! nvidia-smi -L; then
  echo "gpu_check: no GPU visible (nvidia-smi failed); the GPU tests would only be skipped" >&2
  exit 2
fi
start=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLCR_WITH_CUDA=ON \
  -DTLCR_BUILD_TESTS=ON -DTLCR_BUILD_EXAMPLES=OFF -DTLCR_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=native >"$build.configure.log" 2>&1 ||
  { tail -40 "$build.configure.log"; exit 1; }
cmake --build "$build" --target test_cuda -j "$jobs" >"$build.build.log" 2>&1 ||
  { tail -60 "$build.build.log"; exit 1; }
echo "built test_cuda in $(($(date +%s) - start)) s on $jobs cores"
cd "$build"
ctest -L gpu --output-on-failure --no-tests=error
