// tlcr/cuda/reduce.cuh — ops/reduce.hpp's kernels on Tensor<T, Cuda>: sums over one axis or over
// everything, their backward passes, and add_row_sums (bias gradients).
//
// Sums over an axis and over rows give each output to one thread, which adds its inputs in the
// CPU's order: the same bits as the CPU (additions only). The sum of everything adds fixed blocks
// by a fixed tree in double, then the blocks in order: the same bits on every run (no atomics),
// not the CPU's (which adds element by element).
// Shape legend: x (outer, n, inner) around the reduced axis; add_row_sums: x (rows, C), out (C).
// Not here: the CPU kernels (ops/reduce.hpp).
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/reduce.hpp"

namespace tlcr {

namespace cuda::kernels {
// out[o,i] = scale · Σ_j x[o,j,i], thread per (o, i), j in order.
template <class T>
__global__ void sum_axis_kernel(T* out, const T* x, T scale, int64_t outer, int64_t n,
                                int64_t inner) {
  for (int64_t e = grid_index(); e < outer * inner; e += grid_stride()) {
    const int64_t o = e / inner, i = e % inner;
    T sum = T(0);
    for (int64_t j = 0; j < n; ++j) sum += x[(o * n + j) * inner + i];
    out[e] = sum * scale;
  }
}

// d x[o,j,i] += scale · d out[o,i].
template <class T>
__global__ void sum_axis_backward_kernel(T* d_x, const T* g, T scale, int64_t n, int64_t inner,
                                         int64_t total) {
  for (int64_t e = grid_index(); e < total; e += grid_stride())
    d_x[e] += scale * g[(e / (n * inner)) * inner + e % inner];
}

constexpr int64_t kSumBlock = 1 << 14;  // elements per partial sum of sum_all

// block_sums[b] = Σ of block b's elements, in double, by a fixed tree.
template <class T>
__global__ void block_sum_kernel(double* block_sums, const T* x, int64_t n) {
  __shared__ double partial[kThreadsPerBlock];
  const int64_t begin = int64_t(blockIdx.x) * kSumBlock;
  const int64_t end = begin + kSumBlock < n ? begin + kSumBlock : n;
  double sum = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreadsPerBlock)
    sum += static_cast<double>(x[i]);
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

// out = T(scale · Σ_b block_sums[b]), blocks in order.
template <class T>
__global__ void finish_sum_kernel(T* out, const double* block_sums, int64_t blocks, T scale) {
  if (grid_index() != 0) return;
  double total = 0;
  for (int64_t b = 0; b < blocks; ++b) total += block_sums[b];
  *out = static_cast<T>(total * scale);
}

// d x += scale · d out[0], the gradient read on the device.
template <class T>
__global__ void add_scalar_gradient_kernel(T* d_x, const T* g, T scale, int64_t n) {
  const T add = scale * g[0];
  for (int64_t i = grid_index(); i < n; i += grid_stride()) d_x[i] += add;
}

// out[c] += Σ_r x[r,c], thread per column, rows in order.
template <class T>
__global__ void add_row_sums_kernel(T* out, const T* x, int64_t rows, int64_t cols) {
  for (int64_t c = grid_index(); c < cols; c += grid_stride()) {
    T sum = T(0);
    for (int64_t r = 0; r < rows; ++r) sum += x[r * cols + c];
    out[c] += sum;
  }
}
}  // namespace cuda::kernels

// out (outer, inner) = scale · Σ_j x (outer, j, inner).
template <class T>
void sum_axis_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, int axis, T scale = T(1)) {
  Shape reduced;
  const AxisSplit s = split_axis("sum_axis", x.shape(), axis, &reduced);
  check_same_shape("sum_axis", out.shape(), reduced, "out", "reduced x");
  if (s.outer * s.inner == 0) return;
  cuda::launch("sum_axis_forward", cuda::kernels::sum_axis_kernel<T>, s.outer * s.inner,
               cuda::raw(out), static_cast<const T*>(cuda::raw(x)), scale, s.outer, s.n, s.inner);
}

// forward: out[o,i] = scale · Σ_j x[o,j,i] → d x[o,j,i] += scale · d out[o,i].
template <class T>
void sum_axis_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, int axis,
                       T scale = T(1)) {
  const AxisSplit s = split_axis("sum_axis", d_x.shape(), axis);
  if (d_x.numel() == 0) return;
  cuda::launch("sum_axis_backward", cuda::kernels::sum_axis_backward_kernel<T>, d_x.numel(),
               cuda::raw(d_x), static_cast<const T*>(cuda::raw(d_out)), scale, s.n, s.inner,
               d_x.numel());
}

// out (one element) = scale · Σ x, in double, in a fixed order.
template <class T>
void sum_all_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, T scale = T(1)) {
  TLCR_CHECK(out.numel() == 1, "sum_all: out must hold one element, got ", out.shape().str());
  const int64_t n = x.numel();
  const int64_t blocks =
      std::max<int64_t>(1, (n + cuda::kernels::kSumBlock - 1) / cuda::kernels::kSumBlock);
  Tensor<double, Cuda> block_sums(Shape{blocks});
  if (n > 0) {
    cuda::kernels::block_sum_kernel<T>
        <<<unsigned(blocks), cuda::kThreadsPerBlock, 0, cuda::stream()>>>(cuda::raw(block_sums),
                                                                          cuda::raw(x), n);
    cuda::check_launch("sum_all_forward (blocks)");
  }
  cuda::kernels::finish_sum_kernel<T>
      <<<1, 1, 0, cuda::stream()>>>(cuda::raw(out), cuda::raw(block_sums), blocks, scale);
  cuda::check_launch("sum_all_forward (total)");
}

// forward: out = scale · Σ x → d x += scale · d out.
template <class T>
void sum_all_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, T scale = T(1)) {
  if (d_x.numel() == 0) return;
  cuda::launch("sum_all_backward", cuda::kernels::add_scalar_gradient_kernel<T>, d_x.numel(),
               cuda::raw(d_x), static_cast<const T*>(cuda::raw(d_out)), scale, d_x.numel());
}

// out (C) += Σ_rows x (…, C), each column in row order.
template <class T>
void add_row_sums(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x) {
  const int64_t cols = out.numel(), rows = x.numel() / std::max<int64_t>(cols, 1);
  TLCR_CHECK(rows * cols == x.numel(), "add_row_sums: ", x.shape().str(),
             " is not a whole number of rows of ", cols);
  if (cols == 0) return;
  cuda::launch("add_row_sums", cuda::kernels::add_row_sums_kernel<T>, cols, cuda::raw(out),
               static_cast<const T*>(cuda::raw(x)), rows, cols);
}

}  // namespace tlcr
