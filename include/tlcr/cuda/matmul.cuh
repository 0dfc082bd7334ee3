// tlcr/cuda/matmul.cuh — ops/matmul.hpp's kernels on Tensor<T, Cuda>, every product through cuBLAS
// (cuda/blas.cuh): matmul and batched matmul (strided-batched), forward and backward.
//
// Same contracts as the CPU kernels: forward overwrites `out`; backward adds into the gradients it
// is given (nullptr = not needed), with the same products (cuBLAS's beta = 1 accumulates).
// Shape legend: M = rows of op(a), K = inner size, N = columns of op(b); batched: (…, M, N).
// Not here: the shape rules (ops/matmul.hpp), Linear's fused bias (cuda/linear.cuh).
#pragma once

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/blas.cuh"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/ops/matmul.hpp"

namespace tlcr {

namespace cuda {
// A tensor seen as its row-major matrix (rows = product of leading sizes, cols = last size), or as
// the last two axes of a batch of them.
template <class T>
DeviceMatrix<T> matrix_of(Tensor<T, Cuda>& t) {
  return {raw(t), t.shape().rows(), t.shape().cols()};
}
template <class T>
DeviceMatrix<const T> matrix_of(const Tensor<T, Cuda>& t) {
  return {raw(t), t.shape().rows(), t.shape().cols()};
}
template <class T>
DeviceMatrix<T> batch_matrix_of(Tensor<T, Cuda>& t) {
  return {raw(t), ::tlcr::detail::rows_of(t.shape()), ::tlcr::detail::cols_of(t.shape())};
}
template <class T>
DeviceMatrix<const T> batch_matrix_of(const Tensor<T, Cuda>& t) {
  return {raw(t), ::tlcr::detail::rows_of(t.shape()), ::tlcr::detail::cols_of(t.shape())};
}

// d op_a(a) and d op_b(b) of out = op_a(a)·op_b(b), added (the CPU's matmul_backward, product by
// product), for `batch` matrices of each.
template <class T>
void matmul_gradients(DeviceMatrix<T>* d_a, DeviceMatrix<T>* d_b, DeviceMatrix<const T> d_out,
                      DeviceMatrix<const T> a, DeviceMatrix<const T> b, bool transpose_a,
                      bool transpose_b, int64_t batch) {
  if (d_a) {
    // d op_a(a) = d_out · op_b(b)ᵀ; transposed: d a = op_b(b) · d_outᵀ
    if (!transpose_a)
      gemm(*d_a, d_out, false, b, !transpose_b, true, batch);
    else if (!transpose_b)
      gemm(*d_a, b, false, d_out, true, true, batch);
    else
      gemm(*d_a, b, true, d_out, true, true, batch);
  }
  if (d_b) {
    // d op_b(b) = op_a(a)ᵀ · d_out; transposed: d b = d_outᵀ · op_a(a)
    if (!transpose_b)
      gemm(*d_b, a, !transpose_a, d_out, false, true, batch);
    else if (!transpose_a)
      gemm(*d_b, d_out, true, a, false, true, batch);
    else
      gemm(*d_b, d_out, true, a, true, true, batch);
  }
}
}  // namespace cuda

// out (M,N) = op(a) · op(b).
template <class T>
void matmul_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b,
                    bool transpose_a = false, bool transpose_b = false) {
  check_same_shape("matmul_forward", out.shape(),
                   matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b), "out",
                   "op(a)·op(b)");
  cuda::gemm(cuda::matrix_of(out), cuda::matrix_of(a), transpose_a, cuda::matrix_of(b), transpose_b,
             false);
}

// Given d_out = dL/d(out), adds dL/da into d_a and dL/db into d_b.
template <class T>
void matmul_backward(Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b, const Tensor<T, Cuda>& d_out,
                     const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b, bool transpose_a = false,
                     bool transpose_b = false) {
  cuda::DeviceMatrix<T> da, db;
  if (d_a) da = cuda::matrix_of(*d_a);
  if (d_b) db = cuda::matrix_of(*d_b);
  cuda::matmul_gradients(d_a ? &da : nullptr, d_b ? &db : nullptr, cuda::matrix_of(d_out),
                         cuda::matrix_of(a), cuda::matrix_of(b), transpose_a, transpose_b, 1);
}

// out (…,M,N) = op(a_i) · op(b_i) for each batch index i.
template <class T>
void batched_matmul_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a,
                            const Tensor<T, Cuda>& b, bool transpose_a = false,
                            bool transpose_b = false) {
  check_same_shape("batched_matmul_forward", out.shape(),
                   batched_matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b),
                   "out", "op(a)·op(b)");
  cuda::gemm(cuda::batch_matrix_of(out), cuda::batch_matrix_of(a), transpose_a,
             cuda::batch_matrix_of(b), transpose_b, false,
             ::tlcr::detail::batch_count(out.shape()));
}

// Batched matmul_backward: adds into d_a and d_b per batch index.
template <class T>
void batched_matmul_backward(Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b,
                             const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& a,
                             const Tensor<T, Cuda>& b, bool transpose_a = false,
                             bool transpose_b = false) {
  cuda::DeviceMatrix<T> da, db;
  if (d_a) da = cuda::batch_matrix_of(*d_a);
  if (d_b) db = cuda::batch_matrix_of(*d_b);
  cuda::matmul_gradients(d_a ? &da : nullptr, d_b ? &db : nullptr, cuda::batch_matrix_of(d_out),
                         cuda::batch_matrix_of(a), cuda::batch_matrix_of(b), transpose_a,
                         transpose_b, ::tlcr::detail::batch_count(d_out.shape()));
}

}  // namespace tlcr
