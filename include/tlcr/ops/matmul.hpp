// tlcr/ops/matmul.hpp — matrix products, forward and backward, on raw tensors (no autograd).
//
// matmul:         out = op(a) · op(b), where op(x) = x or xᵀ. Without transpose, a's leading axes
//                 are flattened into rows, so a (B,T,C) · b (C,OC) gives out (B,T,OC).
// batched_matmul: the same per matrix over the leading (batch) axes of rank-3/4 tensors,
//                 a (…,M,K) · b (…,K,N) → out (…,M,N), batches split across threads.
// Floats go to tlcr's packed GEMM (ops/packed_gemm.hpp); doubles, slivers (n < 32 or k < 16),
// products of 1–4 rows against a row-major b, and CPUs without AVX2 + FMA use Eigen, one single-threaded Eigen product per thread, with transposes
// as Eigen expressions on maps.
// Forward kernels overwrite `out`; backward kernels add into the gradients they are given
// (nullptr means "not needed").
// Shape legend: M = rows of op(a), K = inner size, N = columns of op(b).
#pragma once

#include <type_traits>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/packed_gemm.hpp"

namespace tlcr {

struct MatmulShape {
  int64_t m, k, n;
};

namespace detail {
// The sizes of op(a) · op(b) for the matrices a (ar × ac) and b (br × bc).
inline MatmulShape matmul_sizes(const char* op, int64_t ar, int64_t ac, int64_t br, int64_t bc,
                                bool transpose_a, bool transpose_b) {
  const int64_t m = transpose_a ? ac : ar, k = transpose_a ? ar : ac;
  const int64_t kb = transpose_b ? bc : br, n = transpose_b ? br : bc;
  if (k != kb)
    fail(op, ": inner sizes differ: op(a) is ", m, "x", k, ", op(b) is ", kb, "x", n,
         " (transpose_a=", transpose_a, ", transpose_b=", transpose_b, ")");
  return {m, k, n};
}

// Whether out (m × n) = op(a) · op(b) (inner size k) goes to tlcr's packed float GEMM
// (ops/packed_gemm.hpp, which picks its thin or packed path by m): float, a CPU it has a kernel
// for, and neither a sliver of a product (n < 32 or k < 16) nor 1–4 rows against a row-major B,
// where Eigen's matrix-vector kernels were ahead of the thin path's 12-row tiles (measured on the
// 2-core Zen 4 machine, 1 thread, widths 256–1024: 1 row 5× faster, 2–4 rows 0.9–1.3×).
template <class Scalar>
constexpr bool use_packed_gemm(int64_t m, int64_t n, int64_t k, bool transpose_b) {
#if TLCR_HAVE_PACKED_GEMM
  if constexpr (std::is_same_v<Scalar, float>)
    return (m > 4 || (transpose_b && m >= 1)) && n >= 32 && k >= 16;
#endif
  return false;
}

// Eigen's own threads stay off: its threaded GEMM synchronises its threads many times per product,
// which on a machine with another job on one core made products of 13–47 rows 35–55× slower at 2
// threads than at 1. Eigen products run on one thread each, inside tlcr's parallel_for. Called
// before every Eigen product; the switch happens once per program.
inline void keep_eigen_single_threaded() {
  [[maybe_unused]] static const bool switched_off = [] {
    Eigen::setNbThreads(1);
    return true;
  }();
}

constexpr double kEigenFlopsPerThread = 2e6;  // below this a fork costs more than it saves
constexpr int64_t kEigenSplitMinimum = 16;    // rows or columns per thread at least

template <class T>
using StridedRows = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ConstStridedRows = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;

// Columns [first, first + count) of a row-major strided map, as a map of the same type.
template <class Map>
Map column_block(Map x, int64_t first, int64_t count) {
  return Map(x.data() + first, x.rows(), count, Eigen::OuterStride<>(x.outerStride()));
}
// Rows [first, first + count), as a map of the same type.
template <class Map>
Map row_block(Map x, int64_t first, int64_t count) {
  return Map(x.data() + first * x.outerStride(), count, x.cols(),
             Eigen::OuterStride<>(x.outerStride()));
}

// out (+)= op(a) · op(b) by one single-threaded Eigen product; `accumulate` selects += over =.
template <class T>
void eigen_product(StridedRows<T> out, ConstStridedRows<T> a, ConstStridedRows<T> b,
                   bool transpose_a, bool transpose_b, bool accumulate) {
  auto apply = [&](const auto& lhs, const auto& rhs) {
    if (accumulate)
      out.noalias() += lhs * rhs;
    else
      out.noalias() = lhs * rhs;
  };
  if (!transpose_a && !transpose_b)
    apply(a, b);
  else if (transpose_a && !transpose_b)
    apply(a.transpose(), b);
  else if (!transpose_a && transpose_b)
    apply(a, b.transpose());
  else
    apply(a.transpose(), b.transpose());
}

// out (+)= op(a) · op(b) on row-major maps with a row stride; `accumulate` selects += over =.
// Floats go to the packed GEMM (ops/packed_gemm.hpp), which splits C across threads itself.
// Otherwise Eigen: out is cut along its longer side into one block per thread (rows of out are
// rows of op(a), columns are columns of op(b); both are column or row blocks of the stored
// operands), each block an independent single-threaded Eigen product. The cut depends only on the
// shape and the thread count.
template <class T>
void gemm_strided(StridedRows<T> out, ConstStridedRows<T> a, ConstStridedRows<T> b,
                  bool transpose_a, bool transpose_b, bool accumulate) {
  const int64_t rows = out.rows(), cols = out.cols();
  const int64_t inner = transpose_a ? a.rows() : a.cols();
#if TLCR_HAVE_PACKED_GEMM
  if constexpr (std::is_same_v<T, float>)
    if (use_packed_gemm<T>(rows, cols, inner, transpose_b)) {
      packed::multiply(rows, cols, inner, {a.data(), a.outerStride(), transpose_a},
                       {b.data(), b.outerStride(), transpose_b}, out.data(), out.outerStride(),
                       accumulate);
      return;
    }
#endif
  keep_eigen_single_threaded();
  const bool by_rows = rows >= cols;
  const int64_t extent = by_rows ? rows : cols;
  const double flops = 2.0 * double(rows) * double(cols) * double(inner);
  int64_t parts = 1;
  if (!in_parallel_region())
    parts = std::min({int64_t(num_threads()), extent / kEigenSplitMinimum,
                      int64_t(flops / kEigenFlopsPerThread)});
  if (parts <= 1) {
    eigen_product<T>(out, a, b, transpose_a, transpose_b, accumulate);
    return;
  }
  const int64_t block = (extent + parts - 1) / parts;
  parallel_for(0, parts, 1, [&](int64_t part_begin, int64_t part_end) {
    for (int64_t part = part_begin; part < part_end; ++part) {
      const int64_t first = part * block, count = std::min(block, extent - first);
      if (count <= 0) continue;
      if (by_rows)  // rows of op(a): rows of a, or columns of a stored transposed
        eigen_product<T>(row_block(out, first, count),
                         transpose_a ? column_block(a, first, count) : row_block(a, first, count),
                         b, transpose_a, transpose_b, accumulate);
      else  // columns of op(b): columns of b, or rows of b stored transposed
        eigen_product<T>(column_block(out, first, count), a,
                         transpose_b ? row_block(b, first, count) : column_block(b, first, count),
                         transpose_a, transpose_b, accumulate);
    }
  });
}

// out (+)= op(a) · op(b) on Eigen matrix expressions — maps and row blocks of tensors, row-major
// with unit inner stride. Every caller's types are viewed as the same strided maps, so each scalar
// type compiles Eigen's products once per unit instead of once per combination of expression types.
template <class Out, class A, class B>
void gemm(Out&& out, const A& a, const B& b, bool transpose_a, bool transpose_b, bool accumulate) {
  using T = typename std::decay_t<Out>::Scalar;
  static_assert(std::decay_t<Out>::IsRowMajor && A::IsRowMajor && B::IsRowMajor,
                "gemm: operands must be row-major");
  auto view = [](const auto& x) {
    return ConstStridedRows<T>(x.data(), x.rows(), x.cols(), Eigen::OuterStride<>(x.outerStride()));
  };
  gemm_strided<T>(
      StridedRows<T>(out.data(), out.rows(), out.cols(), Eigen::OuterStride<>(out.outerStride())),
      view(a), view(b), transpose_a, transpose_b, accumulate);
}

// Naive reference: out = op(a) · op(b) with a triple loop (the test oracle for matmul_forward).
template <class T>
void matmul_ref(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b, bool transpose_a,
                bool transpose_b) {
  const auto A = a.matrix();
  const auto B = b.matrix();
  const auto [m, k, n] =
      matmul_sizes("matmul_ref", A.rows(), A.cols(), B.rows(), B.cols(), transpose_a, transpose_b);
  auto O = out.matrix();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p)
        sum += double(transpose_a ? A(p, i) : A(i, p)) * double(transpose_b ? B(j, p) : B(p, j));
      O(i, j) = T(sum);
    }
}
}  // namespace detail

// The output shape of matmul(a, b): a's leading shape with the last axis replaced by N
// (a must be rank 2 when transposed).
inline Shape matmul_output_shape(const Shape& a, const Shape& b, bool transpose_a,
                                 bool transpose_b) {
  TLCR_CHECK(a.rank >= 1 && b.rank == 2, "matmul: expected a of rank ≥ 1 and b of rank 2, got a ",
             a.str(), " and b ", b.str());
  TLCR_CHECK(!transpose_a || a.rank == 2, "matmul: transpose_a needs a of rank 2, got ", a.str());
  const auto sizes = detail::matmul_sizes("matmul", a.rows(), a.cols(), b.rows(), b.cols(),
                                          transpose_a, transpose_b);
  if (transpose_a) return Shape{sizes.m, sizes.n};
  Shape out = a;
  out.dims[out.rank - 1] = sizes.n;
  return out;
}

// out (M,N) = op(a) · op(b), parallel inside.
template <class T>
void matmul_forward(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b,
                    bool transpose_a = false, bool transpose_b = false) {
  check_same_shape("matmul_forward", out.shape(),
                   matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b), "out",
                   "op(a)·op(b)");
  detail::gemm(out.matrix(), a.matrix(), b.matrix(), transpose_a, transpose_b, false);
}

// Given d_out = dL/d(out), adds dL/da into d_a and dL/db into d_b.
template <class T>
void matmul_backward(Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out, const Tensor<T>& a,
                     const Tensor<T>& b, bool transpose_a = false, bool transpose_b = false) {
  const auto dO = d_out.matrix();
  // forward: out = op_a(a) · op_b(b)
  if (d_a) {
    // d op_a(a) = d_out · op_b(b)ᵀ; transposed: d a = op_b(b) · d_outᵀ
    if (!transpose_a)
      detail::gemm(d_a->matrix(), dO, b.matrix(), false, !transpose_b, true);
    else if (!transpose_b)
      detail::gemm(d_a->matrix(), b.matrix(), dO, false, true, true);
    else
      detail::gemm(d_a->matrix(), b.matrix(), dO, true, true, true);
  }
  if (d_b) {
    // d op_b(b) = op_a(a)ᵀ · d_out; transposed: d b = d_outᵀ · op_a(a)
    if (!transpose_b)
      detail::gemm(d_b->matrix(), a.matrix(), dO, !transpose_a, false, true);
    else if (!transpose_a)
      detail::gemm(d_b->matrix(), dO, a.matrix(), true, false, true);
    else
      detail::gemm(d_b->matrix(), dO, a.matrix(), true, true, true);
  }
}

// ---- batched ----------------------------------------------------------------------------------

inline Shape batched_matmul_output_shape(const Shape& a, const Shape& b, bool transpose_a,
                                         bool transpose_b) {
  TLCR_CHECK(a.rank >= 3 && a.rank == b.rank,
             "batched_matmul: expected a and b of equal rank ≥ 3, got a ", a.str(), " and b ",
             b.str());
  for (int i = 0; i + 2 < a.rank; ++i)
    TLCR_CHECK(a.dims[i] == b.dims[i], "batched_matmul: batch axes differ: a ", a.str(), " vs b ",
               b.str());
  const auto sizes =
      detail::matmul_sizes("batched_matmul", a.dims[a.rank - 2], a.dims[a.rank - 1],
                           b.dims[b.rank - 2], b.dims[b.rank - 1], transpose_a, transpose_b);
  Shape out = a;
  out.dims[out.rank - 2] = sizes.m;
  out.dims[out.rank - 1] = sizes.n;
  return out;
}

namespace detail {
// Calls body(out_i, a_i, b_i) for every batch index, each as an Eigen map, in parallel over
// batches.
template <class T, class Body>
void for_each_batch(int64_t batch_count, T* out, int64_t out_r, int64_t out_c, const T* a,
                    int64_t a_r, int64_t a_c, const T* b, int64_t b_r, int64_t b_c, Body&& body) {
  parallel_for(0, batch_count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Eigen::Map<RowMatrix<T>> O(out + i * out_r * out_c, out_r, out_c);
      ConstMatrixMap<T> A(a + i * a_r * a_c, a_r, a_c);
      ConstMatrixMap<T> B(b + i * b_r * b_c, b_r, b_c);
      body(O, A, B);
    }
  });
}
inline int64_t batch_count(const Shape& s) {
  return s.numel() / (s.dims[s.rank - 2] * s.dims[s.rank - 1]);
}
inline int64_t rows_of(const Shape& s) {
  return s.dims[s.rank - 2];
}
inline int64_t cols_of(const Shape& s) {
  return s.dims[s.rank - 1];
}
}  // namespace detail

// out (…,M,N) = op(a_i) · op(b_i) for each batch index i.
template <class T>
void batched_matmul_forward(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b,
                            bool transpose_a = false, bool transpose_b = false) {
  check_same_shape("batched_matmul_forward", out.shape(),
                   batched_matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b),
                   "out", "op(a)·op(b)");
  using namespace detail;
  const Shape &sa = a.shape(), &sb = b.shape(), &so = out.shape();
  for_each_batch(batch_count(so), out.data(), rows_of(so), cols_of(so), a.data(), rows_of(sa),
                 cols_of(sa), b.data(), rows_of(sb), cols_of(sb),
                 [&](auto& O, const auto& A, const auto& B) {
                   gemm(O, A, B, transpose_a, transpose_b, false);
                 });
}

// Batched version of matmul_backward: adds into d_a and d_b per batch index.
template <class T>
void batched_matmul_backward(Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out,
                             const Tensor<T>& a, const Tensor<T>& b, bool transpose_a = false,
                             bool transpose_b = false) {
  using namespace detail;
  const Shape &sa = a.shape(), &sb = b.shape(), &so = d_out.shape();
  const int64_t batches = batch_count(so);
  // forward: out_i = op_a(a_i) · op_b(b_i); each gradient is a product of d_out_i with the other.
  if (d_a)
    for_each_batch(batches, d_a->data(), rows_of(sa), cols_of(sa), d_out.data(), rows_of(so),
                   cols_of(so), b.data(), rows_of(sb), cols_of(sb),
                   [&](auto& dA, const auto& dO, const auto& B) {
                     if (!transpose_a)
                       gemm(dA, dO, B, false, !transpose_b, true);
                     else if (!transpose_b)
                       gemm(dA, B, dO, false, true, true);
                     else
                       gemm(dA, B, dO, true, true, true);
                   });
  if (d_b)
    for_each_batch(batches, d_b->data(), rows_of(sb), cols_of(sb), a.data(), rows_of(sa),
                   cols_of(sa), d_out.data(), rows_of(so), cols_of(so),
                   [&](auto& dB, const auto& A, const auto& dO) {
                     if (!transpose_b)
                       gemm(dB, A, dO, !transpose_a, false, true);
                     else if (!transpose_a)
                       gemm(dB, dO, A, true, false, true);
                     else
                       gemm(dB, dO, A, true, true, true);
                   });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(matmul_forward, matmul_backward, batched_matmul_forward, batched_matmul_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_MATMUL_INSTANCES(extern_, T)                                                     \
  extern_ template void matmul_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&, bool,   \
                                          bool);                                                  \
  extern_ template void matmul_backward<T>(Tensor<T>*, Tensor<T>*, const Tensor<T>&,              \
                                           const Tensor<T>&, const Tensor<T>&, bool, bool);       \
  extern_ template void batched_matmul_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                  bool, bool);                                    \
  extern_ template void batched_matmul_backward<T>(                                               \
      Tensor<T>*, Tensor<T>*, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, bool, bool);
TLCR_DECLARE_INSTANCES(TLCR_OPS_MATMUL_INSTANCES)

}  // namespace tlcr
