// tlcr/ops/elementwise.hpp — binary arithmetic with broadcasting over leading axes, and scaling.
//
// out = a ∘ b for ∘ ∈ {+, −, ×, ÷}. b's shape must equal the trailing axes of a's shape
// (b (C) against a (B,T,C); a rank-0 b is a scalar), so b repeats over a's leading "outer" axes.
// Viewed flat: a, out are (outer, inner), b is (inner). Backward adds into the gradients it is
// given (nullptr = not needed); b's gradient sums over outer, each column owned by one thread,
// so the reduction order is fixed.
// Shape legend: outer = a.numel / b.numel, inner = b.numel.
#pragma once

#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/reduce.hpp"

namespace tlcr {

enum class BinaryOp { Add, Sub, Mul, Div };

inline const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "add";
    case BinaryOp::Sub:
      return "sub";
    case BinaryOp::Mul:
      return "mul";
    case BinaryOp::Div:
      return "div";
  }
  return "?";
}

// Checks that b broadcasts over a (b's shape is a suffix of a's) and returns inner = b.numel().
inline int64_t broadcast_inner(const char* op, const Shape& a, const Shape& b) {
  bool suffix = b.rank <= a.rank;
  for (int i = 0; suffix && i < b.rank; ++i)
    suffix = b.dims[b.rank - 1 - i] == a.dims[a.rank - 1 - i];
  if (!suffix)
    detail::fail(op, ": shape mismatch: b ", b.str(), " must equal the trailing axes of a ",
                 a.str());
  return b.numel();
}

namespace detail {
// Elements per thread chunk: below this, run serially.
constexpr int64_t kElementwiseGrain = 1 << 14;

// Shared with the CUDA kernels (cuda/elementwise.cuh).
template <class T>
TLCR_HOST_DEVICE inline T apply_binary(BinaryOp op, T x, T y) {
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
  return x;
}
}  // namespace detail

// out (outer,inner) = a (outer,inner) ∘ b (inner).
template <class T>
void binary_forward(BinaryOp op, Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
  const int64_t inner = broadcast_inner(binary_op_name(op), a.shape(), b.shape());
  check_same_shape(binary_op_name(op), out.shape(), a.shape(), "out", "a");
  const int64_t total = a.numel();
  if (inner == 0) return;
  // out[0:n] = x[0:n] op y[0:n]; the switch sits outside the loops so each loop vectorises.
  auto combine = [op](T* o, const T* x, const T* y, int64_t n) {
    switch (op) {
      case BinaryOp::Add:
        for (int64_t i = 0; i < n; ++i) o[i] = x[i] + y[i];
        break;
      case BinaryOp::Sub:
        for (int64_t i = 0; i < n; ++i) o[i] = x[i] - y[i];
        break;
      case BinaryOp::Mul:
        for (int64_t i = 0; i < n; ++i) o[i] = x[i] * y[i];
        break;
      case BinaryOp::Div:
        for (int64_t i = 0; i < n; ++i) o[i] = x[i] / y[i];
        break;
    }
  };
  const T* pa = a.data();
  const T* pb = b.data();
  T* po = out.data();
  if (inner == total) {  // same shapes (a residual add): split the flat range, not rows
    parallel_for(0, total, detail::kElementwiseGrain, [&](int64_t begin, int64_t end) {
      combine(po + begin, pa + begin, pb + begin, end - begin);
    });
    return;
  }
  parallel_for(0, total / inner, std::max<int64_t>(1, detail::kElementwiseGrain / inner),
               [&](int64_t row_begin, int64_t row_end) {
                 for (int64_t r = row_begin; r < row_end; ++r)
                   combine(po + r * inner, pa + r * inner, pb, inner);
               });
}

// Given d_out, adds d_a (outer,inner) and d_b (inner).
template <class T>
void binary_backward(BinaryOp op, Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out,
                     const Tensor<T>& a, const Tensor<T>& b) {
  const int64_t inner = b.numel();
  if (inner == 0) return;
  const int64_t outer = a.numel() / inner;
  const T* g = d_out.data();
  const T* pa = a.data();
  const T* pb = b.data();
  if (d_a) {
    T* da = d_a->data();
    parallel_for(0, outer, std::max<int64_t>(1, detail::kElementwiseGrain / inner),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const T* gr = g + r * inner;
                     T* dar = da + r * inner;
                     switch (op) {
                       // forward: out = a + b, a − b  → d a = d out
                       case BinaryOp::Add:
                       case BinaryOp::Sub:
                         for (int64_t i = 0; i < inner; ++i) dar[i] += gr[i];
                         break;
                       // forward: out = a · b → d a = d out · b
                       case BinaryOp::Mul:
                         for (int64_t i = 0; i < inner; ++i) dar[i] += gr[i] * pb[i];
                         break;
                       // forward: out = a / b → d a = d out / b
                       case BinaryOp::Div:
                         for (int64_t i = 0; i < inner; ++i) dar[i] += gr[i] / pb[i];
                         break;
                     }
                   }
                 });
  }
  if (d_b && op == BinaryOp::Add) {  // ∂/∂b (a+b) = 1: the column sums of d out
    add_row_sums(*d_b, d_out);
  } else if (d_b) {
    T* db = d_b->data();
    // d b_i = Σ_r (∂out_ri/∂b_i) · d out_ri; each thread owns a range of columns i. Rows are the
    // outer loop so the reads are contiguous; each column still adds its rows in order r = 0, 1, …
    parallel_for(0, inner,
                 std::max<int64_t>(1, detail::kElementwiseGrain / std::max<int64_t>(outer, 1)),
                 [&](int64_t i0, int64_t i1) {
                   const int64_t n = i1 - i0;
                   std::vector<T> sum(n, T(0));  // sum[k] accumulates column i0 + k
                   const T* br = pb + i0;
                   for (int64_t r = 0; r < outer; ++r) {
                     const T* gr = g + r * inner + i0;
                     const T* ar = pa + r * inner + i0;
                     switch (op) {
                       case BinaryOp::Add:
                         break;  // add_row_sums above
                       case BinaryOp::Sub:
                         for (int64_t k = 0; k < n; ++k) sum[k] -= gr[k];
                         break;  // ∂/∂b (a−b) = −1
                       case BinaryOp::Mul:
                         for (int64_t k = 0; k < n; ++k) sum[k] += gr[k] * ar[k];
                         break;             // ∂/∂b (a·b) = a
                       case BinaryOp::Div:  // ∂/∂b (a/b) = −a/b²
                         for (int64_t k = 0; k < n; ++k) sum[k] -= gr[k] * ar[k] / (br[k] * br[k]);
                         break;
                     }
                   }
                   for (int64_t k = 0; k < n; ++k) db[i0 + k] += sum[k];
                 });
  }
}

// out = factor · x.
template <class T>
void scale_forward(Tensor<T>& out, const Tensor<T>& x, T factor) {
  check_same_shape("scale", out.shape(), x.shape(), "out", "x");
  out.vector() = factor * x.vector();
}
// forward: out = factor · x → d x += factor · d out.
template <class T>
void scale_backward(Tensor<T>& d_x, const Tensor<T>& d_out, T factor) {
  d_x.vector() += factor * d_out.vector();
}

// Gradient accumulation, dst += src (same numel): how a gradient reaches a tensor that several
// consumers feed.
template <class T>
void accumulate(Tensor<T>& dst, const Tensor<T>& src) {
  TLCR_CHECK(dst.numel() == src.numel(), "accumulate: ", dst.numel(), " destination elements vs ",
             src.numel(), " source elements");
  dst.vector() += src.vector();
}
// dst += scale · src with the factor read from the one-element tensor `scale`: the factor is a
// value on the device (a scalar loss's gradient), so it never crosses to the host.
template <class T>
void accumulate_scaled(Tensor<T>& dst, const Tensor<T>& src, const Tensor<T>& scale) {
  TLCR_CHECK(dst.numel() == src.numel() && scale.numel() == 1, "accumulate_scaled: ", dst.numel(),
             " destination elements, ", src.numel(), " source elements, ", scale.numel(),
             " scale elements (expected 1)");
  const T factor = scale.data()[0];
  dst.vector() += factor * src.vector();
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(binary_forward, binary_backward, scale_forward, scale_backward, accumulate,
                  accumulate_scaled)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_ELEMENTWISE_INSTANCES(extern_, T)                                             \
  extern_ template void binary_forward<T>(BinaryOp, Tensor<T>&, const Tensor<T>&,              \
                                          const Tensor<T>&);                                   \
  extern_ template void binary_backward<T>(BinaryOp, Tensor<T>*, Tensor<T>*, const Tensor<T>&, \
                                           const Tensor<T>&, const Tensor<T>&);                \
  extern_ template void scale_forward<T>(Tensor<T>&, const Tensor<T>&, T);                     \
  extern_ template void scale_backward<T>(Tensor<T>&, const Tensor<T>&, T);                    \
  extern_ template void accumulate<T>(Tensor<T>&, const Tensor<T>&);                           \
  extern_ template void accumulate_scaled<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_ELEMENTWISE_INSTANCES)

}  // namespace tlcr
