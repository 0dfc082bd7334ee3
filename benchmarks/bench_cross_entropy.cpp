// bench_cross_entropy — the fused cross-entropy loss on logits (N, V), forward and backward, in
// bytes moved per second (forward reads the logits; backward reads them and updates d_logits),
// next to the copy bandwidth. Arguments: rows N, vocabulary V.
// linear_cross_entropy_with_grads is the LM head fused with this loss
// (ops/linear_cross_entropy.hpp: h (N, C) · Wᵀ, loss and the unit gradients of h and W, logits in
// chunks), in GFLOP/s of its three GEMMs, next to one plain (N, C) · (C, V) Eigen product of the
// same shape. Arguments: N, C, V.
#include "bench_support.hpp"

#include <tlcr/ops/cross_entropy.hpp>
#include <tlcr/ops/linear_cross_entropy.hpp>

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

void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations() * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

void linear_cross_entropy_with_grads(benchmark::State& state) {
  const int64_t rows = state.range(0), width = state.range(1), vocab = state.range(2);
  const Tensor<float> h = bench::random_tensor<float>({rows, width}, 1);
  const Tensor<float> w = bench::random_tensor<float>({vocab, width}, 2);  // tied-embedding layout
  const std::vector<int32_t> targets = random_targets(rows, vocab);
  Tensor<float> loss{Shape{}};
  LinearCrossEntropyGrads<float> unit{Tensor<float>(h.shape()), Tensor<float>(w.shape())};
  for (auto _ : state) {
    linear_cross_entropy_forward(loss, &unit, h, w, true, std::span<const int32_t>(targets));
    benchmark::DoNotOptimize(loss.data());
  }
  set_gflops(state, 3 * 2.0 * rows * width * vocab);  // logits, d h, d W
}

void eigen_lm_head_product(benchmark::State& state) {
  const int64_t rows = state.range(0), width = state.range(1), vocab = state.range(2);
  const Tensor<float> h = bench::random_tensor<float>({rows, width}, 1);
  const Tensor<float> w = bench::random_tensor<float>({vocab, width}, 2);
  Tensor<float> logits({rows, vocab});
  for (auto _ : state) {
    logits.matrix().noalias() = h.matrix() * w.matrix().transpose();
    benchmark::DoNotOptimize(logits.data());
  }
  set_gflops(state, 2.0 * rows * width * vocab);
}

// The small and medium models' LM logits: B·T = 2048 rows of V = 512 (4 MiB) and 4096 (32 MiB).
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({2048, 512})->Args({2048, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(forward)->Name("cross_entropy_forward")->Apply(shapes);
BENCHMARK(backward)->Name("cross_entropy_backward")->Apply(shapes);
// The medium model's LM head: B·T = 8192 rows, C = 384, V = 4096.
BENCHMARK(linear_cross_entropy_with_grads)
    ->Args({8192, 384, 4096})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(eigen_lm_head_product)
    ->Args({8192, 384, 4096})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
