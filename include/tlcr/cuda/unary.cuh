// tlcr/cuda/unary.cuh — ops/unary.hpp's loops on Tensor<T, Cuda>: y = f(x) and d x += f'(x)·d y for
// every pointwise policy (exp, log, tanh, sigmoid, relu, GELU, SiLU, neg, square, sqrt).
//
// The policies in tlcr::pointwise and core/fast_math.hpp's exp and tanh are host-and-device
// functions, so a GPU element computes the CPU's formula with the CPU's approximation. The two
// can still differ in the last bit where one compiler fuses a multiply-add the other does not.
// Shape legend: x, out, d_x, d_out share one shape; N = numel.
// Not here: the policies themselves (ops/unary.hpp).
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/unary.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class Fn, class T>
__global__ void unary_forward_kernel(T* out, const T* x, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) out[i] = Fn::value(x[i]);
}
template <class Fn, class T>
__global__ void unary_backward_kernel(T* d_x, const T* g, const T* x, const T* y, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    d_x[i] += Fn::derivative(x[i], y[i]) * g[i];
}
}  // namespace cuda::kernels

// out (N) = Fn::value(x) elementwise.
template <class Fn, class T>
void unary_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x) {
  check_same_shape(Fn::name, out.shape(), x.shape(), "out", "x");
  if (x.numel() == 0) return;
  cuda::launch(Fn::name, cuda::kernels::unary_forward_kernel<Fn, T>, x.numel(), cuda::raw(out),
               static_cast<const T*>(cuda::raw(x)), x.numel());
}

// forward: out = f(x) → d x += f'(x) · d out.
template <class Fn, class T>
void unary_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& x,
                    const Tensor<T, Cuda>& out) {
  check_same_shape(Fn::name, d_x.shape(), x.shape(), "d_x", "x");
  check_same_shape(Fn::name, d_out.shape(), x.shape(), "d_out", "x");
  check_same_shape(Fn::name, out.shape(), x.shape(), "out", "x");
  if (x.numel() == 0) return;
  cuda::launch(Fn::name, cuda::kernels::unary_backward_kernel<Fn, T>, x.numel(), cuda::raw(d_x),
               static_cast<const T*>(cuda::raw(d_out)), static_cast<const T*>(cuda::raw(x)),
               static_cast<const T*>(cuda::raw(out)), x.numel());
}

}  // namespace tlcr
