// bench_adamw — one AdamW step over a ParameterStore, in bytes moved per second: per element it
// reads the gradient, value, m, v and the one-byte decay flag and writes value, m and v
// (29 bytes), next to the copy bandwidth. Argument: parameter count N (1024 × 1024 matrices,
// every other one decayed).
#include "bench_support.hpp"

using namespace tlcr;

namespace {

constexpr double kBytesPerElement = 7 * sizeof(float) + 1;

void adamw_step(benchmark::State& state) {
  const int64_t cols = 1024, matrices = state.range(0) / (cols * cols);
  ParameterStore<float> store;
  for (int64_t i = 0; i < matrices; ++i)
    store.add(std::to_string(i) + ".weight", Shape{cols, cols},
              i % 2 == 0 ? ParamGroup::Decay : ParamGroup::NoDecay);
  store.finalize();
  store.values().copy_from(bench::random_tensor<float>(store.values().shape(), 1));
  store.grads().copy_from(bench::random_tensor<float>(store.grads().shape(), 2));
  AdamW<float> optimizer(store, {.lr = 1e-4});
  for (auto _ : state) {
    optimizer.step();
    benchmark::DoNotOptimize(store.values().data());
  }
  state.counters["bytes_per_second"] = benchmark::Counter(
      kBytesPerElement * store.numel() * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

// About the small (3.3M) and medium (12.3M) models' parameter counts, in whole 1M-float matrices.
BENCHMARK(adamw_step)->Arg(3 << 20)->Arg(12 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
