// tlcr/cuda/linear.cuh — ops/linear.hpp's kernels on Tensor<T, Cuda>: out = x·op(w) + bias with the
// bias fused (out starts as the bias rows; cuBLAS then accumulates the product into it), and its
// backward (the matmul gradients and the bias's column sums).
// Shape legend: x (…, K) seen as R × K; w (K, N), or (N, K) when transpose_w; bias (N) or
// undefined; out (…, N) seen as R × N.
// Not here: the CPU kernels (ops/linear.hpp).
#pragma once

#include "tlcr/cuda/matmul.cuh"
#include "tlcr/cuda/reduce.cuh"
#include "tlcr/ops/linear.hpp"

namespace tlcr {

namespace cuda::kernels {
// out (rows, n) = bias (n) on every row.
template <class T>
__global__ void broadcast_rows_kernel(T* out, const T* bias, int64_t n, int64_t total) {
  for (int64_t e = grid_index(); e < total; e += grid_stride()) out[e] = bias[e % n];
}
}  // namespace cuda::kernels

// out (…,N) = x (…,K) · op(w) + bias (N); bias may be an undefined tensor (no bias).
template <class T>
void linear_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, const Tensor<T, Cuda>& w,
                    const Tensor<T, Cuda>& bias, bool transpose_w = false) {
  check_same_shape("linear_forward", out.shape(),
                   matmul_output_shape(x.shape(), w.shape(), false, transpose_w), "out", "x·op(w)");
  if (bias.defined()) {
    ::tlcr::detail::check_linear_bias(bias.shape(), out.shape());
    if (out.numel() > 0)
      cuda::launch("linear_forward (bias)", cuda::kernels::broadcast_rows_kernel<T>, out.numel(),
                   cuda::raw(out), static_cast<const T*>(cuda::raw(bias)), bias.numel(),
                   out.numel());
  }
  cuda::gemm(cuda::matrix_of(out), cuda::matrix_of(x), false, cuda::matrix_of(w), transpose_w,
             bias.defined());
}

// d_bias (N) += Σ_rows d_out (…,N).
template <class T>
void add_bias_grad(Tensor<T, Cuda>& d_bias, const Tensor<T, Cuda>& d_out) {
  ::tlcr::detail::check_linear_bias(d_bias.shape(), d_out.shape());
  add_row_sums(d_bias, d_out);
}

// forward: out = x·op(w) + bias → adds d_x = d_out·op(w)ᵀ, d_w, and d_bias = Σ_rows d_out.
template <class T>
void linear_backward(Tensor<T, Cuda>* d_x, Tensor<T, Cuda>* d_w, Tensor<T, Cuda>* d_bias,
                     const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& x,
                     const Tensor<T, Cuda>& w, bool transpose_w = false) {
  matmul_backward(d_x, d_w, d_out, x, w, false, transpose_w);
  if (d_bias) add_bias_grad(*d_bias, d_out);
}

}  // namespace tlcr
