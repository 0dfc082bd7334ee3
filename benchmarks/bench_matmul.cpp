// bench_matmul — tlcr::matmul_forward (the packed float GEMM, ops/packed_gemm.hpp) in every
// transpose combination next to a plain Eigen product of the same shape, in GFLOP/s (2·M·N·K per
// product); the products of one medium GPT layer against Eigen in the same transposes;
// batched_matmul at attention shapes. Arguments: M, K, N, transpose_a, transpose_b.
// beside_busy_core: the products of a short row of tokens (`tlcr logprobs`) and of a decoding step
// with another process spinning on one core, each reported with its slowdown against 1 thread
// (vs_1_thread), tlcr's dispatch next to Eigen's own threaded GEMM (what medium row counts used to
// reach). thin_vs_packed: the packed GEMM's two paths on the same product (how kThinRows was set).
#include "bench_support.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <csignal>

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

// Another process spinning on one core for as long as the object lives: a second job on a shared
// laptop or CI runner. (It ends itself after 10 minutes should this process die first.)
class BusyNeighbour {
 public:
  explicit BusyNeighbour(bool busy) {
    if (!busy) return;
    pid_ = fork();
    if (pid_ == 0) {
      alarm(600);
      for (uint64_t spin = 0;; ++spin) benchmark::DoNotOptimize(spin);
    }
  }
  ~BusyNeighbour() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  BusyNeighbour(const BusyNeighbour&) = delete;
  BusyNeighbour& operator=(const BusyNeighbour&) = delete;

 private:
  pid_t pid_ = 0;
};

// The default `tlcr pretrain` model's products (width 256): x·W_qkv, the MLP down-projection, and
// the tied LM head against a 4096-token vocabulary (B stored transposed), as K, N, transpose_b.
struct ProductShape {
  int64_t k, n;
  bool transpose_b;
};
constexpr ProductShape kBusyShapes[] = {{256, 768, false}, {1024, 256, false}, {256, 4096, true}};

// Arguments: M, shape (index into kBusyShapes), threads, busy neighbour (0/1), Eigen's threaded
// GEMM instead of tlcr's dispatch (0/1). Counter vs_1_thread: time per product over the time of
// the same product on 1 thread, measured just before in the same conditions.
void beside_busy_core(benchmark::State& state) {
  const int64_t m = state.range(0);
  const ProductShape shape = kBusyShapes[state.range(1)];
  const int threads = int(state.range(2));
  const bool eigen_threaded = state.range(4) != 0;
  Tensor<float> a = bench::random_tensor<float>({m, shape.k}, 1);
  Tensor<float> b = bench::random_tensor<float>(
      shape.transpose_b ? Shape{shape.n, shape.k} : Shape{shape.k, shape.n}, 2);
  Tensor<float> out({m, shape.n});
  auto product = [&](int thread_count) {
    if (eigen_threaded) {  // Eigen's threads on for this product only; tlcr keeps them off
      Eigen::setNbThreads(thread_count);
      if (shape.transpose_b)
        out.matrix().noalias() = a.matrix() * b.matrix().transpose();
      else
        out.matrix().noalias() = a.matrix() * b.matrix();
      Eigen::setNbThreads(1);
    } else {
      matmul_forward(out, a, b, false, shape.transpose_b);
    }
    benchmark::DoNotOptimize(out.data());
  };
  const BusyNeighbour neighbour(state.range(3) != 0);
  using Clock = std::chrono::steady_clock;
  auto seconds_per_product = [&](int thread_count, double budget) {
    ThreadCountGuard guard(thread_count);
    product(thread_count);  // warm-up
    int64_t count = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    for (; elapsed < budget; ++count) {
      product(thread_count);
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    return elapsed / double(count);
  };
  const double one_thread = seconds_per_product(1, 0.2);
  ThreadCountGuard guard(threads);
  const auto start = Clock::now();
  for (auto _ : state) product(threads);
  const double per_product =
      std::chrono::duration<double>(Clock::now() - start).count() / double(state.iterations());
  state.counters["vs_1_thread"] = per_product / one_thread;
  set_flops(state, 2.0 * m * shape.n * shape.k);
}

void busy_core_cases(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 13, 24, 47})  // a decoding step's row; short rows of tokens
    for (int64_t shape = 0; shape < 3; ++shape)
      for (int64_t eigen : {0, 1}) b->Args({m, shape, 2, 1, eigen});
  b->Args({24, 0, 2, 0, 0});  // idle machine, for reference
  b->Args({24, 0, 2, 0, 1});
}

// The packed GEMM's thin path (B read in place) and packed path (B packed) on the same product.
// Arguments: M, shape (kBusyShapes), path (0 thin, 1 packed).
void thin_vs_packed(benchmark::State& state) {
#if TLCR_HAVE_PACKED_GEMM
  const int64_t m = state.range(0);
  const ProductShape shape = kBusyShapes[state.range(1)];
  Tensor<float> a = bench::random_tensor<float>({m, shape.k}, 1);
  Tensor<float> b = bench::random_tensor<float>(
      shape.transpose_b ? Shape{shape.n, shape.k} : Shape{shape.k, shape.n}, 2);
  Tensor<float> out({m, shape.n});
  const packed::Operand A{a.data(), shape.k, false},
      B{b.data(), shape.transpose_b ? shape.k : shape.n, shape.transpose_b};
  for (auto _ : state) {
    if (state.range(2) == 0)
      packed::detail::multiply_thin<packed::NativeIsa>(m, shape.n, shape.k, A, B, out.data(),
                                                       shape.n, false);
    else
      packed::detail::multiply_packed<packed::NativeIsa>(m, shape.n, shape.k, A, B, out.data(),
                                                         shape.n, false);
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, 2.0 * m * shape.n * shape.k);
#else
  state.SkipWithError("no packed GEMM on this CPU");
#endif
}

void thin_vs_packed_cases(benchmark::internal::Benchmark* b) {
  for (int64_t m : {13, 48, 96, 192, 384, 768})
    for (int64_t shape = 0; shape < 3; ++shape)
      for (int64_t path : {0, 1}) b->Args({m, shape, path});
}

}  // namespace

BENCHMARK(beside_busy_core)
    ->Apply(busy_core_cases)
    ->ArgNames({"M", "shape", "threads", "busy", "eigen"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(thin_vs_packed)
    ->Apply(thin_vs_packed_cases)
    ->ArgNames({"M", "shape", "packed"})
    ->Unit(benchmark::kMicrosecond);
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
