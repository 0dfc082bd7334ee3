// bench_matmul — tlcr::matmul_forward (the packed float GEMM, ops/packed_gemm.hpp) in every
// transpose combination next to a plain Eigen product of the same shape, in GFLOP/s (2·M·N·K per
// product); the products of one medium GPT layer against Eigen in the same transposes;
// batched_matmul at attention shapes. Arguments: M, K, N, transpose_a, transpose_b.
#include "bench_support.hpp"

using namespace tlcr;

namespace {

Shape stored(int64_t rows, int64_t cols, bool transposed) {
  return transposed ? Shape{cols, rows} : Shape{rows, cols};
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations() * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

void tlcr_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3), tb = state.range(4);
  Tensor<float> a = bench::random_tensor<float>(stored(m, k, ta), 1);
  Tensor<float> b = bench::random_tensor<float>(stored(k, n, tb), 2);
  Tensor<float> out({m, n});
  for (auto _ : state) {
    matmul_forward(out, a, b, ta, tb);
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, 2.0 * m * n * k);
}

// The peer: Eigen's own product on contiguous row-major matrices already in op() layout.
void eigen_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  RowMatrix<float> a = RowMatrix<float>::Random(m, k), b = RowMatrix<float>::Random(k, n);
  RowMatrix<float> out(m, n);
  for (auto _ : state) {
    out.noalias() = a * b;
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, 2.0 * m * n * k);
}

// The backward of out = a·b: both gradients, 4·M·N·K flops.
void tlcr_matmul_backward(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Tensor<float> a = bench::random_tensor<float>({m, k}, 1),
                b = bench::random_tensor<float>({k, n}, 2);
  Tensor<float> d_out = bench::random_tensor<float>({m, n}, 3), d_a({m, k}), d_b({k, n});
  for (auto _ : state) {
    matmul_backward(&d_a, &d_b, d_out, a, b);
    benchmark::DoNotOptimize(d_a.data());
  }
  set_flops(state, 4.0 * m * n * k);
}

// Attention-shaped batched products: (B·H) × (T×D)·(D×T) scores.
void tlcr_batched_matmul(benchmark::State& state) {
  const int64_t batch = state.range(0), t = state.range(1), d = state.range(2);
  Tensor<float> q = bench::random_tensor<float>({batch, t, d}, 1),
                k = bench::random_tensor<float>({batch, t, d}, 2);
  Tensor<float> scores({batch, t, t});
  for (auto _ : state) {
    batched_matmul_forward(scores, q, k, false, true);
    benchmark::DoNotOptimize(scores.data());
  }
  set_flops(state, 2.0 * batch * t * t * d);
}

void square_and_transformer_shapes(benchmark::internal::Benchmark* b) {
  for (int ta : {0, 1})
    for (int tb : {0, 1}) {
      b->Args({512, 512, 512, ta, tb});
      b->Args({2048, 256, 768, ta, tb});   // x (B·T, C) · W_qkv (C, 3C)
      b->Args({2048, 1024, 256, ta, tb});  // MLP down-projection
    }
}

// The products of one medium GPT layer (bench_gpt's train_step/medium: B·T = 8192, C = 384), as
// M, K, N, transpose_a, transpose_b: forward x·W, input gradient dY·Wᵀ, weight gradient xᵀ·dY.
void medium_gpt_shapes(benchmark::internal::Benchmark* b) {
  b->Args({8192, 384, 1152, 0, 0});  // attention q, k, v projection
  b->Args({8192, 1536, 384, 0, 0});  // MLP down-projection
  b->Args({8192, 1152, 384, 0, 1});  // its input gradient
  b->Args({384, 8192, 1152, 1, 0});  // its weight gradient
  b->Args({384, 8192, 1536, 1, 0});  // MLP up-projection's weight gradient
}

// Eigen's product in the same transpose combination, operands stored as tlcr stores them.
void eigen_matmul_transposed(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3), tb = state.range(4);
  RowMatrix<float> a = ta ? RowMatrix<float>::Random(k, m) : RowMatrix<float>::Random(m, k);
  RowMatrix<float> b = tb ? RowMatrix<float>::Random(n, k) : RowMatrix<float>::Random(k, n);
  RowMatrix<float> out(m, n);
  for (auto _ : state) {
    if (ta)
      out.noalias() = a.transpose() * b;
    else if (tb)
      out.noalias() = a * b.transpose();
    else
      out.noalias() = a * b;
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, 2.0 * m * n * k);
}

}  // namespace

BENCHMARK(tlcr_matmul)->Apply(square_and_transformer_shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK(eigen_matmul)
    ->Args({512, 512, 512})
    ->Args({2048, 256, 768})
    ->Args({2048, 1024, 256})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(tlcr_matmul)
    ->Apply(medium_gpt_shapes)
    ->Name("tlcr_matmul/medium_gpt")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(eigen_matmul_transposed)
    ->Apply(medium_gpt_shapes)
    ->Name("eigen_matmul/medium_gpt")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(tlcr_matmul_backward)
    ->Args({512, 512, 512})
    ->Args({2048, 256, 768})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(tlcr_batched_matmul)->Args({64, 128, 64})->Unit(benchmark::kMicrosecond);
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
