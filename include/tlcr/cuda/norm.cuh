// tlcr/cuda/norm.cuh — ops/norm.hpp's kernels on Tensor<T, Cuda>: LayerNorm and RMSNorm over the
// last axis, forward (saving each row's mean and rstd) and backward.
//
// One thread block per row for the forward and for d_x: the row's sums come from the fixed-tree
// block_sum (cuda/softmax.cuh), in double, two passes for the variance as on the CPU. d_weight and
// d_bias sum over rows: one thread per column adds the rows in order. Every order is fixed, so a
// run repeats bit for bit; it is not the CPU's order (lanes and row blocks), so the two agree to a
// few roundings.
// Shape legend: x, out (…, C) seen as R × C; weight, bias (C); mean, rstd (R).
// Not here: the CPU kernels and the formulas' derivation (ops/norm.hpp).
#pragma once

#include <cmath>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/cuda/softmax.cuh"
#include "tlcr/ops/norm.hpp"

namespace tlcr {

namespace cuda::kernels {
// out = (x − μ)·rstd ⊙ weight + bias (bias may be null: RMSNorm, with μ = 0 and no centring).
template <class T>
__global__ void norm_forward_kernel(T* out, T* mean, T* rstd, const T* x, const T* weight,
                                    const T* bias, bool centred, T eps, int64_t rows,
                                    int64_t cols) {
  __shared__ double scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = out + r * cols;
    T mu = T(0);
    if (centred) {
      double partial = 0;
      for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) partial += double(xr[j]);
      mu = T(block_sum(partial, scratch) / double(cols));
    }
    double partial = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const T centred_x = xr[j] - mu;
      partial += double(centred_x * centred_x);
    }
    const T rs = T(1.0 / ::sqrt(block_sum(partial, scratch) / double(cols) + double(eps)));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
      yr[j] = bias ? (xr[j] - mu) * rs * weight[j] + bias[j] : (xr[j] - mu) * rs * weight[j];
    if (threadIdx.x == 0) {
      if (mean) mean[r] = mu;
      rstd[r] = rs;
    }
  }
}

// d x = rstd·(g − mean(g)·centred − x̂·mean(g ⊙ x̂)), g = d out ⊙ weight, x̂ = (x − μ)·rstd.
template <class T>
__global__ void norm_backward_x_kernel(T* d_x, const T* g, const T* x, const T* weight,
                                       const T* mean, const T* rstd, int64_t rows, int64_t cols) {
  __shared__ double scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *xr = x + r * cols, *gr = g + r * cols;
    const T mu = mean ? mean[r] : T(0), rs = rstd[r];
    double partial_g = 0, partial_g_xhat = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      partial_g += double(gr[j] * weight[j]);
      partial_g_xhat += double(gr[j] * weight[j] * ((xr[j] - mu) * rs));
    }
    const double sum_g = block_sum(partial_g, scratch);
    const double sum_g_xhat = block_sum(partial_g_xhat, scratch);
    const T mean_g = mean ? T(sum_g / double(cols)) : T(0);
    const T mean_g_xhat = T(sum_g_xhat / double(cols));
    T* dxr = d_x + r * cols;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const T xhat = (xr[j] - mu) * rs;
      dxr[j] += rs * (gr[j] * weight[j] - mean_g - xhat * mean_g_xhat);
    }
  }
}

// d weight_c += Σ_r d out_rc·x̂_rc and d bias_c += Σ_r d out_rc, thread per column, rows in order.
template <class T>
__global__ void norm_backward_params_kernel(T* d_weight, T* d_bias, const T* g, const T* x,
                                            const T* mean, const T* rstd, int64_t rows,
                                            int64_t cols) {
  for (int64_t c = grid_index(); c < cols; c += grid_stride()) {
    T sum_w = T(0), sum_b = T(0);
    for (int64_t r = 0; r < rows; ++r) {
      const T gr = g[r * cols + c];
      sum_w += gr * ((x[r * cols + c] - (mean ? mean[r] : T(0))) * rstd[r]);
      sum_b += gr;
    }
    if (d_weight) d_weight[c] += sum_w;
    if (d_bias) d_bias[c] += sum_b;
  }
}
}  // namespace cuda::kernels

namespace cuda {
// The backward of both norms (mean null for RMSNorm).
template <class T>
void norm_backward(Tensor<T, Cuda>* d_x, Tensor<T, Cuda>* d_weight, Tensor<T, Cuda>* d_bias,
                   const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& x,
                   const Tensor<T, Cuda>& weight, const Tensor<T, Cuda>* mean,
                   const Tensor<T, Cuda>& rstd) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  const T* mean_data = mean ? static_cast<const T*>(raw(*mean)) : nullptr;
  if (d_x)
    kernels::launch_rows("norm_backward (x)", kernels::norm_backward_x_kernel<T>, rows, raw(*d_x),
                         static_cast<const T*>(raw(d_out)), static_cast<const T*>(raw(x)),
                         static_cast<const T*>(raw(weight)), mean_data,
                         static_cast<const T*>(raw(rstd)), rows, cols);
  if ((d_weight || d_bias) && cols > 0)
    launch("norm_backward (weight, bias)", kernels::norm_backward_params_kernel<T>, cols,
           d_weight ? raw(*d_weight) : static_cast<T*>(nullptr),
           d_bias ? raw(*d_bias) : static_cast<T*>(nullptr), static_cast<const T*>(raw(d_out)),
           static_cast<const T*>(raw(x)), mean_data, static_cast<const T*>(raw(rstd)), rows, cols);
}
}  // namespace cuda

// out (R,C) = (x − mean)·rstd ⊙ weight (C) + bias (C); also writes mean (R) and rstd (R).
template <class T>
void layernorm_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& mean, Tensor<T, Cuda>& rstd,
                       const Tensor<T, Cuda>& x, const Tensor<T, Cuda>& weight,
                       const Tensor<T, Cuda>& bias, std::type_identity_t<T> eps) {
  ::tlcr::detail::check_norm_shapes("layernorm", x, weight, &bias, out, "out", rstd);
  check_same_shape("layernorm", mean.shape(), rstd.shape(), "mean", "rstd");
  TLCR_CHECK(eps >= T(0), "layernorm: expected eps ≥ 0, got ", eps);
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  cuda::kernels::launch_rows("layernorm_forward", cuda::kernels::norm_forward_kernel<T>, rows,
                             cuda::raw(out), cuda::raw(mean), cuda::raw(rstd),
                             static_cast<const T*>(cuda::raw(x)),
                             static_cast<const T*>(cuda::raw(weight)),
                             static_cast<const T*>(cuda::raw(bias)), true, T(eps), rows, cols);
}

// out (R,C) = x·rstd ⊙ weight (C); also writes rstd (R).
template <class T>
void rmsnorm_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& rstd, const Tensor<T, Cuda>& x,
                     const Tensor<T, Cuda>& weight, std::type_identity_t<T> eps) {
  ::tlcr::detail::check_norm_shapes<Tensor<T, Cuda>>("rmsnorm", x, weight, nullptr, out, "out",
                                                     rstd);
  TLCR_CHECK(eps >= T(0), "rmsnorm: expected eps ≥ 0, got ", eps);
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  cuda::kernels::launch_rows("rmsnorm_forward", cuda::kernels::norm_forward_kernel<T>, rows,
                             cuda::raw(out), static_cast<T*>(nullptr), cuda::raw(rstd),
                             static_cast<const T*>(cuda::raw(x)),
                             static_cast<const T*>(cuda::raw(weight)),
                             static_cast<const T*>(nullptr), false, T(eps), rows, cols);
}

// Given d_out (R,C) and the forward's saved mean (R) and rstd (R), adds d_x, d_weight, d_bias.
template <class T>
void layernorm_backward(Tensor<T, Cuda>* d_x, Tensor<T, Cuda>* d_weight, Tensor<T, Cuda>* d_bias,
                        const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& x,
                        const Tensor<T, Cuda>& weight, const Tensor<T, Cuda>& mean,
                        const Tensor<T, Cuda>& rstd) {
  ::tlcr::detail::check_norm_shapes<Tensor<T, Cuda>>("layernorm_backward", x, weight, nullptr,
                                                     d_out, "d_out", rstd);
  check_same_shape("layernorm_backward", mean.shape(), rstd.shape(), "mean", "rstd");
  ::tlcr::detail::check_norm_grads<Tensor<T, Cuda>>("layernorm_backward", d_x, d_weight, d_bias, x);
  cuda::norm_backward(d_x, d_weight, d_bias, d_out, x, weight, &mean, rstd);
}

// Given d_out (R,C) and the forward's saved rstd (R), adds d_x (R,C) and d_weight (C).
template <class T>
void rmsnorm_backward(Tensor<T, Cuda>* d_x, Tensor<T, Cuda>* d_weight, const Tensor<T, Cuda>& d_out,
                      const Tensor<T, Cuda>& x, const Tensor<T, Cuda>& weight,
                      const Tensor<T, Cuda>& rstd) {
  ::tlcr::detail::check_norm_shapes<Tensor<T, Cuda>>("rmsnorm_backward", x, weight, nullptr, d_out,
                                                     "d_out", rstd);
  ::tlcr::detail::check_norm_grads<Tensor<T, Cuda>>("rmsnorm_backward", d_x, d_weight, nullptr, x);
  cuda::norm_backward<T>(d_x, d_weight, nullptr, d_out, x, weight, nullptr, rstd);
}

}  // namespace tlcr
