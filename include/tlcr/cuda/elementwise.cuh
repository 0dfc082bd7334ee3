// tlcr/cuda/elementwise.cuh — ops/elementwise.hpp's kernels on Tensor<T, Cuda>: binary arithmetic
// with broadcasting over leading axes, scaling and gradient accumulation.
//
// Same contracts as the CPU kernels (out = a ∘ b with b repeating over a's leading axes; backward
// adds into the gradients it is given, nullptr = not needed). The forward reuses the CPU's
// detail::apply_binary. b's gradient is a column sum: one thread per column adds the rows in order
// r = 0, 1, …, as the CPU does, so the result does not depend on the launch (no atomics).
// Shape legend: outer = a.numel / b.numel, inner = b.numel.
// Not here: the CPU kernels and the shape rules (ops/elementwise.hpp).
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/elementwise.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class T>
__global__ void binary_forward_kernel(BinaryOp op, T* out, const T* a, const T* b, int64_t total,
                                      int64_t inner) {
  for (int64_t i = grid_index(); i < total; i += grid_stride())
    out[i] = ::tlcr::detail::apply_binary(op, a[i], b[i % inner]);
}

// d a (outer,inner) += ∂out/∂a · d out, element by element.
template <class T>
__global__ void binary_backward_a_kernel(BinaryOp op, T* d_a, const T* g, const T* b, int64_t total,
                                         int64_t inner) {
  for (int64_t i = grid_index(); i < total; i += grid_stride()) {
    switch (op) {
      case BinaryOp::Add:  // forward: out = a + b, a − b → d a = d out
      case BinaryOp::Sub:
        d_a[i] += g[i];
        break;
      case BinaryOp::Mul:  // forward: out = a · b → d a = d out · b
        d_a[i] += g[i] * b[i % inner];
        break;
      case BinaryOp::Div:  // forward: out = a / b → d a = d out / b
        d_a[i] += g[i] / b[i % inner];
        break;
    }
  }
}

// d b (inner) += Σ_r ∂out_ri/∂b_i · d out_ri: thread i owns column i.
template <class T>
__global__ void binary_backward_b_kernel(BinaryOp op, T* d_b, const T* g, const T* a, const T* b,
                                         int64_t outer, int64_t inner) {
  for (int64_t i = grid_index(); i < inner; i += grid_stride()) {
    T sum = T(0);
    for (int64_t r = 0; r < outer; ++r) {
      const T gri = g[r * inner + i];
      switch (op) {
        case BinaryOp::Add:  // ∂/∂b (a+b) = 1
          sum += gri;
          break;
        case BinaryOp::Sub:  // ∂/∂b (a−b) = −1
          sum -= gri;
          break;
        case BinaryOp::Mul:  // ∂/∂b (a·b) = a
          sum += gri * a[r * inner + i];
          break;
        case BinaryOp::Div:  // ∂/∂b (a/b) = −a/b²
          sum -= gri * a[r * inner + i] / (b[i] * b[i]);
          break;
      }
    }
    d_b[i] += sum;
  }
}

// out = factor · x (out may be x: scale in place).
template <class T>
__global__ void scale_kernel(T* out, const T* x, T factor, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) out[i] = factor * x[i];
}

// dst += factor · src, the factor given (factor_on_device == nullptr) or read on the device.
template <class T>
__global__ void add_scaled_kernel(T* dst, const T* src, T factor, const T* factor_on_device,
                                  int64_t n) {
  const T f = factor_on_device ? *factor_on_device : factor;
  for (int64_t i = grid_index(); i < n; i += grid_stride()) dst[i] += f * src[i];
}

}  // namespace cuda::kernels

// out (outer,inner) = a (outer,inner) ∘ b (inner).
template <class T>
void binary_forward(BinaryOp op, Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a,
                    const Tensor<T, Cuda>& b) {
  const int64_t inner = broadcast_inner(binary_op_name(op), a.shape(), b.shape());
  check_same_shape(binary_op_name(op), out.shape(), a.shape(), "out", "a");
  const int64_t total = a.numel();
  if (inner == 0 || total == 0) return;
  cuda::launch("binary_forward", cuda::kernels::binary_forward_kernel<T>, total, op, cuda::raw(out),
               cuda::raw(a), cuda::raw(b), total, inner);
}

// Given d_out, adds d_a (outer,inner) and d_b (inner).
template <class T>
void binary_backward(BinaryOp op, Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b,
                     const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& a,
                     const Tensor<T, Cuda>& b) {
  const int64_t inner = b.numel();
  if (inner == 0) return;
  const int64_t total = a.numel(), outer = total / inner;
  if (d_a && total > 0)
    cuda::launch("binary_backward (a)", cuda::kernels::binary_backward_a_kernel<T>, total, op,
                 cuda::raw(*d_a), cuda::raw(d_out), cuda::raw(b), total, inner);
  if (d_b)
    cuda::launch("binary_backward (b)", cuda::kernels::binary_backward_b_kernel<T>, inner, op,
                 cuda::raw(*d_b), cuda::raw(d_out), cuda::raw(a), cuda::raw(b), outer, inner);
}

// out = factor · x.
template <class T>
void scale_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, T factor) {
  check_same_shape("scale", out.shape(), x.shape(), "out", "x");
  if (x.numel() == 0) return;
  cuda::launch("scale_forward", cuda::kernels::scale_kernel<T>, x.numel(), cuda::raw(out),
               cuda::raw(x), factor, x.numel());
}

// forward: out = factor · x → d x += factor · d out.
template <class T>
void scale_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, T factor) {
  check_same_shape("scale_backward", d_x.shape(), d_out.shape(), "d_x", "d_out");
  if (d_x.numel() == 0) return;
  cuda::launch("scale_backward", cuda::kernels::add_scaled_kernel<T>, d_x.numel(), cuda::raw(d_x),
               cuda::raw(d_out), factor, static_cast<const T*>(nullptr), d_x.numel());
}

// dst += src (same numel).
template <class T>
void accumulate(Tensor<T, Cuda>& dst, const Tensor<T, Cuda>& src) {
  TLCR_CHECK(dst.numel() == src.numel(), "accumulate: ", dst.numel(), " destination elements vs ",
             src.numel(), " source elements");
  if (dst.numel() == 0) return;
  cuda::launch("accumulate", cuda::kernels::add_scaled_kernel<T>, dst.numel(), cuda::raw(dst),
               cuda::raw(src), T(1), static_cast<const T*>(nullptr), dst.numel());
}

// dst += scale · src, the factor read on the device from the one-element tensor `scale`.
template <class T>
void accumulate_scaled(Tensor<T, Cuda>& dst, const Tensor<T, Cuda>& src,
                       const Tensor<T, Cuda>& scale) {
  TLCR_CHECK(dst.numel() == src.numel() && scale.numel() == 1, "accumulate_scaled: ", dst.numel(),
             " destination elements, ", src.numel(), " source elements, ", scale.numel(),
             " scale elements (expected 1)");
  if (dst.numel() == 0) return;
  cuda::launch("accumulate_scaled", cuda::kernels::add_scaled_kernel<T>, dst.numel(),
               cuda::raw(dst), cuda::raw(src), T(0), static_cast<const T*>(cuda::raw(scale)),
               dst.numel());
}

}  // namespace tlcr
