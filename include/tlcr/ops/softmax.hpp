// tlcr/ops/softmax.hpp — softmax and log-softmax over the last axis, forward and backward.
//
// Each row is shifted by its maximum before exponentiating, so large logits never overflow:
//   softmax(x)_j     = exp(x_j − m) / Σ_k exp(x_k − m)
//   log_softmax(x)_j = (x_j − m) − log Σ_k exp(x_k − m),      m = max_k x_k.
// Rows are independent and split across threads; within a row, sums run in index order and in
// double (a float sum over a 50k-token vocabulary would lose about three digits).
// Backward kernels need only the saved output y, not x.
// Not here: masking (attention applies its own), cross-entropy.
// Shape legend: x, out (…, C) seen as R × C; R = rows (product of leading sizes), C = last size.
#pragma once

#include <cmath>

#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
constexpr int64_t kRowGrain = 1 << 14;  // elements per thread chunk for row-wise kernels

inline void check_softmax_shapes(const char* op, const Shape& a, const Shape& b, const char* name_a,
                                 const char* name_b) {
  TLCR_CHECK(b.rank >= 1, op, ": expected ", name_b,
             " of rank ≥ 1 (the last axis is normalised), got ", b.str());
  check_same_shape(op, a, b, name_a, name_b);
}

// Calls body(r) for every row r in [0, rows), rows split across threads in chunks of about
// kRowGrain elements.
template <class Body>
void parallel_rows(int64_t rows, int64_t cols, Body&& body) {
  parallel_for(0, rows, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) body(r);
               });
}

template <class T>
T row_max(const T* x, int64_t cols) {
  return lane_max(x, cols);
}

// Naive references (the test oracles): the textbook formulas per element, sums in double.
template <class T>
void softmax_ref(Tensor<T>& out, const Tensor<T>& x) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    double m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, double(x.data()[r * cols + j]));
    double total = 0;
    for (int64_t j = 0; j < cols; ++j) total += std::exp(double(x.data()[r * cols + j]) - m);
    for (int64_t j = 0; j < cols; ++j)
      out.data()[r * cols + j] = T(std::exp(double(x.data()[r * cols + j]) - m) / total);
  }
}
template <class T>
void log_softmax_ref(Tensor<T>& out, const Tensor<T>& x) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    double m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, double(x.data()[r * cols + j]));
    double total = 0;
    for (int64_t j = 0; j < cols; ++j) total += std::exp(double(x.data()[r * cols + j]) - m);
    for (int64_t j = 0; j < cols; ++j)
      out.data()[r * cols + j] = T(double(x.data()[r * cols + j]) - m - std::log(total));
  }
}
}  // namespace detail

// out (R,C) = softmax of each row of x (R,C).
template <class T>
void softmax_forward(Tensor<T>& out, const Tensor<T>& x) {
  detail::check_softmax_shapes("softmax", out.shape(), x.shape(), "out", "x");
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  detail::parallel_rows(rows, cols, [&](int64_t r) {
    const T* xr = x.data() + r * cols;
    T* yr = out.data() + r * cols;
    const T m = detail::row_max(xr, cols);
    for (int64_t j = 0; j < cols; ++j) yr[j] = fast_exp_nonpositive(xr[j] - m);
    const double total = lane_sum<T>(cols, [&](int64_t j) { return yr[j]; });
    const T inverse = T(1.0 / total);
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inverse;
  });
}

// forward: y = softmax(x) → d x_j += y_j · (d y_j − Σ_k d y_k · y_k), per row.
template <class T>
void softmax_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<T>& out) {
  detail::check_softmax_shapes("softmax_backward", d_x.shape(), out.shape(), "d_x", "out");
  check_same_shape("softmax_backward", d_out.shape(), out.shape(), "d_out", "out");
  const int64_t rows = out.shape().rows(), cols = out.shape().cols();
  detail::parallel_rows(rows, cols, [&](int64_t r) {
    const T* yr = out.data() + r * cols;
    const T* gr = d_out.data() + r * cols;
    T* dxr = d_x.data() + r * cols;
    const T dot = T(lane_sum<T>(cols, [&](int64_t j) { return gr[j] * yr[j]; }));
    for (int64_t j = 0; j < cols; ++j) dxr[j] += yr[j] * (gr[j] - dot);
  });
}

// out (R,C) = log_softmax of each row of x (R,C).
template <class T>
void log_softmax_forward(Tensor<T>& out, const Tensor<T>& x) {
  detail::check_softmax_shapes("log_softmax", out.shape(), x.shape(), "out", "x");
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  detail::parallel_rows(rows, cols, [&](int64_t r) {
    const T* xr = x.data() + r * cols;
    T* yr = out.data() + r * cols;
    const T m = detail::row_max(xr, cols);
    const double total =
        lane_sum<T>(cols, [&](int64_t j) { return fast_exp_nonpositive(xr[j] - m); });
    // (x − m) − log Σ, not x − (m + log Σ): near m = 1000 a float cannot hold log Σ's digits.
    const T log_total = T(std::log(total));
    for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m) - log_total;
  });
}

// forward: y = x − m − log Σ exp(x − m) → d x_j += d y_j − exp(y_j) · Σ_k d y_k, per row
// (exp(y) is the softmax).
template <class T>
void log_softmax_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<T>& out) {
  detail::check_softmax_shapes("log_softmax_backward", d_x.shape(), out.shape(), "d_x", "out");
  check_same_shape("log_softmax_backward", d_out.shape(), out.shape(), "d_out", "out");
  const int64_t rows = out.shape().rows(), cols = out.shape().cols();
  detail::parallel_rows(rows, cols, [&](int64_t r) {
    const T* yr = out.data() + r * cols;
    const T* gr = d_out.data() + r * cols;
    T* dxr = d_x.data() + r * cols;
    const T total = T(lane_sum<T>(cols, [&](int64_t j) { return gr[j]; }));
    for (int64_t j = 0; j < cols; ++j) dxr[j] += gr[j] - fast_exp_nonpositive(yr[j]) * total;
  });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(softmax_forward, softmax_backward, log_softmax_forward, log_softmax_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_SOFTMAX_INSTANCES(extern_, T)                                               \
  extern_ template void softmax_forward<T>(Tensor<T>&, const Tensor<T>&);                    \
  extern_ template void softmax_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
  extern_ template void log_softmax_forward<T>(Tensor<T>&, const Tensor<T>&);                \
  extern_ template void log_softmax_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_SOFTMAX_INSTANCES)

}  // namespace tlcr
