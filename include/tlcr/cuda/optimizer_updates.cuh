// tlcr/cuda/optimizer_updates.cuh — ops/optimizer_updates.hpp's kernels on Tensor<T, Cuda>: the
// AdamW and SGD updates over the flat parameter buffer, the sum of squares that global-norm
// clipping needs, and in-place scaling.
//
// The updates run adamw_element / sgd_element, the same bodies as the CPU's, one thread per
// element. sum_of_squares adds fixed blocks of detail::kSquaresBlock elements, each by a fixed
// tree in shared memory, then the block sums in block order by one thread: the same bits on every
// run, whatever the GPU's scheduling (no atomics).
// Shape legend: N = number of parameters; values, grads, m, v, velocity (N); decay_mask (N) bytes.
// Not here: the CPU loops and what the updates mean (ops/optimizer_updates.hpp, optim/).
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/optimizer_updates.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class T>
__global__ void adamw_kernel(T* values, const T* grads, const uint8_t* decay_mask, T* m, T* v,
                             AdamWCoefficients<T> c, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    adamw_element(values[i], grads[i], decay_mask[i] != 0, m[i], v[i], c);
}

template <class T>
__global__ void sgd_kernel(T* values, const T* grads, const uint8_t* decay_mask, T* velocity,
                           T learning_rate, T momentum, T weight_decay, bool nesterov, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    sgd_element(values[i], grads[i], decay_mask[i] != 0, velocity[i], learning_rate, momentum,
                weight_decay, nesterov);
}

// One thread block per block of kSquaresBlock elements: block_sums[b] = Σ x_i² over it, in double.
template <class T>
__global__ void block_squares_kernel(double* block_sums, const T* x, int64_t n) {
  __shared__ double partial[kThreadsPerBlock];
  const int64_t begin = int64_t(blockIdx.x) * ::tlcr::detail::kSquaresBlock;
  const int64_t end =
      begin + ::tlcr::detail::kSquaresBlock < n ? begin + ::tlcr::detail::kSquaresBlock : n;
  double sum = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreadsPerBlock)
    sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreadsPerBlock / 2; half > 0; half /= 2) {  // a fixed tree
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

// out = Σ block_sums in block order (one thread: there are few blocks).
template <class S>
__global__ void sum_in_order_kernel(S* out, const S* block_sums, int64_t blocks) {
  if (grid_index() != 0) return;
  S total = 0;
  for (int64_t b = 0; b < blocks; ++b) total += block_sums[b];
  *out = total;
}

template <class T>
__global__ void scale_in_place_kernel(T* x, T factor, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) x[i] *= factor;
}
}  // namespace cuda::kernels

// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p·keep − step_size·m / (√v·c2 + ε)
template <class T>
void adamw_update(Tensor<T, Cuda>& values, const Tensor<T, Cuda>& grads,
                  const Tensor<uint8_t, Cuda>& decay_mask, Tensor<T, Cuda>& m, Tensor<T, Cuda>& v,
                  const AdamWCoefficients<T>& c) {
  const int64_t n = values.numel();
  TLCR_CHECK(grads.numel() == n && decay_mask.numel() == n && m.numel() == n && v.numel() == n,
             "adamw_update: buffers of ", n, " values, ", grads.numel(), " grads, ",
             decay_mask.numel(), " mask bytes, ", m.numel(), " and ", v.numel(), " moments");
  if (n == 0) return;
  cuda::launch("adamw_update", cuda::kernels::adamw_kernel<T>, n, cuda::raw(values),
               static_cast<const T*>(cuda::raw(grads)),
               static_cast<const uint8_t*>(cuda::raw(decay_mask)), cuda::raw(m), cuda::raw(v), c,
               n);
}

// SGD with momentum (see optim/sgd.hpp).
template <class T>
void sgd_update(Tensor<T, Cuda>& values, const Tensor<T, Cuda>& grads,
                const Tensor<uint8_t, Cuda>& decay_mask, Tensor<T, Cuda>& velocity, T learning_rate,
                T momentum, T weight_decay, bool nesterov) {
  const int64_t n = values.numel();
  TLCR_CHECK(grads.numel() == n && decay_mask.numel() == n && velocity.numel() == n,
             "sgd_update: buffers of ", n, " values, ", grads.numel(), " grads, ",
             decay_mask.numel(), " mask bytes, ", velocity.numel(), " velocities");
  if (n == 0) return;
  cuda::launch("sgd_update", cuda::kernels::sgd_kernel<T>, n, cuda::raw(values),
               static_cast<const T*>(cuda::raw(grads)),
               static_cast<const uint8_t*>(cuda::raw(decay_mask)), cuda::raw(velocity),
               learning_rate, momentum, weight_decay, nesterov, n);
}

// out (one element, double) = Σ x_i², in a fixed order.
template <class T>
void sum_of_squares(Tensor<double, Cuda>& out, const Tensor<T, Cuda>& x) {
  TLCR_CHECK(out.numel() == 1, "sum_of_squares: expected a one-element output, got ",
             out.shape().str());
  const int64_t n = x.numel();
  const int64_t blocks =
      std::max<int64_t>(1, (n + ::tlcr::detail::kSquaresBlock - 1) / ::tlcr::detail::kSquaresBlock);
  Tensor<double, Cuda> block_sums(Shape{blocks});
  if (n > 0) {
    cuda::kernels::block_squares_kernel<T>
        <<<unsigned(blocks), cuda::kThreadsPerBlock, 0, cuda::stream()>>>(cuda::raw(block_sums),
                                                                          cuda::raw(x), n);
    cuda::check_launch("sum_of_squares (blocks)");
  }
  cuda::kernels::sum_in_order_kernel<double>
      <<<1, 1, 0, cuda::stream()>>>(cuda::raw(out), cuda::raw(block_sums), blocks);
  cuda::check_launch("sum_of_squares (total)");
}

// x ← factor · x.
template <class T>
void scale_in_place(Tensor<T, Cuda>& x, T factor) {
  if (x.numel() == 0) return;
  cuda::launch("scale_in_place", cuda::kernels::scale_in_place_kernel<T>, x.numel(), cuda::raw(x),
               factor, x.numel());
}

}  // namespace tlcr
