#!/usr/bin/env bash
# benchmarks/gpu_deps.sh — the Debian packages the GPU build needs (Eigen, doctest, Google
# Benchmark, nlohmann-json, CLI11), for a GPU machine whose image has CUDA, CMake and a compiler
# but none of them and cannot download: fetched here as .deb files into .gpu_deps/ (ignored by
# git; carry it to the GPU machine), unpacked there into a private prefix (never into /).
#   benchmarks/gpu_deps.sh fetch            download the .debs into .gpu_deps/
#   benchmarks/gpu_deps.sh unpack PREFIX    unpack them into PREFIX; prints PREFIX/usr, the path
#                                           for CMAKE_PREFIX_PATH
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
debs=$root/.gpu_deps
packages=(libeigen3-dev doctest-dev libbenchmark-dev libbenchmark1debian nlohmann-json3-dev
          libcli11-dev)

case ${1:-} in
  fetch)
    mkdir -p "$debs"
    (cd "$debs" && apt-get download "${packages[@]}")
    ls -l "$debs"
    ;;
  unpack)
    prefix=${2:?usage: gpu_deps.sh unpack PREFIX}
    mkdir -p "$prefix"
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
    echo "$prefix/usr"
    ;;
  *)
    echo "usage: gpu_deps.sh fetch | unpack PREFIX" >&2
    exit 2
    ;;
esac
