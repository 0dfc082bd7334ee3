#!/usr/bin/env python3
"""Prints gpu_check.sh's table: tlcr's bench_gpt --device=cuda (Google Benchmark JSON) next to the
PyTorch peer, eager and torch.compile, at each configuration: training and generation tokens/s,
their ratios, MFU of both sides (bench_gpt's FLOPs per training token, train_flops_per_token, over
the peak bench_gpt used), peak GPU memory.
usage: gpu_table.py BENCH_JSON PEER_DIR   (PEER_DIR/<size>_eager.txt, <size>_compile.txt)
"""
import json
import os
import re
import sys

SIZES = ("small", "medium", "gpt2")  # bench_gpt.cpp's and gpu_check.sh's configurations


def peer_values(path):
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.eE+-]+)", text) if k != "torch"}


def ratio(a, b):
    return f"**{a / b:.2f}×**" if a and b else "–"


def number(x, digits=0):
    return f"{x:,.{digits}f}" if x else "–"


def main():
    bench = json.load(open(sys.argv[1]))
    peer_dir = sys.argv[2]
    context = bench["context"]
    peak = float(context.get("peak_tflops", "0")) * 1e12
    results = {b["name"].split("/real_time")[0]: b for b in bench["benchmarks"]}
    print(f"GPU: {context.get('gpu', '?')}; float GEMMs: {context.get('float_gemms', '?')} on both"
          f" sides; MFU against {peak / 1e12:.1f} TFLOP/s")
    print()
    print("| config | tlcr train tok/s | PyTorch eager | torch.compile | tlcr / eager | tlcr / compile"
          " | MFU tlcr | MFU eager | MFU compile | tlcr generate tok/s | PyTorch generate | tlcr / PyTorch"
          " | peak MiB tlcr (train) | peak MiB PyTorch eager (train + generate) |")
    print("|" + "---|" * 14)
    for size in SIZES:
        train = results.get(f"train_step/{size}", {})
        gen = results.get(f"generate/{size}", {})
        eager = peer_values(os.path.join(peer_dir, f"{size}_eager.txt"))
        compiled = peer_values(os.path.join(peer_dir, f"{size}_compile.txt"))
        tlcr_train = train.get("tokens_per_second", 0)
        flops = train.get("train_flops_per_token", 0)  # the same model on both sides

        def mfu(tokens):
            return f"{100 * tokens * flops / peak:.1f}%" if tokens and flops and peak else "–"

        print(f"| {size} | {number(tlcr_train)} | {number(eager.get('train_tokens_per_s'))}"
              f" | {number(compiled.get('train_tokens_per_s'))}"
              f" | {ratio(tlcr_train, eager.get('train_tokens_per_s'))}"
              f" | {ratio(tlcr_train, compiled.get('train_tokens_per_s'))}"
              f" | {mfu(tlcr_train)} | {mfu(eager.get('train_tokens_per_s'))}"
              f" | {mfu(compiled.get('train_tokens_per_s'))}"
              f" | {number(gen.get('tokens_per_second'))} | {number(eager.get('gen_tokens_per_s'))}"
              f" | {ratio(gen.get('tokens_per_second'), eager.get('gen_tokens_per_s'))}"
              f" | {number(train.get('peak_memory_mib'))} | {number(eager.get('peak_memory_mib'))} |")


if __name__ == "__main__":
    main()
