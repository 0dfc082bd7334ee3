// bench_norm — fused LayerNorm and RMSNorm over the last axis, forward and backward, in bytes moved
// per second (forward reads x and writes out; backward reads x and d_out and updates d_x; the
// per-row statistics and the C-sized parameters are negligible), next to the copy bandwidth.
// Arguments: rows R, channels C.
#include "bench_support.hpp"

using namespace tlcr;

namespace {

constexpr float kEps = 1e-5f;

void set_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["bytes_per_second"] =
      benchmark::Counter(bytes_per_iteration * state.iterations(), benchmark::Counter::kIsRate);
}

// x (R,C), weight and bias (C), and room for the forward's outputs.
struct NormInputs {
  explicit NormInputs(benchmark::State& state)
      : x(bench::random_tensor<float>({state.range(0), state.range(1)}, 1)),
        weight(bench::random_tensor<float>({state.range(1)}, 2)),
        bias(bench::random_tensor<float>({state.range(1)}, 3)),
        out(x.shape()),
        mean(norm_stats_shape(x.shape())),
        rstd(norm_stats_shape(x.shape())) {}
  Tensor<float> x, weight, bias, out, mean, rstd;
};

void layernorm(benchmark::State& state) {
  NormInputs in(state);
  for (auto _ : state) {
    layernorm_forward(in.out, in.mean, in.rstd, in.x, in.weight, in.bias, kEps);
    benchmark::DoNotOptimize(in.out.data());
  }
  set_bytes(state, 2.0 * sizeof(float) * in.x.numel());
}

void layernorm_grad(benchmark::State& state) {
  NormInputs in(state);
  layernorm_forward(in.out, in.mean, in.rstd, in.x, in.weight, in.bias, kEps);
  const Tensor<float> d_out = bench::random_tensor<float>(in.x.shape(), 4);
  Tensor<float> d_x(in.x.shape()), d_weight(in.weight.shape()), d_bias(in.bias.shape());
  for (auto _ : state) {
    layernorm_backward(&d_x, &d_weight, &d_bias, d_out, in.x, in.weight, in.mean, in.rstd);
    benchmark::DoNotOptimize(d_x.data());
  }
  set_bytes(state, 4.0 * sizeof(float) * in.x.numel());
}

void rmsnorm(benchmark::State& state) {
  NormInputs in(state);
  for (auto _ : state) {
    rmsnorm_forward(in.out, in.rstd, in.x, in.weight, kEps);
    benchmark::DoNotOptimize(in.out.data());
  }
  set_bytes(state, 2.0 * sizeof(float) * in.x.numel());
}

void rmsnorm_grad(benchmark::State& state) {
  NormInputs in(state);
  rmsnorm_forward(in.out, in.rstd, in.x, in.weight, kEps);
  const Tensor<float> d_out = bench::random_tensor<float>(in.x.shape(), 4);
  Tensor<float> d_x(in.x.shape()), d_weight(in.weight.shape());
  for (auto _ : state) {
    rmsnorm_backward(&d_x, &d_weight, d_out, in.x, in.weight, in.rstd);
    benchmark::DoNotOptimize(d_x.data());
  }
  set_bytes(state, 4.0 * sizeof(float) * in.x.numel());
}

// Activations of the medium model (B·T = 32·256, C = 384; 12 MiB) and a 64 MiB block (C = 256).
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({8192, 384})->Args({65536, 256})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(layernorm)->Name("layernorm_forward")->Apply(shapes);
BENCHMARK(layernorm_grad)->Name("layernorm_backward")->Apply(shapes);
BENCHMARK(rmsnorm)->Name("rmsnorm_forward")->Apply(shapes);
BENCHMARK(rmsnorm_grad)->Name("rmsnorm_backward")->Apply(shapes);
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
