#!/usr/bin/env bash
# benchmarks/gpu_check.sh — the prepared check for a machine with an NVIDIA GPU, sized to finish
# in about 8 minutes on an H100/H200 with 16 cores:
#   1. configure with CUDA for the GPU's own architecture and build the GPU tests and bench_gpt
#      on all cores;
#   2. run every GPU test (ctest label "gpu": each CUDA kernel against the CPU's, the model, the
#      trainers and PPO against the CPU, resumes bitwise);
#   3. bench_gpt --device=cuda --tf32 and the PyTorch peer (../shared/bench/torch_gpt_bench.py,
#      TF32 matmuls too) eager and with torch.compile at small, medium and GPT-2 124M, and print
#      one table (gpu_table.py): training and generation tokens/s, ratios, MFU, peak GPU memory.
# Exits non-zero when a test fails or no GPU is visible (the tests would only report "skipped");
# the benchmarks run even when a test failed, so that one run gives every figure.
# On a machine without Eigen, doctest or Google Benchmark, run `benchmarks/gpu_deps.sh fetch` where
# apt works and bring .gpu_deps/ along. Environment: BUILD_DIR reuses a build; SKIP_TESTS=1 or SKIP_BENCH=1 skip a phase; NO_COMPILE=1
# skips the torch.compile runs; TORCH_GPT_BENCH overrides the peer's path; PYTHON its interpreter.
# usage: benchmarks/gpu_check.sh
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/gpu}
peer=${TORCH_GPT_BENCH:-$root/../shared/bench/torch_gpt_bench.py}
python=${PYTHON:-python3}
jobs=$(nproc)
status=0

mkdir -p "$(dirname "$build")"
if ! nvidia-smi -L; then
  echo "gpu_check: no GPU visible (nvidia-smi failed); the GPU tests would only be skipped" >&2
  exit 2
fi
echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
# The GPU image has CUDA, CMake and a compiler; Eigen, doctest and Google Benchmark come as the
# .debs gpu_deps.sh fetched (carried in .gpu_deps/), unpacked into a private prefix.
prefix_args=()
if compgen -G "$root/.gpu_deps/*.deb" >/dev/null; then
  prefix_args=(-DCMAKE_PREFIX_PATH="$("$root/benchmarks/gpu_deps.sh" unpack /tmp/tlcr_gpu_deps)")
fi
start=$(date +%s)
cmake -S "$root" -B "$build" "${prefix_args[@]}" -DCMAKE_BUILD_TYPE=Release -DTLCR_WITH_CUDA=ON \
  -DTLCR_BUILD_TESTS=ON -DTLCR_BUILD_EXAMPLES=OFF -DTLCR_BUILD_BENCHMARKS=ON \
  -DTLCR_CUDA_TEST_UNITY_BATCH=1 \
  -DCMAKE_CUDA_ARCHITECTURES=native >"$build.configure.log" 2>&1 ||
  { tail -40 "$build.configure.log"; exit 1; }
cmake --build "$build" --target test_cuda bench_gpt -j "$jobs" >"$build.build.log" 2>&1 ||
  { tail -60 "$build.build.log"; exit 1; }
echo "built test_cuda and bench_gpt in $(($(date +%s) - start)) s on $jobs cores"

if [[ -z ${SKIP_TESTS:-} ]]; then
  start=$(date +%s)
  (cd "$build" && ctest -L gpu --output-on-failure --no-tests=error -j 4) || status=1
  echo "GPU tests: $(($(date +%s) - start)) s"
fi

if [[ -z ${SKIP_BENCH:-} ]]; then
  work=$build/gpu_check
  mkdir -p "$work"
  start=$(date +%s)
  "$build/benchmarks/bench_gpt" --device=cuda --tf32 --benchmark_min_time=2 \
    --benchmark_format=json --benchmark_out="$work/bench.json" >/dev/null || status=1
  echo "bench_gpt: $(($(date +%s) - start)) s"
  for size in small medium gpt2; do
    case $size in
      small) args=(--layers 4 --heads 4 --dim 256 --ctx 128 --batch 16 --vocab 512) ;;
      medium) args=(--layers 6 --heads 6 --dim 384 --ctx 256 --batch 32 --vocab 4096) ;;
      gpt2) args=(--layers 12 --heads 12 --dim 768 --ctx 1024 --batch 8 --vocab 50257) ;;
    esac
    modes=(eager)
    [[ -z ${NO_COMPILE:-} ]] && modes+=(compile)
    for mode in "${modes[@]}"; do
      extra=()
      [[ $mode == compile ]] && extra=(--compile)
      start=$(date +%s)
      "$python" "$root/benchmarks/torch_peer_memory.py" "$peer" --device cuda --steps 20 \
        "${args[@]}" "${extra[@]}" >"$work/${size}_$mode.txt" 2>"$work/${size}_$mode.err" ||
        { echo "PyTorch $size $mode failed:"; tail -5 "$work/${size}_$mode.err"; }
      echo "PyTorch $size $mode: $(($(date +%s) - start)) s: $(tail -2 "$work/${size}_$mode.txt" | tr '\n' ' ')"
    done
  done
  echo
  "$python" "$root/benchmarks/gpu_table.py" "$work/bench.json" "$work" || status=1
fi
exit $status
