// Tests for ops/matmul.hpp and autograd/fn/matmul.hpp: every transpose combination against the
// naive reference on random shapes, batched products, gradient checks in double, shape errors.
#include "support/testing.hpp"

#include <array>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
// Stored shape of an operand whose op() is rows × cols.
Shape stored(int64_t rows, int64_t cols, bool transposed) {
  return transposed ? Shape{cols, rows} : Shape{rows, cols};
}
}  // namespace

TEST_CASE("matmul_forward equals the naive reference for all transpose combinations") {
  Rng rng(100);
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t m = random_size(rng, 1, 40), k = random_size(rng, 1, 40),
                  n = random_size(rng, 1, 40);
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor<float> a = random_normal<float>(stored(m, k, ta), rng);
        Tensor<float> b = random_normal<float>(stored(k, n, tb), rng);
        Tensor<float> fast({m, n}), slow({m, n});
        matmul_forward(fast, a, b, ta, tb);
        detail::matmul_ref(slow, a, b, ta, tb);
        CHECK(testing::max_abs_diff(fast, slow) < 1e-4 * std::sqrt(double(k)) + 1e-5);
      }
  }
}

TEST_CASE("matmul flattens leading axes of a: (B,T,C)·(C,N) → (B,T,N)") {
  Rng rng(101);
  Tensor<float> a = random_normal<float>({2, 3, 5}, rng), b = random_normal<float>({5, 4}, rng);
  Tensor<float> out(matmul_output_shape(a.shape(), b.shape(), false, false));
  CHECK(out.shape() == Shape{2, 3, 4});
  matmul_forward(out, a, b);
  Tensor<float> slow({2, 3, 4});
  detail::matmul_ref(slow, a, b, false, false);
  CHECK(testing::max_abs_diff(out, slow) < 1e-5);
}

TEST_CASE("matmul gradients pass gradcheck for all transpose combinations") {
  Rng rng(102);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t m = random_size(rng, 1, 5), k = random_size(rng, 1, 5),
                    n = random_size(rng, 1, 5);
      auto a = parameter(random_normal<double>(stored(m, k, ta), rng));
      auto b = parameter(random_normal<double>(stored(k, n, tb), rng));
      TLCR_CHECK_GRADIENTS([&] { return matmul(a, b, ta, tb); }, {a, b});
    }
  auto x = parameter(random_normal<double>({2, 3, 4}, rng));
  auto w = parameter(random_normal<double>({4, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return matmul(x, w); }, {x, w});
}

TEST_CASE("batched_matmul equals per-batch products and passes gradcheck") {
  Rng rng(103);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t m = random_size(rng, 1, 6), k = random_size(rng, 1, 6),
                    n = random_size(rng, 1, 6);
      Shape sa = stored(m, k, ta).prepend(3).prepend(2),
            sb = stored(k, n, tb).prepend(3).prepend(2);
      Tensor<float> a = random_normal<float>(sa, rng), b = random_normal<float>(sb, rng);
      Tensor<float> out(batched_matmul_output_shape(sa, sb, ta, tb));
      CHECK(out.shape() == Shape{2, 3, m, n});
      batched_matmul_forward(out, a, b, ta, tb);
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          Tensor<float> slow({m, n});
          detail::matmul_ref(slow, a.at(i).at(j), b.at(i).at(j), ta, tb);
          CHECK(testing::max_abs_diff(out.at(i).at(j), slow) < 1e-4);
        }
      auto da = parameter(random_normal<double>(sa, rng)),
           db = parameter(random_normal<double>(sb, rng));
      TLCR_CHECK_GRADIENTS([&] { return batched_matmul(da, db, ta, tb); }, {da, db});
    }
}

TEST_CASE("matmul shape errors name the operation and both shapes") {
  Tensor<float> a({2, 3}), b({4, 5});
  CHECK_THROWS_WITH_AS(matmul_output_shape(a.shape(), b.shape(), false, false),
                       doctest::Contains("matmul: inner sizes differ: op(a) is 2x3, op(b) is 4x5"),
                       Error);
  CHECK_THROWS_WITH_AS(batched_matmul_output_shape(Shape{2, 2, 3}, Shape{3, 3, 4}, false, false),
                       doctest::Contains("batch axes differ: a [2, 2, 3] vs b [3, 3, 4]"), Error);
}

TEST_CASE(
    "matmul over many rows (split between threads) equals the reference and repeats exactly") {
  Rng rng(110);
  const ThreadCountGuard two(2);
  for (bool tb : {false, true}) {
    const int64_t m = 1100, k = 37, n = 29;  // ≥ 2 · 256 rows: one block of rows per thread
    const Tensor<float> a = random_normal<float>({m, k}, rng);
    const Tensor<float> b = random_normal<float>(stored(k, n, tb), rng);
    Tensor<float> fast({m, n}), again({m, n}), slow({m, n});
    matmul_forward(fast, a, b, false, tb);
    matmul_forward(again, a, b, false, tb);
    detail::matmul_ref(slow, a, b, false, tb);
    CHECK(testing::max_abs_diff(fast, slow) < 1e-4 * std::sqrt(double(k)) + 1e-5);
    CHECK(fast.to_vector() == again.to_vector());
    // The backward's d_a is the same kind of product (rows of d_out).
    const Tensor<float> d_out = random_normal<float>({m, n}, rng);
    Tensor<float> d_a = Tensor<float>::zeros({m, k}), d_a_ref({m, k});
    matmul_backward<float>(&d_a, nullptr, d_out, a, b, false, tb);
    detail::matmul_ref(d_a_ref, d_out, b, false, !tb);
    CHECK(testing::max_abs_diff(d_a, d_a_ref) < 1e-4 * std::sqrt(double(n)) + 1e-5);
  }
}

TEST_CASE("Eigen products split by rows or by columns, every transpose, equal the reference") {
  Rng rng(111);
  const ThreadCountGuard two(2);
  // doubles always take Eigen; tall (split by rows of op(a)) and wide (split by columns of op(b)),
  // each large enough (≥ 2 · 2 MFLOP) to be cut in two.
  for (auto [m, k, n] : {std::array<int64_t, 3>{301, 90, 77}, {33, 200, 405}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(m);
        CAPTURE(ta);
        CAPTURE(tb);
        const Tensor<double> a = random_normal<double>(stored(m, k, ta), rng);
        const Tensor<double> b = random_normal<double>(stored(k, n, tb), rng);
        Tensor<double> fast({m, n}), again({m, n}), slow({m, n});
        matmul_forward(fast, a, b, ta, tb);
        matmul_forward(again, a, b, ta, tb);
        detail::matmul_ref(slow, a, b, ta, tb);
        CHECK(testing::max_abs_diff(fast, slow) < 1e-12);
        CHECK(fast.to_vector() == again.to_vector());
      }
  // Floats of 1–4 rows against a row-major b take Eigen too (decoding one row at a time).
  for (int64_t m : {1, 3}) {
    const Tensor<float> a = random_normal<float>({m, 300}, rng);
    const Tensor<float> b = random_normal<float>({300, 200}, rng);
    Tensor<float> fast({m, 200}), slow({m, 200});
    matmul_forward(fast, a, b);
    detail::matmul_ref(slow, a, b, false, false);
    CHECK(testing::max_abs_diff(fast, slow) < 1e-4 * std::sqrt(300.0) + 1e-5);
  }
}
