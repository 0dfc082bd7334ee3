#!/usr/bin/env bash
# benchmarks/run_peer.sh — tlcr's bench_gpt next to the PyTorch peer (../shared/bench/
# torch_gpt_bench.py), both on 2 threads, small and medium configurations; prints a markdown table
# of tokens/s and peak resident memory (/usr/bin/time -v). Each tlcr benchmark runs for at least
# 5 s (several steps even at medium), so one slow step on the shared VM does not decide the figure.
# usage: benchmarks/run_peer.sh build/<dir>/benchmarks/bench_gpt
# The peer runs without the machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE presets, which halve
# OpenBLAS's speed; tlcr does not use OpenBLAS. TORCH_GPT_BENCH overrides the peer's path.
set -euo pipefail

bench=${1:?usage: run_peer.sh path/to/bench_gpt}
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TORCH_GPT_BENCH:-$root/../shared/bench/torch_gpt_bench.py}
python=/usr/bin/python3  # the interpreter with torch
threads=2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

peak_rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

# tokens_per_second of one bench_gpt benchmark, run in its own process; sets tokens and rss.
run_tlcr() {
  OMP_NUM_THREADS=$threads /usr/bin/time -v -o "$work/time" "$bench" \
    --benchmark_filter="^$1/" --benchmark_min_time=5 --benchmark_format=json --benchmark_out="$work/out.json" >/dev/null
  tokens=$("$python" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["benchmarks"][0]["tokens_per_second"]))' "$work/out.json")
  rss=$(peak_rss_mib "$work/time")
}

# The peer does training then generation in one process: sets train, gen and rss.
run_peer() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -v -o "$work/time" \
    "$python" "$peer" --threads $threads "$@" >"$work/peer.txt"
  train=$(grep -o 'train_tokens_per_s=[0-9]*' "$work/peer.txt" | cut -d= -f2)
  gen=$(grep -o 'gen_tokens_per_s=[0-9]*' "$work/peer.txt" | cut -d= -f2)
  rss=$(peak_rss_mib "$work/time")
}

row() {  # name tlcr_tokens peer_tokens tlcr_rss peer_rss
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" \
    "$(awk -v a="$2" -v b="$3" 'BEGIN {printf "%.2f", a / b}')" "$4" "$5"
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $threads threads each," \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| benchmark | tlcr tokens/s | PyTorch tokens/s | tlcr / PyTorch | tlcr peak RSS (MiB) | PyTorch peak RSS (MiB) |'
echo '|---|---|---|---|---|---|'
for size in small medium; do
  if [[ $size == small ]]; then run_peer; else
    run_peer --layers 6 --heads 6 --dim 384 --ctx 256 --batch 32 --vocab 4096
  fi
  peer_train=$train peer_gen=$gen peer_rss=$rss
  run_tlcr "train_step/$size"
  row "train_step/$size" "$tokens" "$peer_train" "$rss" "$peer_rss (train + generate)"
  run_tlcr "generate/$size"
  row "generate/$size" "$tokens" "$peer_gen" "$rss" "$peer_rss (train + generate)"
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
