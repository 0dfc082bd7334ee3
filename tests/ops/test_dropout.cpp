// Tests for ops/dropout.hpp and autograd/fn/dropout.hpp: the kept fraction, the 1/(1−p) scaling,
// the mask as a pure function of (seed, index), the identity case p = 0, gradients through a
// fixed mask.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/dropout.hpp>
#include <tlcr/ops/dropout.hpp>

#include <cstring>

using namespace tlcr;
using testing::random_normal;

TEST_CASE("dropout keeps about 1 − p of the elements and scales them by 1/(1 − p)") {
  Rng data_rng(600);
  for (double p : {0.1, 0.5, 0.9}) {
    auto x = constant(testing::random_uniform<float>({100, 1000}, data_rng, 1.0, 2.0));  // never 0
    auto y = dropout(x, p, 601);
    int64_t kept = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (y.value()[i] == 0.0f) continue;
      ++kept;
      CHECK(y.value()[i] == doctest::Approx(x.value()[i] / (1 - p)).epsilon(1e-6));
    }
    const double fraction = double(kept) / double(x.numel());
    // 1e5 Bernoulli draws: the standard deviation of the fraction is below 0.0016.
    CAPTURE(p);
    CHECK(std::abs(fraction - (1 - p)) < 0.01);
    // The mean is preserved in expectation.
    CHECK(y.value().vector().mean() == doctest::Approx(x.value().vector().mean()).epsilon(0.02));
  }
}

TEST_CASE("dropout's mask is a function of the seed and the index, not of threads or order") {
  Rng data_rng(602);
  auto x = constant(random_normal<float>({4, 8, 16}, data_rng));
  auto a = dropout(x, 0.3, 7), b = dropout(x, 0.3, 7), c = dropout(x, 0.3, 8);
  CHECK(std::memcmp(a.value().data(), b.value().data(), x.numel() * sizeof(float)) == 0);
  CHECK(testing::max_abs_diff(a.value(), c.value()) > 0);
  // Element i is dropped exactly when dropout_drops(seed, i, p) says so.
  for (int64_t i = 0; i < x.numel(); ++i)
    CHECK((a.value()[i] == 0.0f) == (dropout_drops(7, uint64_t(i), 0.3) && x.value()[i] != 0.0f));
  // The same mask whatever the thread count.
  Tensor<float> serial(Shape{300, 257}), parallel(Shape{300, 257});
  {
    ThreadCountGuard one(1);
    dropout_mask(serial, 0.4, 9);
  }
  {
    ThreadCountGuard two(2);
    dropout_mask(parallel, 0.4, 9);
  }
  CHECK(std::memcmp(serial.data(), parallel.data(), serial.numel() * sizeof(float)) == 0);
  // The kept values are exactly 1/(1 − p) in the element type.
  for (float m : serial) CHECK((m == 0.0f || m == float(1.0 / 0.6)));
}

TEST_CASE("p = 0 returns x unchanged; p = 1 drops everything; p outside [0, 1] is refused") {
  Rng data_rng(603);
  auto x = parameter(random_normal<double>({3, 5}, data_rng));
  auto same = dropout(x, 0.0, 11);
  CHECK(same.value().shares_storage_with(x.value()));
  auto all = dropout(x, 1.0, 11);
  for (double v : all.value()) CHECK(v == 0.0);
  CHECK_THROWS_WITH_AS(dropout(x, 1.5, 11),
                       doctest::Contains("dropout: probability must be in [0, 1], got 1.5"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, 11), doctest::Contains("got -0.1"), Error);
}

TEST_CASE("dropout gradients: the mask times d out, and gradcheck with a fixed mask") {
  Rng data_rng(604);
  auto x = parameter(random_normal<double>({6, 7}, data_rng));
  // One seed: every evaluation draws the same mask.
  TLCR_CHECK_GRADIENTS([&] { return dropout(x, 0.4, 12); }, {x});
  zero_grad({x});
  auto y = dropout(x, 0.25, 13);
  backward(sum(y));
  Tensor<double> mask(x.shape());
  dropout_mask(mask, 0.25, 13);  // the same draws as inside dropout
  for (int64_t i = 0; i < x.numel(); ++i) {
    CHECK(x.grad()[i] == mask[i]);
    CHECK((mask[i] == 0.0 || mask[i] == doctest::Approx(1 / 0.75)));
  }
}
