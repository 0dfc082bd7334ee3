// GPU tests of cuda/cross_entropy.cuh against the CPU kernels: cross-entropy with ignored rows and
// row weights (and with every row ignored: loss and gradient 0), targets on the host and on the
// device (a bad target reported with its row), token log-probabilities over a 50257-wide
// vocabulary, soft-target cross-entropy with zero-weight rows, BCE with logits of ±30. Tolerances:
// sums in double in other orders and CUDA's exp against the CPU's approximation: 2e-6 of the
// values' scale in float, 1e-12 in double.
#include "cuda_testing.cuh"

#include <tlcr/cuda/cross_entropy.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_cross_entropy_test {
template <class T>
void check_hard_targets(double tolerance) {
  Rng rng(51);
  for (const int64_t V : {int64_t(3), int64_t(129), int64_t(50257)})
    for (const bool all_ignored : {false, true}) {
      CAPTURE(V);
      CAPTURE(all_ignored);
      const int64_t rows = 13;
      const Tensor<T> logits = random_normal<T>(Shape{rows, V}, rng, 3.0);
      std::vector<int32_t> targets(rows);
      std::vector<T> weights(rows);
      for (int64_t i = 0; i < rows; ++i) {
        targets[i] = all_ignored || i % 4 == 1 ? -100 : int32_t(rng.uniform_int(uint64_t(V)));
        weights[i] = T(rng.uniform(0, 2));
      }
      const Tensor<T, Cuda> logits_gpu = on_gpu(logits);
      const Tensor<int32_t, Cuda> targets_gpu = Tensor<int32_t, Cuda>::from(Shape{rows}, targets);

      Tensor<T> loss(Shape{1}), lse(Shape{rows});
      Tensor<T, Cuda> loss_gpu(Shape{1}), lse_gpu(Shape{rows}), loss_span(Shape{1}),
          lse_span(Shape{rows});
      cross_entropy_forward(loss, lse, logits, std::span<const int32_t>(targets),
                            RowWeights<T>(weights));
      cross_entropy_forward(loss_gpu, lse_gpu, logits_gpu, targets_gpu, RowWeights<T>(weights));
      cross_entropy_forward(loss_span, lse_span, logits_gpu, std::span<const int32_t>(targets),
                            RowWeights<T>(weights));
      CHECK(scaled_difference(loss_gpu, loss) <= tolerance);
      CHECK(scaled_difference(loss_span, loss) <= tolerance);
      CHECK(scaled_difference(lse_gpu, lse) <= tolerance);

      const Tensor<T> d_loss = Tensor<T>::full(Shape{1}, T(0.7));
      Tensor<T> d_logits = random_normal<T>(logits.shape(), rng);
      Tensor<T, Cuda> d_logits_gpu = on_gpu(d_logits);
      cross_entropy_backward(d_logits, d_loss, logits, lse, std::span<const int32_t>(targets),
                             RowWeights<T>(weights));
      cross_entropy_backward(d_logits_gpu, on_gpu(d_loss), logits_gpu, lse_gpu, targets_gpu,
                             RowWeights<T>(weights));
      CHECK(scaled_difference(d_logits_gpu, d_logits) <= tolerance);

      Tensor<T> log_probs(Shape{rows});
      Tensor<T, Cuda> log_probs_gpu(Shape{rows});
      token_log_probs_forward(log_probs, lse, logits, std::span<const int32_t>(targets));
      token_log_probs_forward(log_probs_gpu, lse_gpu, logits_gpu, targets_gpu);
      CHECK(scaled_difference(log_probs_gpu, log_probs) <= tolerance);
      const Tensor<T> g = random_normal<T>(Shape{rows}, rng);
      token_log_probs_backward(d_logits, g, logits, lse, std::span<const int32_t>(targets));
      token_log_probs_backward(d_logits_gpu, on_gpu(g), logits_gpu, lse_gpu, targets_gpu);
      CHECK(scaled_difference(d_logits_gpu, d_logits) <= tolerance);
    }
}

template <class T>
void check_soft_and_bce(double tolerance) {
  Rng rng(52);
  const int64_t rows = 9, K = 2;
  const Tensor<T> logits = random_normal<T>(Shape{rows, K}, rng, 2.0);
  Tensor<T> targets(Shape{rows, K});
  for (int64_t i = 0; i < rows; ++i) {
    const T y = T(rng.uniform());
    targets[i * K] = 1 - y, targets[i * K + 1] = y;
  }
  Tensor<T> weights(Shape{rows});
  for (int64_t i = 0; i < rows; ++i) weights[i] = i % 3 == 0 ? T(0) : T(1);
  Tensor<T> out(Shape{rows}), lse(Shape{rows});
  Tensor<T, Cuda> out_gpu(Shape{rows}), lse_gpu(Shape{rows});
  soft_cross_entropy_forward(out, lse, logits, targets, weights);
  soft_cross_entropy_forward(out_gpu, lse_gpu, on_gpu(logits), on_gpu(targets), on_gpu(weights));
  CHECK(scaled_difference(out_gpu, out) <= tolerance);
  const Tensor<T> g = random_normal<T>(Shape{rows}, rng);
  Tensor<T> d_logits = random_normal<T>(logits.shape(), rng);
  Tensor<T, Cuda> d_logits_gpu = on_gpu(d_logits);
  soft_cross_entropy_backward(d_logits, g, logits, lse, targets, weights);
  soft_cross_entropy_backward(d_logits_gpu, on_gpu(g), on_gpu(logits), lse_gpu, on_gpu(targets),
                              on_gpu(weights));
  CHECK(scaled_difference(d_logits_gpu, d_logits) <= tolerance);

  Tensor<T> x = random_normal<T>(Shape{1001}, rng, 5.0), y(Shape{1001});
  x[0] = T(30), x[1] = T(-30);
  for (T& v : y) v = T(rng.uniform());
  Tensor<T> bce(x.shape());
  Tensor<T, Cuda> bce_gpu(x.shape());
  bce_with_logits_forward(bce, x, y);
  bce_with_logits_forward(bce_gpu, on_gpu(x), on_gpu(y));
  CHECK(scaled_difference(bce_gpu, bce) <= tolerance);
  const Tensor<T> g_bce = random_normal<T>(x.shape(), rng);
  Tensor<T> d_x(x.shape());
  Tensor<T, Cuda> d_x_gpu(x.shape());
  bce_with_logits_backward(d_x, g_bce, x, y);
  bce_with_logits_backward(d_x_gpu, on_gpu(g_bce), on_gpu(x), on_gpu(y));
  CHECK(scaled_difference(d_x_gpu, d_x) <= tolerance);
}
}  // namespace cuda_cross_entropy_test

TEST_CASE("cross-entropy and token log-probabilities on the GPU match the CPU") {
  cuda_cross_entropy_test::check_hard_targets<float>(2e-6);
  cuda_cross_entropy_test::check_hard_targets<double>(1e-12);
}

TEST_CASE("soft-target cross-entropy and BCE with logits on the GPU match the CPU") {
  cuda_cross_entropy_test::check_soft_and_bce<float>(2e-6);
  cuda_cross_entropy_test::check_soft_and_bce<double>(1e-12);
}

TEST_CASE("a bad target on the device is reported with its row") {
  const Tensor<float, Cuda> logits(Shape{3, 5});
  Tensor<float, Cuda> loss(Shape{1}), lse(Shape{3});
  const Tensor<int32_t, Cuda> targets = Tensor<int32_t, Cuda>::from(Shape{3}, {1, -100, 5});
  CHECK_THROWS_WITH_AS(cross_entropy_forward(loss, lse, logits, targets),
                       doctest::Contains("target 5 at row 2 is outside [0, 5)"), Error);
}
