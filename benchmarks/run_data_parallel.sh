#!/usr/bin/env bash
# benchmarks/run_data_parallel.sh — data-parallel training on this machine: the medium GPT trained
# as 1 rank × 2 threads and as 2 ranks × 1 thread (same global batch, same weights to the bit),
# printed as a markdown table with the time per step spent gathering gradients.
# usage: benchmarks/run_data_parallel.sh build/<dir>/benchmarks/data_parallel [steps]
set -euo pipefail
bench=${1:?usage: run_data_parallel.sh path/to/data_parallel [steps]}
steps=${2:-3}
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average" \
  "before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| layout | tokens/s | s per step | s per step in the gradient gather | MB received per step per rank | final loss |'
echo '|---|---|---|---|---|---|'
row() {
  local layout=$1 line=$2
  field() { grep -oE "(^| )$1=[^ ]*" <<<"$line" | cut -d= -f2; }
  printf '| %s | %s | %s | %s | %.1f | %s |\n' "$layout" "$(field tokens_per_second)" \
    "$(field seconds_per_step)" "$(field communication_seconds_per_step)" \
    "$(awk -v b="$(field bytes_received_per_step)" 'BEGIN {print b / 1e6}')" "$(field last_loss)"
}
row "1 rank × 2 threads" "$(OMP_NUM_THREADS=2 "$bench" --steps "$steps" --micro-batches 2)"
row "2 ranks × 1 thread" "$(OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np 2 \
  "$bench" --steps "$steps" --micro-batches 2)"
