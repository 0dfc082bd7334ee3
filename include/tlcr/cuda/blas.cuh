// tlcr/cuda/blas.cuh — cuBLAS as tlcr uses it: one handle on the tlcr stream, the TF32 setting,
// and gemm() on row-major matrices, alone or strided-batched.
//
// tlcr stores matrices row-major; cuBLAS reads column-major. A row-major r × c matrix is the
// column-major c × r matrix of its transpose, so out = op(a)·op(b) (row-major, m × n) is computed
// as outᵀ = op(b)ᵀ·op(a)ᵀ (column-major, n × m) with the operands swapped: no copies.
// TF32: off by default, as in PyTorch (torch.backends.cuda.matmul.allow_tf32 = False): float GEMMs
// are full FP32. set_allow_tf32(true) lets cuBLAS use TF32 tensor cores (about 10 mantissa bits
// per product). cuBLAS gives the same bits on every run on the same GPU model (its default
// forbids atomics).
// Shape legend: a (batch × ar × ac), b (batch × br × bc), out (batch × m × n), k the inner size.
// Not here: which product an op needs (cuda/matmul.cuh, cuda/linear.cuh).
#pragma once

#include <cublas_v2.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/matmul.hpp"

namespace tlcr::cuda {

namespace detail {
inline void check_blas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    ::tlcr::detail::fail("cuBLAS: ", call, " failed at ", file, ":", line, ": ",
                         cublasGetStatusString(status));
}
inline bool& tf32_allowed() {
  static bool allowed = false;
  return allowed;
}
}  // namespace detail

#define TLCR_CUBLAS_CHECK(call) ::tlcr::cuda::detail::check_blas((call), #call, __FILE__, __LINE__)

// The process's cuBLAS handle, bound to stream(), created on first use.
inline cublasHandle_t blas() {
  static const cublasHandle_t handle = [] {
    cublasHandle_t created = nullptr;
    TLCR_CUBLAS_CHECK(cublasCreate(&created));
    TLCR_CUBLAS_CHECK(cublasSetStream(created, stream()));
    TLCR_CUBLAS_CHECK(cublasSetMathMode(
        created, detail::tf32_allowed() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return created;
  }();
  return handle;
}

// Whether float products may use TF32 tensor cores (default false, as PyTorch).
inline bool tf32_allowed() {
  return detail::tf32_allowed();
}
inline void set_allow_tf32(bool allow) {
  detail::tf32_allowed() = allow;
  TLCR_CUBLAS_CHECK(
      cublasSetMathMode(blas(), allow ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

namespace detail {
inline int blas_int(int64_t x, const char* what) {
  TLCR_CHECK(x >= 0 && x <= INT_MAX, "cuBLAS: ", what, " = ", x, " does not fit cuBLAS's int");
  return static_cast<int>(x);
}

inline cublasStatus_t gemm_call(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                const float* alpha, const float* a, int lda, long long stride_a,
                                const float* b, int ldb, long long stride_b, const float* beta,
                                float* c, int ldc, long long stride_c, int batch) {
  if (batch == 1) return cublasSgemm(blas(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  return cublasSgemmStridedBatched(blas(), ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb,
                                   stride_b, beta, c, ldc, stride_c, batch);
}
inline cublasStatus_t gemm_call(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                const double* alpha, const double* a, int lda, long long stride_a,
                                const double* b, int ldb, long long stride_b, const double* beta,
                                double* c, int ldc, long long stride_c, int batch) {
  if (batch == 1) return cublasDgemm(blas(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  return cublasDgemmStridedBatched(blas(), ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb,
                                   stride_b, beta, c, ldc, stride_c, batch);
}
}  // namespace detail

// A row-major matrix on the device, or `batch` of them: rows are `ld` elements apart (0: cols) and
// the matrices `batch_stride` elements apart (0: rows · ld, one after another).
template <class T>
struct DeviceMatrix {
  T* data;
  int64_t rows, cols;
  int64_t ld = 0, batch_stride = 0;

  int64_t row_stride() const { return ld > 0 ? ld : cols; }
  int64_t matrix_stride() const { return batch_stride > 0 ? batch_stride : rows * row_stride(); }
};

// out (+)= op(a)·op(b) for each of `batch` matrices; `accumulate` selects += over =.
template <class T>
void gemm(DeviceMatrix<T> out, DeviceMatrix<const T> a, bool transpose_a, DeviceMatrix<const T> b,
          bool transpose_b, bool accumulate, int64_t batch = 1) {
  const MatmulShape s = ::tlcr::detail::matmul_sizes("cuda gemm", a.rows, a.cols, b.rows, b.cols,
                                                     transpose_a, transpose_b);
  TLCR_CHECK(out.rows == s.m && out.cols == s.n, "cuda gemm: out is ", out.rows, "x", out.cols,
             ", op(a)·op(b) is ", s.m, "x", s.n);
  if (s.m == 0 || s.n == 0 || batch == 0) return;
  if (s.k == 0) {  // an empty sum: out = 0, or unchanged when accumulating
    if (!accumulate)
      for (int64_t i = 0; i < batch; ++i)
        TLCR_CUDA_CHECK(cudaMemset2DAsync(out.data + i * out.matrix_stride(),
                                          sizeof(T) * out.row_stride(), 0, sizeof(T) * out.cols,
                                          out.rows, stream()));
    return;
  }
  const T alpha = T(1), beta = accumulate ? T(1) : T(0);
  // outᵀ (n × m, column-major, ld n) = op(b)ᵀ · op(a)ᵀ; b's storage read column-major is bᵀ.
  TLCR_CUBLAS_CHECK(detail::gemm_call(
      transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      detail::blas_int(s.n, "n"), detail::blas_int(s.m, "m"), detail::blas_int(s.k, "k"), &alpha,
      b.data, detail::blas_int(b.row_stride(), "ldb"), b.matrix_stride(), a.data,
      detail::blas_int(a.row_stride(), "lda"), a.matrix_stride(), &beta, out.data,
      detail::blas_int(out.row_stride(), "ldc"), out.matrix_stride(),
      detail::blas_int(batch, "batch")));
}

}  // namespace tlcr::cuda
