// tlcr/cuda/dropout.cuh — ops/dropout.hpp's kernels on Tensor<T, Cuda>: the dropout mask, and
// out = x ⊙ mask with its backward.
//
// The mask is drawn with the CPU's dropout_drops (a pure function of the seed and the flat index,
// host-and-device code), so the GPU drops exactly the elements the CPU drops.
// Shape legend: mask, x, out, d_x, d_out share one shape.
// Not here: attention dropout (drawn inside the attention kernels), where models apply it.
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/dropout.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class T>
__global__ void dropout_mask_kernel(T* mask, double p, uint64_t seed, T kept, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    mask[i] = dropout_drops(seed, uint64_t(i), p) ? T(0) : kept;
}
template <class T>
__global__ void multiply_kernel(T* out, const T* x, const T* mask, bool accumulate, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    out[i] = accumulate ? out[i] + x[i] * mask[i] : x[i] * mask[i];
}
}  // namespace cuda::kernels

// mask[i] = 0 if dropout_drops(seed, i, p), else 1/(1−p).
template <class T>
void dropout_mask(Tensor<T, Cuda>& mask, double p, uint64_t seed) {
  check_dropout_probability(p);
  if (mask.numel() == 0) return;
  const T kept = p < 1 ? T(1.0 / (1.0 - p)) : T(0);
  cuda::launch("dropout_mask", cuda::kernels::dropout_mask_kernel<T>, mask.numel(), cuda::raw(mask),
               p, seed, kept, mask.numel());
}

// out = x ⊙ mask
template <class T>
void dropout_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, const Tensor<T, Cuda>& mask) {
  check_same_shape("dropout", x.shape(), mask.shape(), "x", "mask");
  check_same_shape("dropout", out.shape(), x.shape(), "out", "x");
  if (x.numel() == 0) return;
  cuda::launch("dropout_forward", cuda::kernels::multiply_kernel<T>, x.numel(), cuda::raw(out),
               static_cast<const T*>(cuda::raw(x)), static_cast<const T*>(cuda::raw(mask)), false,
               x.numel());
}

// forward: out = x ⊙ mask → d x += d out ⊙ mask
template <class T>
void dropout_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out,
                      const Tensor<T, Cuda>& mask) {
  check_same_shape("dropout_backward", d_x.shape(), mask.shape(), "d_x", "mask");
  if (d_x.numel() == 0) return;
  cuda::launch("dropout_backward", cuda::kernels::multiply_kernel<T>, d_x.numel(), cuda::raw(d_x),
               static_cast<const T*>(cuda::raw(d_out)), static_cast<const T*>(cuda::raw(mask)),
               true, d_x.numel());
}

}  // namespace tlcr
