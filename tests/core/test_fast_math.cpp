// Tests for core/fast_math.hpp: fast_exp and fast_tanh against std:: over their whole float range,
// inf, 0 and NaN at the edges, and lane_sum against a plain double sum.
#include "support/testing.hpp"

#include <cmath>
#include <limits>

using namespace tlcr;

TEST_CASE("fast_exp stays within 2e-7 relative error of std::exp from -87 to 88") {
  Rng rng(7);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = static_cast<float>(rng.uniform(-87.0, 88.0));
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(double(fast_exp(x)) - exact) / exact);
  }
  CHECK(worst < 2e-7);
  CHECK(fast_exp(0.0f) == 1.0f);
  CHECK(fast_exp(1.0f) == doctest::Approx(std::exp(1.0)).epsilon(2e-7));
}

TEST_CASE("fast_exp overflows to inf, underflows to 0 and keeps NaN") {
  CHECK(fast_exp(87.5f) == doctest::Approx(std::exp(87.5)).epsilon(2e-7));
  CHECK(fast_exp(1000.0f) == std::numeric_limits<float>::infinity());
  CHECK(fast_exp(-1000.0f) == 0.0f);
  CHECK(fast_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isnan(fast_exp(std::numeric_limits<float>::quiet_NaN())));
  CHECK(fast_exp(2.5) == std::exp(2.5));  // double: the library function itself
}

TEST_CASE("fast_tanh stays within 3e-7 of std::tanh and saturates to ±1") {
  Rng rng(8);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = static_cast<float>(rng.uniform(-12.0, 12.0));
    worst = std::max(worst, std::abs(double(fast_tanh(x)) - std::tanh(double(x))));
  }
  CHECK(worst < 3e-7);
  CHECK(fast_tanh(100.0f) == 1.0f);
  CHECK(fast_tanh(-100.0f) == -1.0f);
  CHECK(std::isnan(fast_tanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("lane_sum equals a double sum to float rounding, for every tail length") {
  Rng rng(9);
  for (int64_t n : {0, 1, 15, 16, 17, 100, 1000}) {
    std::vector<float> values(n);
    double exact = 0;
    for (float& v : values) v = static_cast<float>(rng.normal()), exact += v;
    const double summed = lane_sum<float>(n, [&](int64_t i) { return values[i]; });
    CHECK(summed == doctest::Approx(exact).epsilon(1e-5).scale(1.0));
  }
}

TEST_CASE("fast_exp_nonpositive equals fast_exp bit for bit wherever x ≤ 88") {
  Rng rng(77);
  for (int i = 0; i < 200000; ++i) {
    const float x = float(-120.0 + 208.0 * rng.uniform());  // [−120, 88)
    CHECK_EQ(std::bit_cast<uint32_t>(fast_exp_nonpositive(x)),
             std::bit_cast<uint32_t>(fast_exp(x)));
  }
  CHECK(fast_exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(fast_exp_nonpositive(0.0f) == 1.0f);
  CHECK(std::isnan(fast_exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}
