// GPU tests of cuda/flash_attention.cuh (fused attention that keeps each row's log-sum-exp, not P)
// against the CPU kernel: one query and key; odd sizes and head sizes that do not fill a warp
// (D = 13, 33) or fill it exactly (D = 128, the largest taken); several key tiles and row blocks;
// left padding with a row whose keys are all padded (zeros, no NaN, lse = −∞); KV-cache offsets
// with cache rows past the visible keys filled with NaN (never read); attention dropout (the CPU's
// mask); more (b, h) pairs than one grid holds. Output, lse and the three gradients (added to
// random values already there) are compared; the GPU repeats its bits. Through autograd, a Cuda
// causal_attention that needs gradients takes the fused kernels and agrees with the CPU; D = 160
// takes the materialized kernel and agrees too.
// Tolerances: products of D or Tv terms and sums in another order: 2e-6·(D + Tv) of the values'
// scale in float, 1e-13·(D + Tv) in double.
#include "cuda_testing.cuh"

#include <cmath>
#include <limits>

#include <tlcr/autograd.hpp>
#include <tlcr/cuda.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_flash_attention_test {
struct Case {
  int64_t batch, heads, queries, keys, dim, offset;
  bool padding;
  double dropout;
};

template <class T>
void check_case(const Case& c, double unit) {
  CAPTURE(c.queries);
  CAPTURE(c.keys);
  CAPTURE(c.dim);
  CAPTURE(c.offset);
  CAPTURE(c.padding);
  CAPTURE(c.dropout);
  Rng rng(73);
  const Shape q_shape{c.batch, c.heads, c.queries, c.dim},
      kv_shape{c.batch, c.heads, c.keys, c.dim};
  const auto [q, k, v, mask] =
      attention_inputs<T>(c.batch, c.heads, c.queries, c.keys, c.dim, c.offset, c.padding, rng);
  const int64_t visible = c.offset + c.queries;
  const AttentionDropout dropout{c.dropout, 99};
  const AttentionSizes sizes =
      attention_sizes("test", q_shape, kv_shape, kv_shape, mask.size(), c.offset);
  Tensor<T> out(q_shape), probs(sizes.probs_shape());
  causal_attention_forward(out, &probs, q, k, v, std::span<const uint8_t>(mask), c.offset, dropout);

  const Tensor<T, Cuda> q_gpu = on_gpu(q), k_gpu = on_gpu(k), v_gpu = on_gpu(v);
  const Tensor<uint8_t, Cuda> mask_gpu =
      mask.empty() ? Tensor<uint8_t, Cuda>()
                   : Tensor<uint8_t, Cuda>::from(Shape{int64_t(mask.size())}, mask);
  Tensor<T, Cuda> out_gpu(q_shape), lse_gpu(Shape{c.batch, c.heads, c.queries});
  flash_attention_forward(out_gpu, lse_gpu, q_gpu, k_gpu, v_gpu, mask_gpu, c.offset, dropout);
  const double tolerance = unit * double(c.dim + visible);
  CHECK(scaled_difference(out_gpu, out) <= tolerance);

  // lse against the CPU: log Σ_s e^(scale·q·k_s) over the keys row t sees, in double.
  const Tensor<T> lse = lse_gpu.to_host();
  const double scale = 1 / std::sqrt(double(c.dim));
  double worst_lse = 0;
  for (int64_t pair = 0; pair < c.batch * c.heads; ++pair)
    for (int64_t t = 0; t < c.queries; ++t) {
      const int64_t b = pair / c.heads;
      double m = -std::numeric_limits<double>::infinity(), sum = 0;
      std::vector<double> scores;
      for (int64_t s = 0; s <= c.offset + t; ++s) {
        if (!mask.empty() && mask[b * c.keys + s] == 0) continue;
        double dot = 0;
        for (int64_t d = 0; d < c.dim; ++d)
          dot += double(q[(pair * c.queries + t) * c.dim + d]) *
                 double(k[(pair * c.keys + s) * c.dim + d]);
        scores.push_back(scale * dot);
        m = std::max(m, scale * dot);
      }
      const double got = double(lse[pair * c.queries + t]);
      if (scores.empty()) {
        CHECK(got == -std::numeric_limits<double>::infinity());
        continue;
      }
      for (double s : scores) sum += std::exp(s - m);
      worst_lse = std::max(worst_lse, std::abs(got - (m + std::log(sum))));
    }
  CHECK(worst_lse <= tolerance * 10);

  // Gradients are added to what the buffers hold.
  const Tensor<T> g = random_normal<T>(q_shape, rng);
  Tensor<T> d_q = random_normal<T>(q_shape, rng), d_k = random_normal<T>(kv_shape, rng),
            d_v = random_normal<T>(kv_shape, rng);
  Tensor<T, Cuda> d_q_gpu = on_gpu(d_q), d_k_gpu = on_gpu(d_k), d_v_gpu = on_gpu(d_v);
  const Tensor<T, Cuda> d_q_start = on_gpu(d_q), d_k_start = on_gpu(d_k), d_v_start = on_gpu(d_v);
  causal_attention_backward(&d_q, &d_k, &d_v, g, probs, q, k, v, c.offset, dropout);
  const Tensor<T, Cuda> g_gpu = on_gpu(g);
  flash_attention_backward(&d_q_gpu, &d_k_gpu, &d_v_gpu, g_gpu, out_gpu, lse_gpu, q_gpu, k_gpu,
                           v_gpu, mask_gpu, c.offset, dropout);
  CHECK(scaled_difference(d_q_gpu, d_q) <= tolerance);
  CHECK(scaled_difference(d_k_gpu, d_k) <= tolerance);
  CHECK(scaled_difference(d_v_gpu, d_v) <= tolerance);

  // The same inputs again: the same bits.
  Tensor<T, Cuda> out_again(q_shape), lse_again(lse_gpu.shape());
  flash_attention_forward(out_again, lse_again, q_gpu, k_gpu, v_gpu, mask_gpu, c.offset, dropout);
  Tensor<T, Cuda> d_q_again = d_q_start.clone(), d_k_again = d_k_start.clone(),
                  d_v_again = d_v_start.clone();
  flash_attention_backward(&d_q_again, &d_k_again, &d_v_again, g_gpu, out_again, lse_again, q_gpu,
                           k_gpu, v_gpu, mask_gpu, c.offset, dropout);
  CHECK(same_bits(out_again, out_gpu.to_host()));
  CHECK(same_bits(d_q_again, d_q_gpu.to_host()));
  CHECK(same_bits(d_k_again, d_k_gpu.to_host()));
  CHECK(same_bits(d_v_again, d_v_gpu.to_host()));
}

// causal_attention through autograd on Cuda and on the CPU: out and the three gradients.
template <class T>
void check_autograd(const Case& c, double unit) {
  CAPTURE(c.dim);
  Rng rng(74);
  const Shape q_shape{c.batch, c.heads, c.queries, c.dim},
      kv_shape{c.batch, c.heads, c.keys, c.dim};
  const AttentionInputs<T> in =
      attention_inputs<T>(c.batch, c.heads, c.queries, c.keys, c.dim, 0, c.padding, rng);
  const Tensor<T>&q = in.q, &k = in.k, &v = in.v;
  const std::vector<uint8_t>& mask = in.key_mask;
  const Tensor<T> g = random_normal<T>(q_shape, rng);
  const AttentionDropout dropout{c.dropout, 5};
  auto run = [&]<class D>(D) {
    const Var<T, D> vq = parameter(to_device<D>(q)), vk = parameter(to_device<D>(k)),
                    vv = parameter(to_device<D>(v));
    const Var<T, D> out = causal_attention(vq, vk, vv, std::span<const uint8_t>(mask), 0, dropout);
    backward(sum(mul(out, constant(to_device<D>(g)))));
    return std::vector<Tensor<T>>{out.value().to_host(), vq.grad().to_host(), vk.grad().to_host(),
                                  vv.grad().to_host()};
  };
  const auto cpu = run(Cpu{});
  const auto gpu = run(Cuda{});
  const double tolerance = unit * double(c.dim + c.queries);
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    CAPTURE(i);
    CHECK(scaled_difference(on_gpu(gpu[i]), cpu[i]) <= tolerance);
  }
}
}  // namespace cuda_flash_attention_test

TEST_CASE("fused attention on the GPU matches the CPU: tiles, padding, KV-cache offsets, dropout") {
  using cuda_flash_attention_test::Case;
  const Case cases[] = {{1, 1, 1, 1, 4, 0, false, 0.0},      {2, 3, 17, 17, 13, 0, true, 0.0},
                        {2, 2, 3, 20, 33, 5, true, 0.0},     {1, 2, 1, 9, 8, 7, false, 0.0},
                        {2, 2, 70, 70, 64, 0, true, 0.1},    {1, 2, 41, 41, 128, 0, false, 0.0},
                        {2, 1, 100, 100, 16, 0, false, 0.3}, {3, 2, 9, 40, 32, 31, true, 0.2}};
  for (const Case& c : cases) {
    cuda_flash_attention_test::check_case<float>(c, 2e-6);
    cuda_flash_attention_test::check_case<double>(c, 1e-13);
  }
}

TEST_CASE("fused attention takes more (b, h) pairs than one grid holds (65535)") {
  // 70000 pairs: two launches, the second starting at pair 65535.
  cuda_flash_attention_test::check_case<float>({70000, 1, 2, 2, 4, 0, false, 0.1}, 2e-6);
}

TEST_CASE("fused attention refuses head sizes past its limit, naming the limit") {
  const Shape shape{1, 1, 2, kFlashMaxHeadDim + 1};
  Tensor<float, Cuda> q(shape), k(shape), v(shape), out(shape), lse(Shape{1, 1, 2});
  CHECK_THROWS_WITH_AS(flash_attention_forward(out, lse, q, k, v, Tensor<uint8_t, Cuda>()),
                       doctest::Contains("head size D ≤ 128"), Error);
}

TEST_CASE(
    "causal_attention on Cuda trains through the fused kernels, or the materialized ones past D = "
    "128") {
  using cuda_flash_attention_test::Case;
  for (const Case& c : {Case{2, 2, 37, 37, 64, 0, true, 0.0}, Case{1, 2, 19, 19, 24, 0, false, 0.1},
                        Case{1, 1, 11, 11, 160, 0, true, 0.0}}) {
    cuda_flash_attention_test::check_autograd<float>(c, 2e-6);
    cuda_flash_attention_test::check_autograd<double>(c, 1e-13);
  }
}
