// bench_attention — the fused causal attention core at the small and medium models' shapes,
// forward (keeping P for backward) and backward, in GFLOP/s of the dense products it runs:
// forward Q·Kᵀ and P·V (4·B·H·T²·D), backward dV, dP, dQ, dK (8·B·H·T²·D). The peer runs the same
// forward products as plain single-threaded Eigen GEMMs split over (b, h) pairs, without the
// softmax: the ceiling the fused kernel can approach. attention_*_dropout: the same with dropout
// 0.1 on P (the mask drawn per entry from a counter hash, again in backward): what training with
// --attention-dropout costs. Arguments: B, H, T, D.
#include "bench_support.hpp"

#include <tlcr/ops/attention.hpp>

using namespace tlcr;

namespace {

struct AttentionInputs {
  explicit AttentionInputs(benchmark::State& state)
      : shape{state.range(0), state.range(1), state.range(2), state.range(3)},
        q(bench::random_tensor<float>(shape, 1)),
        k(bench::random_tensor<float>(shape, 2)),
        v(bench::random_tensor<float>(shape, 3)),
        out(shape),
        probs({shape.dims[0], shape.dims[1], shape.dims[2], shape.dims[2]}) {}
  // B·H·T²·D: the multiply-adds of one T×T×D product per (b, h) pair.
  double pair_products() const {
    return double(shape.dims[0]) * shape.dims[1] * shape.dims[2] * shape.dims[2] * shape.dims[3];
  }
  Shape shape;
  Tensor<float> q, k, v, out, probs;
};

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations() * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

void attention_forward(benchmark::State& state, AttentionDropout dropout) {
  AttentionInputs in(state);
  for (auto _ : state) {
    causal_attention_forward(in.out, &in.probs, in.q, in.k, in.v, std::span<const uint8_t>(), 0,
                             dropout);
    benchmark::DoNotOptimize(in.out.data());
  }
  set_flops(state, 4 * in.pair_products());
}

void attention_backward(benchmark::State& state, AttentionDropout dropout) {
  AttentionInputs in(state);
  causal_attention_forward(in.out, &in.probs, in.q, in.k, in.v, std::span<const uint8_t>(), 0,
                           dropout);
  const Tensor<float> d_out = bench::random_tensor<float>(in.shape, 4);
  Tensor<float> d_q(in.shape), d_k(in.shape), d_v(in.shape);
  for (auto _ : state) {
    causal_attention_backward(&d_q, &d_k, &d_v, d_out, in.probs, in.q, in.k, in.v, 0, dropout);
    benchmark::DoNotOptimize(d_q.data());
  }
  set_flops(state, 8 * in.pair_products());
}

// The peer: S = Q·Kᵀ and O = S·V per pair, no scaling, masking or softmax.
void eigen_forward_products(benchmark::State& state) {
  AttentionInputs in(state);
  const int64_t pairs = in.shape.dims[0] * in.shape.dims[1], T = in.shape.dims[2],
                D = in.shape.dims[3];
  for (auto _ : state) {
    parallel_for(0, pairs, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        ConstMatrixMap<float> Q(in.q.data() + p * T * D, T, D), K(in.k.data() + p * T * D, T, D),
            V(in.v.data() + p * T * D, T, D);
        MatrixMap<float> S(in.probs.data() + p * T * T, T, T), O(in.out.data() + p * T * D, T, D);
        S.noalias() = Q * K.transpose();
        O.noalias() = S * V;
      }
    });
    benchmark::DoNotOptimize(in.out.data());
  }
  set_flops(state, 4 * in.pair_products());
}

// Small model (B=16, H=4, T=128, D=64) and medium model (B=32, H=6, T=256, D=64).
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({16, 4, 128, 64})->Args({32, 6, 256, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(attention_forward, , AttentionDropout{})
    ->Name("attention_forward")
    ->Apply(shapes);
BENCHMARK_CAPTURE(attention_backward, , AttentionDropout{})
    ->Name("attention_backward")
    ->Apply(shapes);
BENCHMARK_CAPTURE(attention_forward, dropout, AttentionDropout{0.1, 7})->Apply(shapes);
BENCHMARK_CAPTURE(attention_backward, dropout, AttentionDropout{0.1, 7})->Apply(shapes);
BENCHMARK(eigen_forward_products)->Apply(shapes);
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
