// Tests for ops/elementwise.hpp, ops/reduce.hpp and their autograd wrappers: broadcasting,
// gradient checks in double on random shapes, shape errors.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

TEST_CASE("binary ops broadcast b over the leading axes of a") {
  Rng rng(200);
  Tensor<float> a = random_normal<float>({2, 3, 4}, rng), b = random_normal<float>({4}, rng);
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    Tensor<float> out(a.shape());
    binary_forward(op, out, a, b);
    for (int64_t i = 0; i < a.numel(); ++i)
      CHECK(out[i] == doctest::Approx(detail::apply_binary(op, a[i], b[i % 4])));
  }
}

TEST_CASE("binary op gradients pass gradcheck, with and without broadcasting") {
  Rng rng(201);
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    for (Shape sb : {Shape{2, 3, 4}, Shape{3, 4}, Shape{4}, Shape{}}) {
      auto a = parameter(random_normal<double>({2, 3, 4}, rng));
      Tensor<double> b_value =
          testing::random_uniform<double>(sb, rng, 0.5, 2.0);  // away from 0 for div
      auto b = parameter(b_value);
      TLCR_CHECK_GRADIENTS([&] { return binary(op, a, b); }, {a, b});
    }
  }
  auto x = parameter(random_normal<double>({3, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return scale(x, -1.7); }, {x});
}

TEST_CASE("sum and mean, overall and along each axis, pass gradcheck") {
  Rng rng(202);
  auto x = parameter(random_normal<double>({2, 3, 4}, rng));
  TLCR_CHECK_GRADIENTS([&] { return sum(x); }, {x});
  TLCR_CHECK_GRADIENTS([&] { return mean(x); }, {x});
  for (int axis : {0, 1, 2, -1}) {
    TLCR_CHECK_GRADIENTS([&] { return sum(x, axis); }, {x});
    TLCR_CHECK_GRADIENTS([&] { return mean(x, axis); }, {x});
  }
  Tensor<double> manual({2, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) manual[i * 4 + k] += x.value()[(i * 3 + j) * 4 + k] / 3.0;
  CHECK(testing::max_abs_diff(mean(x, 1).value(), manual) < 1e-12);
}

TEST_CASE("broadcast errors say which shapes disagree") {
  auto a = constant(Tensor<float>({2, 3}));
  auto b = constant(Tensor<float>({2}));
  CHECK_THROWS_WITH_AS(
      add(a, b),
      doctest::Contains("add: shape mismatch: b [2] must equal the trailing axes of a [2, 3]"),
      Error);
  CHECK_THROWS_WITH_AS(sum(a, 2), doctest::Contains("sum_axis: axis out of range for shape [2, 3]"),
                       Error);
}

TEST_CASE("binary ops on large same-shape and broadcast operands, split across threads") {
  ThreadCountGuard threads(2);
  Rng rng(31);
  Tensor<float> a = random_normal<float>({300, 257}, rng),
                same = random_normal<float>({300, 257}, rng);
  Tensor<float> row = random_normal<float>({257}, rng);
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    CAPTURE(binary_op_name(op));
    auto expected = [op](float x, float y) {
      switch (op) {
        case BinaryOp::Add:
          return x + y;
        case BinaryOp::Sub:
          return x - y;
        case BinaryOp::Mul:
          return x * y;
        case BinaryOp::Div:
          return x / y;
      }
      return 0.0f;
    };
    Tensor<float> out_same({300, 257}), out_row({300, 257});
    binary_forward(op, out_same, a, same);
    binary_forward(op, out_row, a, row);
    bool all_equal = true;
    for (int64_t i = 0; i < a.numel(); ++i) {
      all_equal &= out_same[i] == expected(a[i], same[i]);
      all_equal &= out_row[i] == expected(a[i], row[i % 257]);
    }
    CHECK(all_equal);
  }
}
