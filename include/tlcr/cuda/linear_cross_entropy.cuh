// tlcr/cuda/linear_cross_entropy.cuh — ops/linear_cross_entropy.hpp's fused LM head and
// cross-entropy on Tensor<T, Cuda>: the (N, V) logits are never held, only one chunk of rows at a
// time (the CPU's chunk size), and the chunk's logits turn in place into its unit gradients.
//
// Per chunk: cuBLAS computes Z = H_chunk·op(W); one thread block per row reduces it to its
// log-sum-exp and weighted NLL and, when gradients are wanted, overwrites it with
// g = w/Σw·(softmax(z) − onehot(t)); cuBLAS then adds the chunk's d_h = G·op(W)ᵀ and
// d_W += H_chunkᵀ·G. Σw and the loss are summed on the device in row order (cuda/cross_entropy.cuh).
// Shape legend: h (…, C) seen as N × C; W (C, V), or (V, C) when transpose_w; targets (N).
// Not here: the CPU op and its derivation (ops/linear_cross_entropy.hpp).
#pragma once

#include <concepts>
#include <span>

#include "tlcr/cuda/cross_entropy.cuh"
#include "tlcr/cuda/matmul.cuh"
#include "tlcr/ops/linear_cross_entropy.hpp"

namespace tlcr {

namespace cuda::kernels {
// Rows [begin, begin + count) of the chunk `z` (count, V): weighted_nll[i] and, with `grads`, the
// unit gradient in place; ignored rows give 0 (and a zero gradient row).
template <class T>
__global__ void lm_head_rows_kernel(T* z, T* weighted_nll, const int32_t* targets, const T* weights,
                                    const double* total_weight, bool grads, int32_t ignore_index,
                                    int64_t begin, int64_t count, int64_t V) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    const int64_t i = begin + r;
    T* row = z + r * V;
    if (targets[i] == ignore_index) {
      if (grads)
        for (int64_t v = threadIdx.x; v < V; v += blockDim.x) row[v] = T(0);
      if (threadIdx.x == 0) weighted_nll[i] = T(0);
      continue;
    }
    const T lse = row_log_sum_exp(row, V, max_scratch, sum_scratch);
    const T weight = weights ? weights[i] : T(1);
    const T chosen = row[targets[i]];
    __syncthreads();  // every thread has read z[t] before the row is overwritten
    if (threadIdx.x == 0) weighted_nll[i] = weight * (lse - chosen);
    if (!grads) continue;
    const T coefficient = (*total_weight > 0 ? T(1.0 / *total_weight) : T(0)) * weight;
    for (int64_t v = threadIdx.x; v < V; v += blockDim.x)
      row[v] = coefficient * ::exp(row[v] - lse);
    __syncthreads();
    if (threadIdx.x == 0) row[targets[i]] -= coefficient;
    __syncthreads();
  }
}
}  // namespace cuda::kernels

namespace cuda {
template <class T>
void linear_cross_entropy_checked(Tensor<T, Cuda>& loss, LinearCrossEntropyGrads<T, Cuda>* grads,
                                  const Tensor<T, Cuda>& h, const Tensor<T, Cuda>& w,
                                  bool transpose_w, const Tensor<int32_t, Cuda>& targets,
                                  const Tensor<T, Cuda>& weights, int32_t ignore_index,
                                  int64_t chunk_rows) {
  const char* op = "linear_cross_entropy";
  const Shape logits_shape = matmul_output_shape(h.shape(), w.shape(), false, transpose_w);
  TLCR_CHECK(loss.numel() == 1, op, ": loss must hold one element, got ", loss.shape().str());
  const int64_t rows = logits_shape.rows(), vocab = logits_shape.cols();
  Tensor<T, Cuda>* d_h = grads && grads->d_h.defined() ? &grads->d_h : nullptr;
  Tensor<T, Cuda>* d_w = grads && grads->d_w.defined() ? &grads->d_w : nullptr;
  if (d_h) check_same_shape(op, d_h->shape(), h.shape(), "d_h", "h");
  if (d_w) check_same_shape(op, d_w->shape(), w.shape(), "d_w", "W");
  if (d_w) d_w->fill(T(0));

  Tensor<double, Cuda> total_weight(Shape{1});
  kernels::total_weight_kernel<T><<<1, 1, 0, stream()>>>(
      raw(total_weight), raw(targets), weights_or_null(weights), ignore_index, rows);
  check_launch("linear_cross_entropy (total weight)");
  const int64_t chunk = chunk_rows > 0 ? chunk_rows : ::tlcr::detail::logit_chunk_rows(vocab);
  Tensor<T, Cuda> logits(Shape{std::min(chunk, std::max<int64_t>(rows, 1)), vocab});
  Tensor<T, Cuda> weighted_nll(Shape{std::max<int64_t>(rows, 1)});
  const int64_t C = h.shape().cols();
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t count = std::min(chunk, rows - begin);
    const DeviceMatrix<T> Z{raw(logits), count, vocab};
    const DeviceMatrix<const T> H_chunk{raw(h) + begin * C, count, C};
    gemm(Z, H_chunk, false, matrix_of(w), transpose_w, false);
    kernels::launch_rows("linear_cross_entropy (rows)", kernels::lm_head_rows_kernel<T>, count,
                         raw(logits), raw(weighted_nll), static_cast<const int32_t*>(raw(targets)),
                         weights_or_null(weights), static_cast<const double*>(raw(total_weight)),
                         d_h || d_w, ignore_index, begin, count, vocab);
    const DeviceMatrix<const T> G{raw(logits), count, vocab};
    // forward: Z = H_chunk · op(W) → d H_chunk = G · op(W)ᵀ, d op(W) += H_chunkᵀ · G
    if (d_h)
      gemm(DeviceMatrix<T>{raw(*d_h) + begin * C, count, C}, G, false, matrix_of(w), !transpose_w,
           false);
    if (d_w) {
      if (transpose_w)
        gemm(matrix_of(*d_w), G, true, H_chunk, false, true);  // (V,C)
      else
        gemm(matrix_of(*d_w), H_chunk, true, G, false, true);  // (C,V)
    }
  }
  kernels::mean_loss_kernel<T><<<1, 1, 0, stream()>>>(raw(loss), raw(total_weight),
                                                      raw(weighted_nll), raw(targets),
                                                      weights_or_null(weights), ignore_index, rows);
  check_launch("linear_cross_entropy (loss)");
}
}  // namespace cuda

// loss (rank 0) and, when `grads` is given, the unit gradients of the tensors it has defined;
// targets on the host (checked there, uploaded once).
template <class T>
void linear_cross_entropy_forward(Tensor<T, Cuda>& loss, LinearCrossEntropyGrads<T, Cuda>* grads,
                                  const Tensor<T, Cuda>& h, const Tensor<T, Cuda>& w,
                                  bool transpose_w, std::span<const int32_t> targets,
                                  RowWeights<T> weights = {}, int32_t ignore_index = -100,
                                  int64_t chunk_rows = 0) {
  const Shape logits_shape = matmul_output_shape(h.shape(), w.shape(), false, transpose_w);
  ::tlcr::detail::check_targets("linear_cross_entropy", logits_shape, targets, ignore_index);
  ::tlcr::detail::check_row_weights("linear_cross_entropy", logits_shape.rows(), weights);
  cuda::linear_cross_entropy_checked(
      loss, grads, h, w, transpose_w,
      Tensor<int32_t, Cuda>::from(Shape{int64_t(targets.size())}, targets),
      cuda::upload_weights<T>(weights), ignore_index, chunk_rows);
}

// The same with the targets on the device (checked there).
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t, Cuda>>
void linear_cross_entropy_forward(Tensor<T, Cuda>& loss, LinearCrossEntropyGrads<T, Cuda>* grads,
                                  const Tensor<T, Cuda>& h, const Tensor<T, Cuda>& w,
                                  bool transpose_w, const Targets& targets,
                                  RowWeights<T> weights = {}, int32_t ignore_index = -100,
                                  int64_t chunk_rows = 0) {
  const Shape logits_shape = matmul_output_shape(h.shape(), w.shape(), false, transpose_w);
  cuda::check_device_targets("linear_cross_entropy", logits_shape, targets, ignore_index);
  ::tlcr::detail::check_row_weights("linear_cross_entropy", logits_shape.rows(), weights);
  cuda::linear_cross_entropy_checked(loss, grads, h, w, transpose_w, targets,
                                     cuda::upload_weights<T>(weights), ignore_index, chunk_rows);
}

}  // namespace tlcr
