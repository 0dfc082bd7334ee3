// GPU tests of cuda/attention.cuh against the CPU kernel: one query and key; odd sizes with left
// padding (and a row whose keys are all padded: zeros, no NaN); KV-cache decoding with an offset
// and cache rows past the visible keys filled with NaN (never read); attention dropout (the same
// mask). P, the output and the three gradients are compared. Tolerances: products of D or Tv terms
// and softmax sums in another order: 2e-6·(D + Tv) of the values' scale in float, 1e-13·(D + Tv)
// in double.
#include "cuda_testing.cuh"

#include <cmath>

#include <tlcr/cuda/attention.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_attention_test {
struct Case {
  int64_t batch, heads, queries, keys, dim, offset;
  bool padding;
  double dropout;
};

template <class T>
void check_case(const Case& c, double unit) {
  CAPTURE(c.queries);
  CAPTURE(c.keys);
  CAPTURE(c.offset);
  CAPTURE(c.padding);
  CAPTURE(c.dropout);
  Rng rng(71);
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
  Tensor<T, Cuda> out_gpu(q_shape), probs_gpu(sizes.probs_shape());
  causal_attention_forward(out_gpu, &probs_gpu, q_gpu, k_gpu, v_gpu, std::span<const uint8_t>(mask),
                           c.offset, dropout);
  const double tolerance = unit * double(c.dim + visible);
  CHECK(scaled_difference(probs_gpu, probs) <= tolerance);
  CHECK(scaled_difference(out_gpu, out) <= tolerance);

  const Tensor<T> g = random_normal<T>(q_shape, rng);
  Tensor<T> d_q(q_shape), d_k(kv_shape), d_v(kv_shape);
  Tensor<T, Cuda> d_q_gpu(q_shape), d_k_gpu(kv_shape), d_v_gpu(kv_shape);
  causal_attention_backward(&d_q, &d_k, &d_v, g, probs, q, k, v, c.offset, dropout);
  causal_attention_backward(&d_q_gpu, &d_k_gpu, &d_v_gpu, on_gpu(g), probs_gpu, q_gpu, k_gpu, v_gpu,
                            c.offset, dropout);
  CHECK(scaled_difference(d_q_gpu, d_q) <= tolerance);
  CHECK(scaled_difference(d_k_gpu, d_k) <= tolerance);
  CHECK(scaled_difference(d_v_gpu, d_v) <= tolerance);
}
}  // namespace cuda_attention_test

TEST_CASE("causal attention on the GPU matches the CPU: padding, KV-cache offsets, dropout") {
  using cuda_attention_test::Case;
  const Case cases[] = {{1, 1, 1, 1, 4, 0, false, 0.0},
                        {2, 3, 17, 17, 8, 0, true, 0.0},
                        {2, 2, 3, 20, 16, 5, true, 0.0},
                        {1, 2, 1, 9, 8, 7, false, 0.0},
                        {2, 2, 33, 33, 16, 0, false, 0.2}};
  for (const Case& c : cases) {
    cuda_attention_test::check_case<float>(c, 2e-6);
    cuda_attention_test::check_case<double>(c, 1e-13);
  }
}
