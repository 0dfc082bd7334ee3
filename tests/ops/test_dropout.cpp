// Tests for ops/dropout.hpp and autograd/fn/dropout.hpp: the kept fraction, the 1/(1−p) scaling,
// determinism from a seed, the identity cases (p = 0, eval mode), gradients through a fixed mask.
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
    Rng rng(601);
    auto y = dropout(x, p, rng);
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

TEST_CASE("dropout is deterministic given the generator state") {
  Rng data_rng(602);
  auto x = constant(random_normal<float>({4, 8, 16}, data_rng));
  Rng first(7), second(7), other(8);
  auto a = dropout(x, 0.3, first), b = dropout(x, 0.3, second), c = dropout(x, 0.3, other);
  CHECK(std::memcmp(a.value().data(), b.value().data(), x.numel() * sizeof(float)) == 0);
  CHECK(first.state() == second.state());
  CHECK(testing::max_abs_diff(a.value(), c.value()) > 0);
  // The generator advances: a second draw differs from the first.
  auto d = dropout(x, 0.3, first);
  CHECK(testing::max_abs_diff(a.value(), d.value()) > 0);
  // The same mask whatever the thread count (it is drawn on the calling thread).
  Rng serial(9), parallel(9);
  Tensor<float> m1(x.shape()), m2(x.shape());
  {
    ThreadCountGuard one(1);
    dropout_mask(m1, 0.4, serial);
  }
  {
    ThreadCountGuard two(2);
    dropout_mask(m2, 0.4, parallel);
  }
  CHECK(std::memcmp(m1.data(), m2.data(), m1.numel() * sizeof(float)) == 0);
}

TEST_CASE("p = 0 and eval mode return x unchanged and draw nothing; p = 1 drops everything") {
  Rng data_rng(603);
  auto x = parameter(random_normal<double>({3, 5}, data_rng));
  Rng rng(11);
  const auto before = rng.state();
  auto same = dropout(x, 0.0, rng);
  auto eval = dropout(x, 0.5, rng, /*training=*/false);
  CHECK(same.value().shares_storage_with(x.value()));
  CHECK(eval.value().shares_storage_with(x.value()));
  CHECK(rng.state() == before);
  auto all = dropout(x, 1.0, rng);
  for (double v : all.value()) CHECK(v == 0.0);
  CHECK_THROWS_WITH_AS(dropout(x, 1.5, rng),
                       doctest::Contains("dropout: probability must be in [0, 1], got 1.5"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, rng), doctest::Contains("got -0.1"), Error);
}

TEST_CASE("dropout gradients: the mask times d out, and gradcheck with a fixed mask") {
  Rng data_rng(604);
  auto x = parameter(random_normal<double>({6, 7}, data_rng));
  // Reseeding inside f gives every evaluation the same mask.
  TLCR_CHECK_GRADIENTS(
      [&] {
        Rng rng(12);
        return dropout(x, 0.4, rng);
      },
      {x});
  zero_grad({x});
  Rng rng(13), mask_rng(13);
  auto y = dropout(x, 0.25, rng);
  backward(sum(y));
  Tensor<double> mask(x.shape());
  dropout_mask(mask, 0.25, mask_rng);  // the same draws as inside dropout
  for (int64_t i = 0; i < x.numel(); ++i) {
    CHECK(x.grad()[i] == mask[i]);
    CHECK((mask[i] == 0.0 || mask[i] == doctest::Approx(1 / 0.75)));
  }
}
