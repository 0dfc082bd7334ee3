// tlcr/cuda/softmax.cuh — ops/softmax.hpp's kernels on Tensor<T, Cuda>: softmax and log-softmax
// over the last axis, forward and backward.
//
// One thread block per row (a grid-stride loop over rows). The row's maximum and its sums come
// from block_max / block_sum: each thread folds its strided share, then a fixed tree in shared
// memory combines the threads, sums in double as on the CPU. The order differs from the CPU's but
// is the same on every run. exp/log are CUDA's (within 2 ulp), the CPU's a vectorised
// approximation: the two agree to a few roundings, not bit for bit.
// Shape legend: x, out (…, C) seen as R × C.
// Not here: the CPU kernels (ops/softmax.hpp), masking (attention).
#pragma once

#include <cmath>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/softmax.hpp"

namespace tlcr {

namespace cuda {
// The maximum of every thread's `value` in the block, returned to all of them. `scratch` holds
// kThreadsPerBlock values; the tree is fixed, so the result does not depend on timing.
template <class T>
__device__ T block_max(T value, T* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half)
      scratch[threadIdx.x] = fmax(scratch[threadIdx.x], scratch[threadIdx.x + half]);
    __syncthreads();
  }
  const T result = scratch[0];
  __syncthreads();  // scratch may be reused right after
  return result;
}

// The sum of every thread's `value` in the block by a fixed tree, returned to all of them.
__device__ inline double block_sum(double value, double* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  const double result = scratch[0];
  __syncthreads();
  return result;
}

// Blocks for a loop over rows, one block per row at a time.
inline unsigned row_blocks(int64_t rows) {
  return static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 65535));
}
}  // namespace cuda

namespace cuda::kernels {
template <class T>
__global__ void softmax_kernel(T* out, const T* x, int64_t rows, int64_t cols) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = out + r * cols;
    T m = T(-INFINITY);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, xr[j]);
    m = block_max(m, max_scratch);
    double partial = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      yr[j] = ::exp(xr[j] - m);
      partial += double(yr[j]);
    }
    const T inverse = T(1.0 / block_sum(partial, sum_scratch));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) yr[j] *= inverse;
  }
}

// d x_j += y_j · (d y_j − Σ_k d y_k · y_k)
template <class T>
__global__ void softmax_backward_kernel(T* d_x, const T* g, const T* y, int64_t rows,
                                        int64_t cols) {
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *yr = y + r * cols, *gr = g + r * cols;
    T* dxr = d_x + r * cols;
    double partial = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) partial += double(gr[j] * yr[j]);
    const T dot = T(block_sum(partial, sum_scratch));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) dxr[j] += yr[j] * (gr[j] - dot);
  }
}

// y_j = (x_j − m) − log Σ_k exp(x_k − m)
template <class T>
__global__ void log_softmax_kernel(T* out, const T* x, int64_t rows, int64_t cols) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = out + r * cols;
    T m = T(-INFINITY);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, xr[j]);
    m = block_max(m, max_scratch);
    double partial = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) partial += double(::exp(xr[j] - m));
    const T log_total = T(::log(block_sum(partial, sum_scratch)));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = (xr[j] - m) - log_total;
  }
}

// d x_j += d y_j − exp(y_j) · Σ_k d y_k
template <class T>
__global__ void log_softmax_backward_kernel(T* d_x, const T* g, const T* y, int64_t rows,
                                            int64_t cols) {
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *yr = y + r * cols, *gr = g + r * cols;
    T* dxr = d_x + r * cols;
    double partial = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) partial += double(gr[j]);
    const T total = T(block_sum(partial, sum_scratch));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) dxr[j] += gr[j] - ::exp(yr[j]) * total;
  }
}

// Launches one of the row kernels above over x's rows.
template <class... Params, class... Args>
void launch_rows(const char* name, void (*kernel)(Params...), int64_t rows, Args... args) {
  if (rows == 0) return;
  kernel<<<row_blocks(rows), kThreadsPerBlock, 0, stream()>>>(args...);
  check_launch(name);
}
}  // namespace cuda::kernels

// out (R,C) = softmax of each row of x (R,C).
template <class T>
void softmax_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x) {
  ::tlcr::detail::check_softmax_shapes("softmax", out.shape(), x.shape(), "out", "x");
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  cuda::kernels::launch_rows("softmax_forward", cuda::kernels::softmax_kernel<T>, rows,
                             cuda::raw(out), static_cast<const T*>(cuda::raw(x)), rows, cols);
}

// forward: y = softmax(x) → d x_j += y_j · (d y_j − Σ_k d y_k · y_k), per row.
template <class T>
void softmax_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out,
                      const Tensor<T, Cuda>& out) {
  ::tlcr::detail::check_softmax_shapes("softmax_backward", d_x.shape(), out.shape(), "d_x", "out");
  check_same_shape("softmax_backward", d_out.shape(), out.shape(), "d_out", "out");
  const int64_t rows = out.shape().rows(), cols = out.shape().cols();
  cuda::kernels::launch_rows("softmax_backward", cuda::kernels::softmax_backward_kernel<T>, rows,
                             cuda::raw(d_x), static_cast<const T*>(cuda::raw(d_out)),
                             static_cast<const T*>(cuda::raw(out)), rows, cols);
}

// out (R,C) = log_softmax of each row of x (R,C).
template <class T>
void log_softmax_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x) {
  ::tlcr::detail::check_softmax_shapes("log_softmax", out.shape(), x.shape(), "out", "x");
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  cuda::kernels::launch_rows("log_softmax_forward", cuda::kernels::log_softmax_kernel<T>, rows,
                             cuda::raw(out), static_cast<const T*>(cuda::raw(x)), rows, cols);
}

// forward: y = log_softmax(x) → d x_j += d y_j − exp(y_j) · Σ_k d y_k, per row.
template <class T>
void log_softmax_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out,
                          const Tensor<T, Cuda>& out) {
  ::tlcr::detail::check_softmax_shapes("log_softmax_backward", d_x.shape(), out.shape(), "d_x",
                                       "out");
  check_same_shape("log_softmax_backward", d_out.shape(), out.shape(), "d_out", "out");
  const int64_t rows = out.shape().rows(), cols = out.shape().cols();
  cuda::kernels::launch_rows("log_softmax_backward", cuda::kernels::log_softmax_backward_kernel<T>,
                             rows, cuda::raw(d_x), static_cast<const T*>(cuda::raw(d_out)),
                             static_cast<const T*>(cuda::raw(out)), rows, cols);
}

}  // namespace tlcr
