// Tests for core/shape.hpp and core/tensor.hpp: construction, views without copies, Eigen maps,
// and shape errors that name the operation and both shapes.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("Shape: numel, rows/cols, rank limit and errors") {
  const Shape s{2, 3, 4};
  CHECK(s.numel() == 24);
  CHECK(s.rows() == 6);
  CHECK(s.cols() == 4);
  CHECK(Shape{}.numel() == 1);
  CHECK(s.str() == "[2, 3, 4]");
  CHECK(s.drop_leading() == Shape{3, 4});
  CHECK(s.prepend(5) == Shape{5, 2, 3, 4});
  CHECK_THROWS_WITH_AS(Shape({1, 2, 3, 4, 5}), doctest::Contains("exceeds the maximum"), Error);
  CHECK_THROWS_WITH_AS(Shape({2, -1}), doctest::Contains("negative size -1"), Error);
}

TEST_CASE("absurd sizes are refused with the shape, not an overflow or std::bad_alloc") {
  const int64_t big = int64_t{1} << 40;
  // 2^80 elements: numel() would overflow.
  CHECK_THROWS_WITH_AS(Shape({big, big}),
                       doctest::Contains("[1099511627776, 1099511627776] has more elements"),
                       Error);
  CHECK_THROWS_WITH_AS(Shape({big}).prepend(big), doctest::Contains("has more elements"), Error);
  CHECK_THROWS_WITH_AS(Shape({1, big}).with_leading(big), doctest::Contains("has more elements"),
                       Error);
  // 2^62 floats fit an int64 but not a size_t of bytes.
  CHECK_THROWS_WITH_AS(Tensor<float>({int64_t{1} << 31, int64_t{1} << 31}),
                       doctest::Contains("needs more bytes than a size_t can count"), Error);
  // AddressSanitizer's operator new reports an impossible allocation and aborts instead of
  // throwing std::bad_alloc, so these two run in the ordinary builds only.
#if !defined(__SANITIZE_ADDRESS__)
  // 2^50 floats (4 PiB) is countable but cannot be allocated.
  CHECK_THROWS_WITH_AS(
      Tensor<float>({int64_t{1} << 25, int64_t{1} << 25}),
      doctest::Contains(
          "cannot allocate 4503599627370496 bytes for shape [33554432, 33554432] on cpu"),
      Error);
  // A model configured that large fails the same way, naming the tensor's shape.
  CHECK_THROWS_AS(
      Gpt2<float>(TransformerConfig::gpt2(int64_t{1} << 30, 16, 1, 2, int64_t{1} << 30)), Error);
#endif
}

TEST_CASE("Tensor: zero-initialised, aligned, flat access checked") {
  Tensor<float> t(Shape{3, 5});
  CHECK(t.numel() == 15);
  for (float v : t) CHECK(v == 0.0f);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  t[7] = 2.5f;
  CHECK(t.data()[7] == 2.5f);
  CHECK_THROWS_WITH_AS(t[15], doctest::Contains("flat index 15 out of range for shape [3, 5]"),
                       Error);
}

TEST_CASE("Tensor: at/slice/reshape are views that share storage") {
  Rng rng(1);
  Tensor<double> t = testing::random_normal<double>({4, 3, 2}, rng);
  Tensor<double> row = t.at(2);
  CHECK(row.shape() == Shape{3, 2});
  CHECK(row.shares_storage_with(t));
  CHECK(row.data() == t.data() + 12);
  row[1] = 42.0;
  CHECK(t[13] == 42.0);

  Tensor<double> middle = t.slice(1, 3);
  CHECK(middle.shape() == Shape{2, 3, 2});
  CHECK(middle.data() == t.data() + 6);

  Tensor<double> flat = t.reshape({24});
  flat[0] = -1.0;
  CHECK(t[0] == -1.0);
  CHECK_THROWS_WITH_AS(t.reshape({5, 5}), doctest::Contains("cannot view [4, 3, 2] as [5, 5]"),
                       Error);
  CHECK_THROWS_WITH_AS(t.slice(2, 5), doctest::Contains("[2, 5) out of range"), Error);
  CHECK_THROWS_AS(t.at(4), Error);

  Tensor<double> copy = t.clone();
  CHECK_FALSE(copy.shares_storage_with(t));
  copy[0] = 7.0;
  CHECK(t[0] == -1.0);
}

TEST_CASE("Tensor: Eigen matrix view is (product of leading sizes) x (last size)") {
  Tensor<float> t = Tensor<float>::from({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  auto m = t.matrix();
  CHECK(m.rows() == 4);
  CHECK(m.cols() == 3);
  CHECK(m(2, 1) == 7.0f);
  m(3, 2) = -3.0f;
  CHECK(t[11] == -3.0f);
  CHECK(t.vector().sum() == doctest::Approx(52.0));
}

TEST_CASE("Tensor: copy_from and from() report shape mismatches with both shapes") {
  Tensor<float> a({2, 3}), b({3, 2});
  CHECK_THROWS_WITH_AS(
      a.copy_from(b),
      doctest::Contains("Tensor::copy_from: shape mismatch, destination [2, 3] vs source [3, 2]"),
      Error);
  CHECK_THROWS_WITH_AS(Tensor<float>::from({2, 2}, {1, 2, 3}),
                       doctest::Contains("3 values do not fill shape [2, 2]"), Error);
  CHECK_THROWS_WITH_AS(check_same_shape("my_op", Shape{1, 2}, Shape{2, 1}),
                       doctest::Contains("my_op: shape mismatch: a [1, 2] vs b [2, 1]"), Error);
}

TEST_CASE(
    "new tensors are zero even where a freed, dirtied block is reused; uninitialized ones only "
    "have the shape") {
  tlcr::ThreadCountGuard threads(2);  // the zeroing of large tensors is split across threads
  const Shape shape{3, 1 << 20};      // 12 MiB: several zeroing chunks, and a block glibc reuses
  for (int round = 0; round < 3; ++round) {
    Tensor<float> fresh(shape);
    bool all_zero = true;
    for (float value : fresh) all_zero &= value == 0.0f;
    CHECK(all_zero);
    fresh.fill(float(round + 1));  // dirty the block before it is freed
  }
  Tensor<float> raw = Tensor<float>::uninitialized(shape);
  CHECK(raw.shape() == shape);
  raw.fill(2.0f);
  CHECK(raw[shape.numel() - 1] == 2.0f);
}
