// Tests for autograd/gradcheck.hpp itself: it passes correct gradients, catches a wrong one,
// and skips kinks instead of failing on them.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("gradcheck accepts a correct gradient on random inputs") {
  Rng rng(21);
  auto a = parameter(testing::random_normal<double>({3, 4}, rng));
  auto b = parameter(testing::random_normal<double>({4, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return matmul(a, b); }, {a, b});
}

TEST_CASE("gradcheck reports a deliberately wrong backward") {
  Rng rng(22);
  auto x = parameter(testing::random_normal<double>({5}, rng));
  auto wrong_square = [&] {
    Tensor<double> out(x.shape());
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = x.value()[i] * x.value()[i];
    return record<double>("wrong_square", std::move(out), {x}, [x](const Tensor<double>& d_out) {
      for (int64_t i = 0; i < d_out.numel(); ++i) x.grad()[i] += d_out[i] * x.value()[i];  // misses ×2
    });
  };
  const GradcheckReport report = gradcheck(wrong_square, {x}, {.names = {"x"}});
  CHECK_FALSE(report.ok);
  CHECK(report.inputs[0].relative_error > 0.1);
  CHECK(report.str().find("x: relative error") != std::string::npos);
  CHECK(report.str().find("FAILED") != std::string::npos);
}

TEST_CASE("gradcheck skips elements sitting on a kink") {
  auto x = parameter(Tensor<double>::from({3}, {-1.0, 0.0, 2.0}));
  auto absolute = [&] {
    Tensor<double> out(x.shape());
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = std::abs(x.value()[i]);
    return record<double>("abs", std::move(out), {x}, [x](const Tensor<double>& d_out) {
      for (int64_t i = 0; i < d_out.numel(); ++i)
        x.grad()[i] += d_out[i] * (x.value()[i] > 0 ? 1.0 : -1.0);
    });
  };
  const GradcheckReport report = gradcheck(absolute, {x});
  CHECK(report.ok);
  CHECK(report.inputs[0].skipped_kinks == 1);
  CHECK(report.inputs[0].checked == 2);
}
