// bench_cross_entropy — the fused cross-entropy loss on logits (N, V), forward and backward, in
// bytes moved per second (forward reads the logits; backward reads them and updates d_logits),
// next to the copy bandwidth. Arguments: rows N, vocabulary V.
#include "bench_support.hpp"

#include <tlcr/ops/cross_entropy.hpp>

using namespace tlcr;

namespace {

void set_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["bytes_per_second"] =
      benchmark::Counter(bytes_per_iteration * state.iterations(), benchmark::Counter::kIsRate);
}

std::vector<int32_t> random_targets(int64_t rows, int64_t vocab) {
  Rng rng(5);
  std::vector<int32_t> targets(rows);
  for (int32_t& t : targets) t = static_cast<int32_t>(rng.uniform_int(vocab));
  return targets;
}

void forward(benchmark::State& state) {
  const int64_t rows = state.range(0), vocab = state.range(1);
  const Tensor<float> logits = bench::random_tensor<float>({rows, vocab}, 1);
  const std::vector<int32_t> targets = random_targets(rows, vocab);
  Tensor<float> loss{Shape{}}, logsumexp({rows});
  for (auto _ : state) {
    cross_entropy_forward(loss, logsumexp, logits, std::span<const int32_t>(targets));
    benchmark::DoNotOptimize(loss.data());
  }
  set_bytes(state, 1.0 * sizeof(float) * logits.numel());
}

void backward(benchmark::State& state) {
  const int64_t rows = state.range(0), vocab = state.range(1);
  const Tensor<float> logits = bench::random_tensor<float>({rows, vocab}, 1);
  const std::vector<int32_t> targets = random_targets(rows, vocab);
  Tensor<float> loss{Shape{}}, logsumexp({rows}), d_logits(logits.shape());
  cross_entropy_forward(loss, logsumexp, logits, std::span<const int32_t>(targets));
  const Tensor<float> d_loss = Tensor<float>::full(Shape{}, 1.0f);
  for (auto _ : state) {
    cross_entropy_backward(d_logits, d_loss, logits, logsumexp, std::span<const int32_t>(targets));
    benchmark::DoNotOptimize(d_logits.data());
  }
  set_bytes(state, 3.0 * sizeof(float) * logits.numel());
}

// The small and medium models' LM logits: B·T = 2048 rows of V = 512 (4 MiB) and 4096 (32 MiB).
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({2048, 512})->Args({2048, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(forward)->Name("cross_entropy_forward")->Apply(shapes);
BENCHMARK(backward)->Name("cross_entropy_backward")->Apply(shapes);
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
