// Tests for ops/softmax.hpp and autograd/fn/softmax.hpp: fast kernels against the naive
// references on random shapes, row sums, log_softmax = log(softmax), overflow safety, gradient
// checks in double, shape errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/softmax.hpp>

#include <cmath>

using namespace tlcr;
using testing::max_abs_diff;
using testing::random_normal;
using testing::random_size;

namespace {
// A random shape of rank 1 to 3 whose last axis has size in [1, max_cols].
Shape random_rows_shape(Rng& rng, int64_t max_cols) {
  const int64_t cols = random_size(rng, 1, max_cols);
  switch (random_size(rng, 1, 3)) {
    case 1:
      return Shape{cols};
    case 2:
      return Shape{random_size(rng, 1, 40), cols};
    default:
      return Shape{random_size(rng, 1, 5), random_size(rng, 1, 9), cols};
  }
}
}  // namespace

TEST_CASE("softmax and log_softmax match the naive references on random shapes") {
  Rng rng(400);
  for (int trial = 0; trial < 20; ++trial) {
    const Shape shape = random_rows_shape(rng, trial < 15 ? 70 : 3000);
    const Tensor<float> x = random_normal<float>(shape, rng, 4.0);
    Tensor<float> fast(shape), slow(shape);
    softmax_forward(fast, x);
    detail::softmax_ref(slow, x);
    INFO("shape ", shape.str());
    CHECK(max_abs_diff(fast, slow) < 1e-6);
    log_softmax_forward(fast, x);
    detail::log_softmax_ref(slow, x);
    CHECK(max_abs_diff(fast, slow) < 1e-5);
  }
}

TEST_CASE("softmax rows sum to 1 and log_softmax equals log(softmax)") {
  Rng rng(401);
  const Tensor<double> x = random_normal<double>({7, 3, 11}, rng, 3.0);
  Tensor<double> p(x.shape()), log_p(x.shape());
  softmax_forward(p, x);
  log_softmax_forward(log_p, x);
  for (int64_t r = 0; r < 21; ++r) {
    double total = 0;
    for (int64_t j = 0; j < 11; ++j) {
      const double value = p.data()[r * 11 + j];
      CHECK(value > 0.0);
      total += value;
      CHECK(log_p.data()[r * 11 + j] == doctest::Approx(std::log(value)).epsilon(1e-12));
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-14));
  }
}

TEST_CASE("softmax is shift-invariant and does not overflow on huge logits") {
  const Tensor<float> x = Tensor<float>::from({2, 3}, {1000.f, 1000.f, -1000.f, 88.f, 89.f, 90.f});
  Tensor<float> p(x.shape()), log_p(x.shape());
  softmax_forward(p, x);
  log_softmax_forward(log_p, x);
  CHECK(p[0] == doctest::Approx(0.5f));
  CHECK(p[1] == doctest::Approx(0.5f));
  CHECK(p[2] == 0.f);
  CHECK(log_p[0] == doctest::Approx(-std::log(2.f)));
  CHECK(log_p[2] == doctest::Approx(-2000.f - std::log(2.f)));
  const Tensor<float> small = Tensor<float>::from({3}, {0.f, 1.f, 2.f});
  Tensor<float> p_small({3});
  softmax_forward(p_small, small);
  for (int j = 0; j < 3; ++j) CHECK(p[3 + j] == doctest::Approx(p_small[j]).epsilon(1e-6));
  for (float v : log_p) CHECK(std::isfinite(v));
}

TEST_CASE("softmax and log_softmax gradients pass gradcheck on random shapes") {
  Rng rng(402);
  for (int trial = 0; trial < 4; ++trial) {
    const Shape shape = random_rows_shape(rng, 8);
    auto x = parameter(random_normal<double>(shape, rng, 2.0));
    INFO("shape ", shape.str());
    TLCR_CHECK_GRADIENTS([&] { return softmax(x); }, {x});
    TLCR_CHECK_GRADIENTS([&] { return log_softmax(x); }, {x});
  }
}

TEST_CASE("softmax backward adds into an existing gradient") {
  Rng rng(403);
  const Tensor<double> x = random_normal<double>({3, 5}, rng);
  const Tensor<double> d_out = random_normal<double>({3, 5}, rng);
  Tensor<double> y(x.shape()), once(x.shape()), twice(x.shape());
  log_softmax_forward(y, x);
  log_softmax_backward(once, d_out, y);
  log_softmax_backward(twice, d_out, y);
  log_softmax_backward(twice, d_out, y);
  for (int64_t i = 0; i < once.numel(); ++i)
    CHECK(twice.data()[i] == doctest::Approx(2 * once.data()[i]).epsilon(1e-14));
}

TEST_CASE("softmax results do not depend on the thread count") {
  Rng rng(404);
  const Tensor<float> x = random_normal<float>({64, 1000}, rng);
  const Tensor<float> d_out = random_normal<float>({64, 1000}, rng);
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Tensor<float> y(x.shape()), d_x(x.shape());
    softmax_forward(y, x);
    softmax_backward(d_x, d_out, y);
    return std::pair{y.to_vector(), d_x.to_vector()};
  };
  CHECK(run(1) == run(2));
}

TEST_CASE("softmax rejects rank-0 inputs and mismatched shapes") {
  Tensor<float> scalar{Shape{}}, scalar_out{Shape{}};
  CHECK_THROWS_WITH_AS(softmax_forward(scalar_out, scalar),
                       doctest::Contains("softmax: expected x of rank ≥ 1"), Error);
  Tensor<float> x({2, 3}), out({2, 4});
  CHECK_THROWS_WITH_AS(log_softmax_forward(out, x),
                       doctest::Contains("log_softmax: shape mismatch: out [2, 4] vs x [2, 3]"),
                       Error);
  Tensor<float> d_x({2, 3}), d_out({3, 2});
  CHECK_THROWS_WITH_AS(
      softmax_backward(d_x, d_out, x),
      doctest::Contains("softmax_backward: shape mismatch: d_out [3, 2] vs out [2, 3]"), Error);
}
