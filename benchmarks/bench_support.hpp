// benchmarks/bench_support.hpp — shared pieces of the benchmark binaries: random tensors, the
// copy-bandwidth reference every memory-bound figure is compared with, and context lines
// (threads, CPU model) printed with the results.
#pragma once

#include <benchmark/benchmark.h>
#include <tlcr/tlcr.hpp>

#include <cstring>
#include <fstream>
#include <string>

namespace tlcr::bench {

template <class T>
Tensor<T> random_tensor(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  Tensor<T> t(shape);
  for (T& v : t) v = static_cast<T>(rng.normal());
  return t;
}

// Bytes moved per second by memcpy of `bytes` (read + write counted): the machine's copy bandwidth.
inline void copy_bandwidth(benchmark::State& state) {
  const std::size_t bytes = static_cast<std::size_t>(state.range(0));
  Tensor<float> source = random_tensor<float>({static_cast<int64_t>(bytes / sizeof(float))}, 1);
  Tensor<float> destination(source.shape());
  for (auto _ : state) {
    std::memcpy(destination.data(), source.data(), bytes);
    benchmark::DoNotOptimize(destination.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_second"] =
      benchmark::Counter(2.0 * bytes * state.iterations(), benchmark::Counter::kIsRate);
}

inline std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

inline void add_context() {
  benchmark::AddCustomContext("tlcr_threads", std::to_string(num_threads()));
  benchmark::AddCustomContext("cpu_model", cpu_model());
}

}  // namespace tlcr::bench

// Registers the copy-bandwidth reference (64 MiB: larger than any cache) in this binary.
#define TLCR_BENCHMARK_COPY_BANDWIDTH() \
  BENCHMARK(::tlcr::bench::copy_bandwidth)->Arg(64 << 20)->Unit(benchmark::kMillisecond)

// main() that prints the thread count and CPU model in the context block; freed memory stays in
// the heap between iterations (core/memory.hpp), as in the tlcr command.
#define TLCR_BENCHMARK_MAIN()                                    \
  int main(int argc, char** argv) {                              \
    ::tlcr::retain_freed_memory();                               \
    ::benchmark::Initialize(&argc, argv);                        \
    ::tlcr::bench::add_context();                                \
    ::benchmark::RunSpecifiedBenchmarks();                       \
    ::benchmark::Shutdown();                                     \
    return 0;                                                    \
  }
