// Tests for ops/packed_gemm.hpp, the packed float GEMM: both kernels (AVX2 and, where the CPU has
// it, AVX-512) against the double-precision reference on random shapes with ragged edges, every
// transpose combination, accumulation, strided operands, shapes that cross every cache block, thin
// products (B read in place), and bitwise-identical results on 1 and 2 threads.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

#if TLCR_HAVE_PACKED_GEMM

namespace {
// A stored operand whose op() is rows × cols, padded to `stride` ≥ its stored width with values
// the product must never read.
struct StoredOperand {
  std::vector<float> values;
  int64_t stride;
  bool transposed;
  int64_t rows, cols;  // of op(X)
  packed::Operand operand() const { return {values.data(), stride, transposed}; }
  double at(int64_t i, int64_t p) const { return operand().at(i, p); }
};

StoredOperand random_operand(Rng& rng, int64_t rows, int64_t cols, bool transposed,
                             int64_t padding) {
  const int64_t stored_rows = transposed ? cols : rows, stored_cols = transposed ? rows : cols;
  StoredOperand x{{}, stored_cols + padding, transposed, rows, cols};
  Tensor<float> values = random_normal<float>({stored_rows, x.stride}, rng);
  x.values.assign(values.data(), values.data() + values.numel());
  for (int64_t r = 0; r < stored_rows; ++r)  // padding: NaN, so any read of it shows
    for (int64_t c = stored_cols; c < x.stride; ++c)
      x.values[r * x.stride + c] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

// Largest |C − (C0 + op(A)·op(B))| over the m × n block of C, the reference in double.
double max_error(const std::vector<float>& c, int64_t ldc, const std::vector<float>& c0,
                 bool accumulate, const StoredOperand& a, const StoredOperand& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < b.cols; ++j) {
      double expected = accumulate ? c0[i * ldc + j] : 0.0;
      for (int64_t p = 0; p < a.cols; ++p) expected += a.at(i, p) * b.at(p, j);
      worst = std::max(worst, std::abs(double(c[i * ldc + j]) - expected));
    }
  return worst;
}

// Runs C (+)= op(A)·op(B) with the given kernel on random operands and checks it; C has a padded
// row stride whose padding must stay untouched.
template <class Isa>
void check_product(Rng& rng, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool accumulate,
                   int64_t a_padding = 3) {
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(ta);
  CAPTURE(tb);
  CAPTURE(accumulate);
  const StoredOperand a = random_operand(rng, m, k, ta, a_padding),
                      b = random_operand(rng, k, n, tb, 5);
  const int64_t ldc = n + 7;
  Tensor<float> c0_values = random_normal<float>({m, ldc}, rng);
  std::vector<float> c0(c0_values.data(), c0_values.data() + c0_values.numel()), c = c0;
  packed::multiply<Isa>(m, n, k, a.operand(), b.operand(), c.data(), ldc, accumulate);
  CHECK(max_error(c, ldc, c0, accumulate, a, b) < 2e-5 * std::sqrt(double(k)) * 4 + 1e-5);
  bool padding_kept = true;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldc; ++j) padding_kept &= c[i * ldc + j] == c0[i * ldc + j];
  CHECK(padding_kept);
}

template <class Isa>
void check_kernel() {
  Rng rng(240);
  SUBCASE("random small shapes, every transpose combination, = and +=") {
    for (int trial = 0; trial < 6; ++trial) {
      const int64_t m = random_size(rng, 1, 50), n = random_size(rng, 1, 70),
                    k = random_size(rng, 1, 40);
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (bool accumulate : {false, true})
            check_product<Isa>(rng, m, n, k, ta, tb, accumulate);
    }
  }
  SUBCASE("shapes crossing the depth, panel and row blocks, with ragged edges") {
    const int64_t m = packed::kBlockRows + Isa::kRows + 1,
                  n = packed::kPanelCols + 2 * Isa::kLanes + 3, k = 2 * packed::kBlockDepth + 5;
    for (bool ta : {false, true}) check_product<Isa>(rng, m, n, k, ta, !ta, true);
  }
  SUBCASE("thin products of at most MR rows: B read in place, both orientations, ragged edges") {
    for (int trial = 0; trial < 4; ++trial) {
      const int64_t m = random_size(rng, 1, Isa::kRows), n = random_size(rng, 1, 150),
                    k = random_size(rng, 1, packed::kBlockDepth + 40);
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_product<Isa>(rng, m, n, k, ta, tb, trial % 2 == 1);
    }
  }
  SUBCASE("thin products of several A slivers (MR < m ≤ kThinRows, a row-major B)") {
    for (int trial = 0; trial < 4; ++trial) {
      const int64_t m = random_size(rng, Isa::kRows + 1, 4 * Isa::kRows + 5),
                    n = random_size(rng, 1, 150), k = random_size(rng, 1, packed::kBlockDepth + 40);
      REQUIRE(packed::takes_thin_path<Isa>(m, false));
      for (bool ta : {false, true}) check_product<Isa>(rng, m, n, k, ta, false, trial % 2 == 1);
    }
  }
  SUBCASE("a row-major A whose row stride is a multiple of 2 KiB is copied, not read in place") {
    const int64_t k = 300, padding = 512 - k;
    REQUIRE(packed::detail::copies_rows({nullptr, k + padding, false}));
    check_product<Isa>(rng, 2 * Isa::kRows + 5, 70, k, false, false, false, padding);
    check_product<Isa>(rng, 2 * Isa::kRows + 5, 70, k, false, true, true, padding);
  }
}
}  // namespace

TEST_CASE("packed GEMM, AVX2 kernel: equals the double reference") {
  check_kernel<packed::Avx2>();
}

#if defined(__AVX512F__)
TEST_CASE("packed GEMM, AVX-512 kernel: equals the double reference") {
  check_kernel<packed::Avx512>();
}
#endif

TEST_CASE("packed GEMM with no inner size writes zeros, or leaves C when accumulating") {
  std::vector<float> c = {1, 2, 3, 4, 5, 6};
  const float unused = 0;
  packed::multiply(2, 3, 0, {&unused, 1, false}, {&unused, 3, false}, c.data(), 3, true);
  CHECK(c == std::vector<float>{1, 2, 3, 4, 5, 6});
  packed::multiply(2, 3, 0, {&unused, 1, false}, {&unused, 3, false}, c.data(), 3, false);
  CHECK(c == std::vector<float>(6, 0.0f));
}

TEST_CASE("packed GEMM gives the same bits on 1 and 2 threads, split by rows or by columns") {
  Rng rng(241);
  // (tall: split by rows; wide: split by columns), depth across several blocks
  for (auto [m, n] : {std::pair<int64_t, int64_t>{700, 96}, {60, 900}}) {
    const int64_t k = packed::kBlockDepth + 77;
    const StoredOperand a = random_operand(rng, m, k, false, 0),
                        b = random_operand(rng, k, n, true, 0);
    Tensor<float> c0 = random_normal<float>({m, n}, rng);
    std::vector<float> one(c0.data(), c0.data() + c0.numel()), two = one;
    {
      ThreadCountGuard threads(1);
      packed::multiply(m, n, k, a.operand(), b.operand(), one.data(), n, true);
    }
    {
      ThreadCountGuard threads(2);
      packed::multiply(m, n, k, a.operand(), b.operand(), two.data(), n, true);
    }
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
    CHECK(max_error(two, n, std::vector<float>(c0.data(), c0.data() + c0.numel()), true, a, b) <
          1e-3);
  }
}

TEST_CASE("with a row-major B the thin and the packed path give the same bits, on 1 or 2 threads") {
  Rng rng(243);
  using Isa = packed::NativeIsa;
  for (int64_t m : {int64_t(Isa::kRows) + 1, int64_t(47), int64_t(100)}) {
    const int64_t n = 130, k = packed::kBlockDepth + 21;
    for (bool ta : {false, true}) {
      const StoredOperand a = random_operand(rng, m, k, ta, 0),
                          b = random_operand(rng, k, n, false, 0);
      Tensor<float> c0 = random_normal<float>({m, n}, rng);
      std::vector<float> thin_one(c0.data(), c0.data() + c0.numel()), thin_two = thin_one,
                                                                      packed_two = thin_one;
      {
        ThreadCountGuard threads(1);
        packed::detail::multiply_thin<Isa>(m, n, k, a.operand(), b.operand(), thin_one.data(), n,
                                           true);
      }
      {
        ThreadCountGuard threads(2);
        packed::detail::multiply_thin<Isa>(m, n, k, a.operand(), b.operand(), thin_two.data(), n,
                                           true);
        packed::detail::multiply_packed<Isa>(m, n, k, a.operand(), b.operand(), packed_two.data(),
                                             n, true);
      }
      CAPTURE(m);
      CHECK(std::memcmp(thin_one.data(), thin_two.data(), thin_one.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(thin_two.data(), packed_two.data(), thin_two.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("matmul_forward on floats large enough for the packed GEMM equals the reference") {
  Rng rng(242);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t m = random_size(rng, 5, 130), k = random_size(rng, 16, 300),
                    n = random_size(rng, 32, 200);
      REQUIRE(detail::use_packed_gemm<float>(m, n, k, tb));
      Tensor<float> a = random_normal<float>(ta ? Shape{k, m} : Shape{m, k}, rng);
      Tensor<float> b = random_normal<float>(tb ? Shape{n, k} : Shape{k, n}, rng);
      Tensor<float> fast({m, n}), slow({m, n});
      matmul_forward(fast, a, b, ta, tb);
      detail::matmul_ref(slow, a, b, ta, tb);
      CHECK(testing::max_abs_diff(fast, slow) < 1e-4 * std::sqrt(double(k)) + 1e-5);
    }
}

#else

TEST_CASE("without AVX2 + FMA every product goes to Eigen") {
  CHECK_FALSE(detail::use_packed_gemm<float>(4096, 4096, 4096, false));
}

#endif
