// tlcr/ops/linear.hpp — the affine map of a Linear layer as one kernel: out = x·op(w) + bias.
//
// Fusing the bias into the product saves a pass over the output and, under autograd, a second
// (…, N) tensor that the tape would otherwise keep alive until backward: `out` is first filled
// with the bias rows and the GEMM then accumulates into it (a plain GEMM zeroes it first anyway).
// The bias gradient sums d_out over rows, each column in row order, so it is bitwise the same for
// every thread count.
// Not here: the parameters (nn/linear.hpp), batched products (matmul.hpp).
// Shape legend: x (…, K) seen as R × K; w (K, N), or (N, K) when transpose_w; bias (N), or
// undefined for no bias; out (…, N) seen as R × N.
#pragma once

#include <vector>

#include "tlcr/ops/matmul.hpp"

namespace tlcr {

namespace detail {
constexpr int64_t kBiasGradGrain = 1 << 14;  // elements per thread chunk when summing columns

inline void check_linear_bias(const Shape& bias, const Shape& out) {
  TLCR_CHECK(bias.rank == 1 && bias.dims[0] == out.cols(), "linear: expected bias (", out.cols(),
             ") to match the output's last axis, got bias ", bias.str(), " for out ", out.str());
}
}  // namespace detail

// out (…,N) = x (…,K) · op(w) + bias (N); bias may be an undefined tensor (no bias).
template <class T>
void linear_forward(Tensor<T>& out, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias,
                    bool transpose_w = false) {
  check_same_shape("linear_forward", out.shape(),
                   matmul_output_shape(x.shape(), w.shape(), false, transpose_w), "out", "x·op(w)");
  if (!bias.defined()) {
    detail::gemm(out.matrix(), x.matrix(), w.matrix(), false, transpose_w, false);
    return;
  }
  detail::check_linear_bias(bias.shape(), out.shape());
  auto O = out.matrix();
  O.rowwise() = bias.vector().transpose();
  detail::gemm(O, x.matrix(), w.matrix(), false, transpose_w, true);
}

// d_bias (N) += Σ_rows d_out (…,N), each column summed in row order.
template <class T>
void add_bias_grad(Tensor<T>& d_bias, const Tensor<T>& d_out) {
  const int64_t cols = d_out.shape().cols(), rows = d_out.numel() / std::max<int64_t>(cols, 1);
  detail::check_linear_bias(d_bias.shape(), d_out.shape());
  const T* g = d_out.data();
  T* db = d_bias.data();
  // Each thread owns a range of columns and reads its rows contiguously, row after row.
  parallel_for(0, cols, std::max<int64_t>(1, detail::kBiasGradGrain / std::max<int64_t>(rows, 1)),
               [&](int64_t c0, int64_t c1) {
                 std::vector<T> sum(c1 - c0, T(0));
                 for (int64_t r = 0; r < rows; ++r) {
                   const T* gr = g + r * cols + c0;
                   for (int64_t k = 0; k < c1 - c0; ++k) sum[k] += gr[k];
                 }
                 for (int64_t k = 0; k < c1 - c0; ++k) db[c0 + k] += sum[k];
               });
}

// forward: out = x·op(w) + bias → adds d_x = d_out·op(w)ᵀ, d_w, and d_bias = Σ_rows d_out.
// Any gradient may be nullptr (not needed).
template <class T>
void linear_backward(Tensor<T>* d_x, Tensor<T>* d_w, Tensor<T>* d_bias, const Tensor<T>& d_out,
                     const Tensor<T>& x, const Tensor<T>& w, bool transpose_w = false) {
  matmul_backward(d_x, d_w, d_out, x, w, false, transpose_w);
  if (d_bias) add_bias_grad(*d_bias, d_out);
}

}  // namespace tlcr
