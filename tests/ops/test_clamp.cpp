// Tests for ops/clamp.hpp and autograd/fn/clamp.hpp: values and gradient routing of clamp,
// minimum, maximum and where (bounds and ties included), gradient checks in double on random
// shapes, the PPO clipped objective, errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/clamp.hpp>
#include <tlcr/autograd/fn/unary.hpp>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
Shape random_shape(Rng& rng) {
  return Shape{random_size(rng, 1, 3), random_size(rng, 1, 4), random_size(rng, 1, 5)};
}
Tensor<double> random_mask(const Shape& shape, Rng& rng) {
  Tensor<double> mask(shape);
  for (double& m : mask) m = double(rng.uniform_int(2));
  return mask;
}
}  // namespace

TEST_CASE("clamp limits values and passes the gradient only strictly inside the bounds") {
  auto x = parameter(Tensor<double>::from({6}, {-3.0, -1.0, -0.5, 0.0, 2.0, 5.0}));
  auto y = clamp(x, -1.0, 2.0);
  CHECK(y.value().to_vector() == std::vector<double>{-1.0, -1.0, -0.5, 0.0, 2.0, 2.0});
  backward(sum(y));
  CHECK(x.grad().to_vector() == std::vector<double>{0, 0, 1, 1, 0, 0});  // x = lo and x = hi get 0
}

TEST_CASE("minimum and maximum pick elementwise and send ties to a") {
  auto a = parameter(Tensor<double>::from({4}, {1.0, 5.0, 2.0, -3.0}));
  auto b = parameter(Tensor<double>::from({4}, {4.0, 2.0, 2.0, -1.0}));
  auto low = minimum(a, b);
  CHECK(low.value().to_vector() == std::vector<double>{1.0, 2.0, 2.0, -3.0});
  backward(sum(low));
  CHECK(a.grad().to_vector() == std::vector<double>{1, 0, 1, 1});
  CHECK(b.grad().to_vector() == std::vector<double>{0, 1, 0, 0});
  zero_grad({a, b});
  auto high = maximum(a, b);
  CHECK(high.value().to_vector() == std::vector<double>{4.0, 5.0, 2.0, -1.0});
  backward(sum(high));
  CHECK(a.grad().to_vector() == std::vector<double>{0, 1, 1, 0});
  CHECK(b.grad().to_vector() == std::vector<double>{1, 0, 0, 1});
}

TEST_CASE("where takes a under 1s and b under 0s, and routes gradients the same way") {
  auto a = parameter(Tensor<double>::from({2, 2}, {1, 2, 3, 4}));
  auto b = parameter(Tensor<double>::from({2, 2}, {10, 20, 30, 40}));
  Tensor<double> mask = Tensor<double>::from({2, 2}, {1, 0, 0, 1});
  auto y = where(mask, a, b);
  CHECK(y.value().to_vector() == std::vector<double>{1, 20, 30, 4});
  mask.fill(0);  // where keeps its own copy for backward
  backward(sum(y));
  CHECK(a.grad().to_vector() == std::vector<double>{1, 0, 0, 1});
  CHECK(b.grad().to_vector() == std::vector<double>{0, 1, 1, 0});
}

TEST_CASE("clamp, minimum, maximum and where pass gradcheck on random shapes") {
  Rng rng(700);
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape = random_shape(rng);
    INFO("shape ", shape.str());
    auto x = parameter(random_normal<double>(shape, rng));
    auto a = parameter(random_normal<double>(shape, rng));
    auto b = parameter(random_normal<double>(shape, rng));
    const Tensor<double> mask = random_mask(shape, rng);
    TLCR_CHECK_GRADIENTS([&] { return clamp(x, -0.6, 0.7); }, {x});
    TLCR_CHECK_GRADIENTS([&] { return minimum(a, b); }, {a, b});
    TLCR_CHECK_GRADIENTS([&] { return maximum(a, b); }, {a, b});
    TLCR_CHECK_GRADIENTS([&] { return where(mask, a, b); }, {a, b});
  }
}

TEST_CASE("the PPO clipped objective passes gradcheck") {
  // loss = max(−ratio·A, −clamp(ratio, 1 − ε, 1 + ε)·A): ratios on both sides of the clip range.
  Rng rng(701);
  auto ratio = parameter(testing::random_uniform<double>({3, 7}, rng, 0.6, 1.4));
  const auto advantage = constant(random_normal<double>({3, 7}, rng));
  auto objective = [&] {
    return maximum(neg(mul(ratio, advantage)), neg(mul(clamp(ratio, 0.8, 1.2), advantage)));
  };
  TLCR_CHECK_GRADIENTS(objective, {ratio});
  // Where the clipped side wins, the ratio gets no gradient.
  ratio.grad().fill(0);
  backward(sum(objective()));
  for (int64_t i = 0; i < ratio.numel(); ++i) {
    const double r = ratio.value()[i], adv = advantage.value()[i];
    const bool clipped_wins = (adv > 0 && r > 1.2) || (adv < 0 && r < 0.8);
    CHECK(ratio.grad()[i] == (clipped_wins ? 0.0 : -adv));
  }
}

TEST_CASE("selection ops reject bad bounds, mismatched shapes and non-binary masks") {
  Tensor<float> x({2, 3}), out({2, 3}), other({3, 2});
  CHECK_THROWS_WITH_AS(clamp_forward(out, x, 1.0, -1.0),
                       doctest::Contains("clamp: expected lo <= hi, got lo = 1, hi = -1"), Error);
  CHECK_THROWS_WITH_AS(minimum_forward(out, x, other),
                       doctest::Contains("minimum: shape mismatch: a [2, 3] vs b [3, 2]"), Error);
  CHECK_THROWS_WITH_AS(maximum_forward(other, x, x),
                       doctest::Contains("maximum: shape mismatch: out [3, 2] vs a [2, 3]"), Error);
  Tensor<float> mask = Tensor<float>::from({2, 3}, {0, 1, 1, 0.5f, 0, 1});
  CHECK_THROWS_WITH_AS(
      where_forward(out, mask, x, x),
      doctest::Contains(
          "where: mask must hold only 0 and 1, found 0.5 at flat index 3 of shape [2, 3]"),
      Error);
  CHECK_THROWS_WITH_AS(where_forward(out, other, x, x),
                       doctest::Contains("where: shape mismatch: mask [3, 2] vs a [2, 3]"), Error);
  auto a = constant(x);
  CHECK_THROWS_WITH_AS(maximum(a, constant(other)),
                       doctest::Contains("maximum: shape mismatch: a [2, 3] vs b [3, 2]"), Error);
}
