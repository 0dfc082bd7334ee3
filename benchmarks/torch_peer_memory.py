#!/usr/bin/env python3
"""Runs the PyTorch peer (torch_gpt_bench.py) with the arguments given, then prints its peak GPU
memory: torch.cuda.max_memory_allocated over the whole run (training, then generation), as
peak_memory_mib=... on a line of its own. The peer's own output is passed through unchanged.
usage: torch_peer_memory.py PATH/torch_gpt_bench.py [peer arguments...]
"""
import runpy
import sys

import torch

peer = sys.argv[1]
sys.argv = [peer] + sys.argv[2:]
runpy.run_path(peer, run_name="__main__")
if torch.cuda.is_available():
    print(f"peak_memory_mib={torch.cuda.max_memory_allocated() / 2**20:.0f}")
