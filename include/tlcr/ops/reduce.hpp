// tlcr/ops/reduce.hpp — sum and mean, over everything or along one axis.
//
// Along an axis, x is viewed as (outer, n, inner) and reduced to out (outer, inner); the output
// shape drops that axis. Sums run in index order (fixed order → deterministic).
// add_row_sums accumulates (…, C) into (C): the gradient of a vector broadcast over rows (biases).
// Shape legend: n = size of the reduced axis, outer/inner = products of the axes before/after it.
#pragma once

#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
constexpr int64_t kRowSumGrain = 1 << 14;  // elements per thread chunk in add_row_sums
}  // namespace detail

struct AxisSplit {
  int64_t outer, n, inner;
};

// Splits x's shape around `axis` (negative counts from the end) and returns the reduced shape.
inline AxisSplit split_axis(const char* op, const Shape& x, int& axis, Shape* reduced = nullptr) {
  if (axis < 0) axis += x.rank;
  TLCR_CHECK(axis >= 0 && axis < x.rank, op, ": axis out of range for shape ", x.str());
  AxisSplit split{1, x.dims[axis], 1};
  for (int i = 0; i < axis; ++i) split.outer *= x.dims[i];
  for (int i = axis + 1; i < x.rank; ++i) split.inner *= x.dims[i];
  if (reduced) {
    *reduced = Shape{};
    for (int i = 0; i < x.rank; ++i)
      if (i != axis) reduced->dims[reduced->rank++] = x.dims[i];
  }
  return split;
}

// out (outer, inner) = scale · Σ_j x (outer, j, inner). scale = 1 for sum, 1/n for mean.
template <class T>
void sum_axis_forward(Tensor<T>& out, const Tensor<T>& x, int axis, T scale = T(1)) {
  Shape reduced;
  const AxisSplit s = split_axis("sum_axis", x.shape(), axis, &reduced);
  check_same_shape("sum_axis", out.shape(), reduced, "out", "reduced x");
  const T* px = x.data();
  T* po = out.data();
  parallel_for(0, s.outer, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, s.n * s.inner)),
               [&](int64_t o0, int64_t o1) {
                 for (int64_t o = o0; o < o1; ++o) {
                   T* row = po + o * s.inner;
                   for (int64_t i = 0; i < s.inner; ++i) row[i] = 0;
                   for (int64_t j = 0; j < s.n; ++j) {
                     const T* xr = px + (o * s.n + j) * s.inner;
                     for (int64_t i = 0; i < s.inner; ++i) row[i] += xr[i];
                   }
                   for (int64_t i = 0; i < s.inner; ++i) row[i] *= scale;
                 }
               });
}

// forward: out[o,i] = scale · Σ_j x[o,j,i] → d x[o,j,i] += scale · d out[o,i].
template <class T>
void sum_axis_backward(Tensor<T>& d_x, const Tensor<T>& d_out, int axis, T scale = T(1)) {
  const AxisSplit s = split_axis("sum_axis", d_x.shape(), axis);
  const T* g = d_out.data();
  T* dx = d_x.data();
  parallel_for(0, s.outer * s.n, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, s.inner)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const T* gr = g + (r / s.n) * s.inner;
                   T* dr = dx + r * s.inner;
                   for (int64_t i = 0; i < s.inner; ++i) dr[i] += scale * gr[i];
                 }
               });
}

// out (rank 0) = scale · Σ x, summed in double for accuracy (fixed order).
template <class T>
void sum_all_forward(Tensor<T>& out, const Tensor<T>& x, T scale = T(1)) {
  TLCR_CHECK(out.numel() == 1, "sum_all: out must hold one element, got ", out.shape().str());
  double total = 0;
  for (const T v : x) total += v;
  out.data()[0] = static_cast<T>(total * scale);
}
// forward: out = scale · Σ x → d x += scale · d out.
template <class T>
void sum_all_backward(Tensor<T>& d_x, const Tensor<T>& d_out, T scale = T(1)) {
  d_x.vector().array() += scale * d_out.data()[0];
}

// out (C) += Σ_rows x (…, C): each column summed in row order, then added. Each thread owns a
// range of columns and reads its rows contiguously, so the result is the same for every thread
// count. (Bias gradients: elementwise add's broadcast operand, Linear's bias.)
template <class T>
void add_row_sums(Tensor<T>& out, const Tensor<T>& x) {
  const int64_t cols = out.numel(), rows = x.numel() / std::max<int64_t>(cols, 1);
  TLCR_CHECK(rows * cols == x.numel(), "add_row_sums: ", x.shape().str(),
             " is not a whole number of rows of ", cols);
  const T* g = x.data();
  T* sums = out.data();
  parallel_for(0, cols, std::max<int64_t>(1, detail::kRowSumGrain / std::max<int64_t>(rows, 1)),
               [&](int64_t c0, int64_t c1) {
                 std::vector<T> sum(c1 - c0, T(0));
                 for (int64_t r = 0; r < rows; ++r) {
                   const T* row = g + r * cols + c0;
                   for (int64_t k = 0; k < c1 - c0; ++k) sum[k] += row[k];
                 }
                 for (int64_t k = 0; k < c1 - c0; ++k) sums[c0 + k] += sum[k];
               });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(sum_axis_forward, sum_axis_backward, sum_all_forward, sum_all_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_REDUCE_INSTANCES(extern_, T)                                       \
  extern_ template void sum_axis_forward<T>(Tensor<T>&, const Tensor<T>&, int, T);  \
  extern_ template void sum_axis_backward<T>(Tensor<T>&, const Tensor<T>&, int, T); \
  extern_ template void sum_all_forward<T>(Tensor<T>&, const Tensor<T>&, T);        \
  extern_ template void sum_all_backward<T>(Tensor<T>&, const Tensor<T>&, T);       \
  extern_ template void add_row_sums<T>(Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_REDUCE_INSTANCES)

}  // namespace tlcr
