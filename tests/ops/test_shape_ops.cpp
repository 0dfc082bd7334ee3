// Tests for ops/shape_ops.hpp and autograd/fn/shape_ops.hpp: reshape, transpose, slice, split and
// concat — values against index arithmetic on random shapes, gradient checks in double, errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/shape_ops.hpp>
#include <tlcr/ops/shape_ops.hpp>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
// A random shape of the given rank with sizes in [1, 5].
Shape random_shape(Rng& rng, int rank) {
  Shape shape;
  for (int i = 0; i < rank; ++i) shape.dims[shape.rank++] = random_size(rng, 1, 5);
  return shape;
}

// Row-major multi-index of a flat index.
std::array<int64_t, 4> unravel(int64_t flat, const Shape& shape) {
  std::array<int64_t, 4> index{};
  for (int i = shape.rank - 1; i >= 0; --i) {
    index[i] = flat % shape.dims[i];
    flat /= shape.dims[i];
  }
  return index;
}
int64_t ravel(const std::array<int64_t, 4>& index, const Shape& shape) {
  int64_t flat = 0;
  for (int i = 0; i < shape.rank; ++i) flat = flat * shape.dims[i] + index[i];
  return flat;
}
}  // namespace

TEST_CASE("reshape is a view with the same elements and passes gradcheck") {
  Rng rng(500);
  auto x = parameter(random_normal<double>({2, 3, 4}, rng));
  auto y = reshape(x, {6, 4});
  CHECK(y.shape() == Shape{6, 4});
  CHECK(y.value().shares_storage_with(x.value()));
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.value()[i] == x.value()[i]);
  TLCR_CHECK_GRADIENTS([&] { return reshape(x, {4, 3, 2}); }, {x});
  // Composed with an op that weighs elements differently, so a misplaced gradient would show.
  auto w = parameter(random_normal<double>({24}, rng));
  TLCR_CHECK_GRADIENTS([&] { return mul(reshape(x, {24}), w); }, {x, w});
  CHECK_THROWS_WITH_AS(reshape(x, {5, 5}),
                       doctest::Contains("reshape: cannot view [2, 3, 4] (24 elements) as [5, 5]"),
                       Error);
}

TEST_CASE("transpose swaps any two axes of ranks 2 to 4 and passes gradcheck") {
  Rng rng(501);
  for (int rank = 2; rank <= 4; ++rank)
    for (int a = 0; a < rank; ++a)
      for (int b = 0; b < rank; ++b) {
        const Shape shape = random_shape(rng, rank);
        Tensor<float> x = random_normal<float>(shape, rng);
        Tensor<float> out(transpose_output_shape(shape, a, b));
        transpose_forward(out, x, a, b);
        for (int64_t i = 0; i < x.numel(); ++i) {
          auto index = unravel(i, shape);
          std::swap(index[a], index[b]);
          CHECK(out[ravel(index, out.shape())] == x[i]);
        }
      }
  auto heads = parameter(random_normal<double>({2, 3, 4, 2}, rng));  // (B,T,H,D)
  auto split_heads = transpose(heads, 1, 2);
  CHECK(split_heads.shape() == Shape{2, 4, 3, 2});
  TLCR_CHECK_GRADIENTS([&] { return transpose(heads, 1, 2); }, {heads});
  TLCR_CHECK_GRADIENTS([&] { return transpose(heads, 0, -1); }, {heads});
  auto matrix = parameter(random_normal<double>({3, 5}, rng));
  TLCR_CHECK_GRADIENTS([&] { return transpose(matrix, 0, 1); }, {matrix});
  auto back = transpose(split_heads, 1, 2);
  CHECK(testing::max_abs_diff(back.value(), heads.value()) == 0.0);
  CHECK_THROWS_WITH_AS(transpose(matrix, 0, 2),
                       doctest::Contains("transpose: axis 2 out of range for shape [3, 5]"), Error);
}

TEST_CASE("slice takes a range along any axis and passes gradcheck") {
  Rng rng(502);
  for (int trial = 0; trial < 10; ++trial) {
    const int rank = int(random_size(rng, 1, 4));
    const Shape shape = random_shape(rng, rank);
    const int axis = int(rng.uniform_int(rank));
    const int64_t begin = random_size(rng, 0, shape.dims[axis]);
    const int64_t end = random_size(rng, begin, shape.dims[axis]);
    Tensor<float> x = random_normal<float>(shape, rng);
    Tensor<float> out(slice_output_shape(shape, axis, begin, end));
    slice_forward(out, x, axis, begin);
    for (int64_t i = 0; i < out.numel(); ++i) {
      auto index = unravel(i, out.shape());
      index[axis] += begin;
      CHECK(out[i] == x[ravel(index, shape)]);
    }
  }
  auto x = parameter(random_normal<double>({3, 4, 5}, rng));
  TLCR_CHECK_GRADIENTS([&] { return slice(x, 1, 1, 3); }, {x});
  TLCR_CHECK_GRADIENTS([&] { return slice(x, -1, 2, 5); }, {x});
  TLCR_CHECK_GRADIENTS([&] { return slice(x, 0, 0, 1); }, {x});
  CHECK_THROWS_WITH_AS(slice(x, 1, 2, 5),
                       doctest::Contains("slice: range [2, 5) out of bounds for axis 1 of size 4"),
                       Error);
}

TEST_CASE("concat joins along any axis, undoes split, and passes gradcheck") {
  Rng rng(503);
  for (int trial = 0; trial < 8; ++trial) {
    const int rank = int(random_size(rng, 1, 4));
    const Shape shape = random_shape(rng, rank);
    const int axis = int(rng.uniform_int(rank));
    // Three pieces: sizes from a random cut of the axis (pieces may be empty).
    const int64_t n = shape.dims[axis];
    const int64_t cut1 = random_size(rng, 0, n), cut2 = random_size(rng, cut1, n);
    const std::vector<int64_t> sizes = {cut1, cut2 - cut1, n - cut2};
    auto x = constant(random_normal<float>(shape, rng));
    auto pieces = split(x, axis, sizes);
    REQUIRE(pieces.size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(pieces[i].shape()[axis] == sizes[i]);
    auto joined = concat(pieces, axis);
    CHECK(joined.shape() == shape);
    CHECK(testing::max_abs_diff(joined.value(), x.value()) == 0.0);
  }
  auto a = parameter(random_normal<double>({2, 3, 2}, rng));
  auto b = parameter(random_normal<double>({2, 1, 2}, rng));
  auto c = parameter(random_normal<double>({2, 4, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return concat<double>({a, b, c}, 1); }, {a, b, c});
  auto d = parameter(random_normal<double>({3, 3, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return concat<double>({a, d}, 0); }, {a, d});
  // A constant among the inputs gets no gradient but still takes its place.
  auto frozen = constant(random_normal<double>({2, 3, 5}, rng));
  TLCR_CHECK_GRADIENTS([&] { return concat<double>({frozen, a}, -1); }, {a});
  CHECK_THROWS_WITH_AS(concat<double>({a, d}, 1),
                       doctest::Contains("concat: input 1 has shape [3, 3, 2], which differs from "
                                         "input 0 [2, 3, 2] outside axis 1"),
                       Error);
}

TEST_CASE("large tensors, copied by several threads, give the same values") {
  Rng rng(505);
  ThreadCountGuard threads(2);
  const Shape shape{4, 64, 8, 32};  // (B,T,H,D): big enough to be split across threads
  Tensor<float> x = random_normal<float>(shape, rng);
  Tensor<float> fast(transpose_output_shape(shape, 1, 2)), expected(fast.shape());
  transpose_forward(fast, x, 1, 2);
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto index = unravel(i, shape);
    std::swap(index[1], index[2]);
    expected[ravel(index, expected.shape())] = x[i];
  }
  CHECK(testing::max_abs_diff(fast, expected) == 0.0);
  Tensor<float> d_x(shape);
  transpose_backward(d_x, fast, 1, 2);
  CHECK(testing::max_abs_diff(d_x, x) == 0.0);

  Tensor<float> middle(slice_output_shape(shape, 1, 10, 50)), slow(middle.shape());
  slice_forward(middle, x, 1, 10);
  for (int64_t i = 0; i < slow.numel(); ++i) {
    auto index = unravel(i, slow.shape());
    index[1] += 10;
    slow[i] = x[ravel(index, shape)];
  }
  CHECK(testing::max_abs_diff(middle, slow) == 0.0);
}

TEST_CASE("split pieces carry gradients back to the right places") {
  Rng rng(504);
  auto x = parameter(random_normal<double>({2, 7, 3}, rng));
  // Reassemble the pieces in reverse order so every gradient has to travel to a new position.
  TLCR_CHECK_GRADIENTS(
      [&] {
        auto pieces = split(x, 1, {2, 4, 1});
        return concat<double>({pieces[2], pieces[0], pieces[1]}, 1);
      },
      {x});
  CHECK_THROWS_WITH_AS(
      split(x, 1, {2, 2}),
      doctest::Contains("split: piece sizes add up to 4, but axis 1 of [2, 7, 3] has size 7"),
      Error);
}
