// Tests for ops/norm.hpp and autograd/fn/norm.hpp: fused LayerNorm and RMSNorm against the naive
// references (forward and backward, including shapes with many row blocks), normalised-row
// properties, gradient checks in double, thread-count independence, shape errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/norm.hpp>

#include <cmath>

using namespace tlcr;
using testing::max_abs_diff;
using testing::random_normal;
using testing::random_size;

namespace {
// A random shape of rank 1 to 3 with the last axis in [min_cols, max_cols].
Shape random_rows_shape(Rng& rng, int64_t min_cols, int64_t max_cols) {
  const int64_t cols = random_size(rng, min_cols, max_cols);
  switch (random_size(rng, 1, 3)) {
    case 1:
      return Shape{cols};
    case 2:
      return Shape{random_size(rng, 1, 30), cols};
    default:
      return Shape{random_size(rng, 1, 4), random_size(rng, 1, 8), cols};
  }
}

// Inputs with an offset, so LayerNorm's centring matters.
Tensor<float> shifted_input(const Shape& shape, Rng& rng) {
  Tensor<float> x = random_normal<float>(shape, rng, 2.0);
  for (float& v : x) v += 3.f;
  return x;
}
}  // namespace

TEST_CASE("layernorm_forward and rmsnorm_forward match the naive references") {
  Rng rng(500);
  for (int trial = 0; trial < 20; ++trial) {
    const Shape shape = random_rows_shape(rng, 1, trial < 15 ? 40 : 900);
    const int64_t cols = shape.cols();
    const Tensor<float> x = shifted_input(shape, rng);
    const Tensor<float> weight = random_normal<float>({cols}, rng),
                        bias = random_normal<float>({cols}, rng);
    const Shape stats = norm_stats_shape(shape);
    Tensor<float> out(shape), mean(stats), rstd(stats), out_ref(shape), mean_ref(stats),
        rstd_ref(stats);
    INFO("shape ", shape.str());
    layernorm_forward(out, mean, rstd, x, weight, bias, 1e-5);  // a double eps converts
    detail::layernorm_ref(out_ref, mean_ref, rstd_ref, x, weight, bias, 1e-5f);
    CHECK(max_abs_diff(out, out_ref) < 2e-5);
    CHECK(max_abs_diff(mean, mean_ref) < 1e-5);
    CHECK(max_abs_diff(rstd, rstd_ref) < 1e-5);
    rmsnorm_forward(out, rstd, x, weight, 1e-5f);
    detail::rmsnorm_ref(out_ref, rstd_ref, x, weight, 1e-5f);
    CHECK(max_abs_diff(out, out_ref) < 2e-5);
    CHECK(max_abs_diff(rstd, rstd_ref) < 1e-6);
  }
}

TEST_CASE("norm backward kernels match the Jacobian references, over many row blocks") {
  Rng rng(501);
  // The last shapes have more rows than one block holds, so d_weight/d_bias combine partial rows.
  for (Shape shape : {Shape{5}, Shape{3, 7}, Shape{2, 4, 33}, Shape{3000, 12}, Shape{40, 50, 9}}) {
    const int64_t cols = shape.cols();
    INFO("shape ", shape.str(), ", row blocks ", detail::norm_row_blocks(shape.rows(), cols).count);
    const Tensor<float> x = shifted_input(shape, rng), d_out = random_normal<float>(shape, rng);
    const Tensor<float> weight = random_normal<float>({cols}, rng),
                        bias = random_normal<float>({cols}, rng);
    const Shape stats = norm_stats_shape(shape);
    Tensor<float> out(shape), mean(stats), rstd(stats);
    Tensor<float> d_x(shape), d_weight({cols}), d_bias({cols});
    Tensor<float> d_x_ref(shape), d_weight_ref({cols}), d_bias_ref({cols});
    const double rows = double(shape.rows());

    layernorm_forward(out, mean, rstd, x, weight, bias, 1e-5f);
    layernorm_backward(&d_x, &d_weight, &d_bias, d_out, x, weight, mean, rstd);
    detail::norm_backward_ref(true, d_x_ref, d_weight_ref, &d_bias_ref, d_out, x, weight, 1e-5f);
    CHECK(max_abs_diff(d_x, d_x_ref) < 1e-4);
    CHECK(max_abs_diff(d_weight, d_weight_ref) < 1e-5 * rows + 1e-5);
    CHECK(max_abs_diff(d_bias, d_bias_ref) < 1e-5 * rows + 1e-5);

    d_x.fill(0), d_weight.fill(0);
    rmsnorm_forward(out, rstd, x, weight, 1e-5f);
    rmsnorm_backward(&d_x, &d_weight, d_out, x, weight, rstd);
    detail::norm_backward_ref<float>(false, d_x_ref, d_weight_ref, nullptr, d_out, x, weight,
                                     1e-5f);
    CHECK(max_abs_diff(d_x, d_x_ref) < 1e-4);
    CHECK(max_abs_diff(d_weight, d_weight_ref) < 1e-5 * rows + 1e-5);
  }
}

TEST_CASE(
    "normalised rows have zero mean and unit variance (LayerNorm), unit mean square (RMSNorm)") {
  Rng rng(502);
  const int64_t cols = 64;
  const Tensor<double> x = random_normal<double>({6, cols}, rng, 5.0);
  const Tensor<double> ones = Tensor<double>::full({cols}, 1.0), zeros({cols});
  Tensor<double> out(x.shape()), mean({6}), rstd({6});
  layernorm_forward(out, mean, rstd, x, ones, zeros, 0.0);
  for (int64_t r = 0; r < 6; ++r) {
    double sum = 0, square_sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += out.data()[r * cols + j];
    for (int64_t j = 0; j < cols; ++j) square_sum += std::pow(out.data()[r * cols + j], 2);
    CHECK(sum / cols == doctest::Approx(0.0).epsilon(1e-12).scale(1));
    CHECK(square_sum / cols == doctest::Approx(1.0).epsilon(1e-12));
  }
  rmsnorm_forward(out, rstd, x, ones, 0.0);
  for (int64_t r = 0; r < 6; ++r) {
    double square_sum = 0;
    for (int64_t j = 0; j < cols; ++j) square_sum += std::pow(out.data()[r * cols + j], 2);
    CHECK(square_sum / cols == doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("layernorm and rmsnorm gradients pass gradcheck on random shapes") {
  Rng rng(503);
  for (int trial = 0; trial < 4; ++trial) {
    // C ≥ 2: with one channel LayerNorm's output is constant in x and RMSNorm's nearly so.
    const Shape shape = random_rows_shape(rng, 2, 6);
    const int64_t cols = shape.cols();
    Tensor<double> x_value = random_normal<double>(shape, rng);
    for (double& v : x_value) v += 1.0;
    auto x = parameter(x_value);
    auto weight = parameter(random_normal<double>({cols}, rng));
    auto bias = parameter(random_normal<double>({cols}, rng));
    INFO("shape ", shape.str());
    TLCR_CHECK_GRADIENTS([&] { return layernorm(x, weight, bias); }, {x, weight, bias});
    TLCR_CHECK_GRADIENTS([&] { return rmsnorm(x, weight, 1e-6); }, {x, weight});
  }
}

TEST_CASE("norm backward adds into gradients and skips the ones not asked for") {
  Rng rng(504);
  const Tensor<double> x = random_normal<double>({4, 5}, rng),
                       d_out = random_normal<double>({4, 5}, rng);
  const Tensor<double> weight = random_normal<double>({5}, rng),
                       bias = random_normal<double>({5}, rng);
  Tensor<double> out({4, 5}), mean({4}), rstd({4});
  layernorm_forward(out, mean, rstd, x, weight, bias, 1e-5);
  Tensor<double> d_x_once({4, 5}), d_weight_once({5});
  layernorm_backward<double>(&d_x_once, &d_weight_once, nullptr, d_out, x, weight, mean, rstd);
  Tensor<double> d_x({4, 5}), d_weight({5});
  layernorm_backward<double>(&d_x, nullptr, nullptr, d_out, x, weight, mean, rstd);
  layernorm_backward<double>(&d_x, &d_weight, nullptr, d_out, x, weight, mean, rstd);
  CHECK(max_abs_diff(d_weight, d_weight_once) == 0.0);
  for (int64_t i = 0; i < d_x.numel(); ++i)
    CHECK(d_x.data()[i] == doctest::Approx(2 * d_x_once.data()[i]).epsilon(1e-14));
}

TEST_CASE("norm gradients are bitwise the same for 1 and 2 threads") {
  Rng rng(505);
  const Shape shape{4000, 16};
  const Tensor<float> x = shifted_input(shape, rng), d_out = random_normal<float>(shape, rng);
  const Tensor<float> weight = random_normal<float>({16}, rng),
                      bias = random_normal<float>({16}, rng);
  REQUIRE(detail::norm_row_blocks(shape.rows(), 16).count > 1);
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Tensor<float> out(shape), mean({4000}), rstd({4000}), d_x(shape), d_weight({16}), d_bias({16});
    layernorm_forward(out, mean, rstd, x, weight, bias, 1e-5f);
    layernorm_backward(&d_x, &d_weight, &d_bias, d_out, x, weight, mean, rstd);
    std::vector<float> all = out.to_vector();
    for (const Tensor<float>* t : {&d_x, &d_weight, &d_bias})
      all.insert(all.end(), t->begin(), t->end());
    return all;
  };
  CHECK(run(1) == run(2));
}

TEST_CASE("norms reject mismatched weight, bias and statistics shapes") {
  Tensor<float> x({3, 4}), out({3, 4}), mean({3}), rstd({3});
  Tensor<float> weight({4}), bias({4}), wrong({5});
  CHECK_THROWS_WITH_AS(
      layernorm_forward(out, mean, rstd, x, wrong, bias, 1e-5f),
      doctest::Contains("layernorm: shape mismatch: weight [5] vs last axis of x [4]"), Error);
  CHECK_THROWS_WITH_AS(
      layernorm_forward(out, mean, rstd, x, weight, wrong, 1e-5f),
      doctest::Contains("layernorm: shape mismatch: bias [5] vs last axis of x [4]"), Error);
  Tensor<float> wrong_stats({4});
  CHECK_THROWS_WITH_AS(
      rmsnorm_forward(out, wrong_stats, x, weight, 1e-5f),
      doctest::Contains("rmsnorm: shape mismatch: rstd [4] vs leading axes of x [3]"), Error);
  Tensor<float> scalar{Shape{}};
  CHECK_THROWS_WITH_AS(rmsnorm_forward(scalar, scalar, scalar, weight, 1e-5f),
                       doctest::Contains("rmsnorm: expected x of rank ≥ 1"), Error);
  CHECK_THROWS_WITH_AS(layernorm_forward(out, mean, rstd, x, weight, bias, -1.f),
                       doctest::Contains("layernorm: expected eps ≥ 0, got -1"), Error);
  auto xv = constant(x);
  auto wv = parameter(weight);
  auto d_weight_wrong = Tensor<float>({3});
  CHECK_THROWS_WITH_AS(
      rmsnorm_backward<float>(nullptr, &d_weight_wrong, out, x, weight, rstd),
      doctest::Contains("rmsnorm_backward: shape mismatch: d_weight [3] vs last axis of x [4]"),
      Error);
  CHECK_THROWS_WITH_AS(layernorm(xv, wv, constant(Tensor<float>({2}))),
                       doctest::Contains("bias [2] vs last axis of x [4]"), Error);
}
