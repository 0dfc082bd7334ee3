// tlcr/ops/linear.hpp — the affine map of a Linear layer as one kernel: out = x·op(w) + bias.
//
// Fusing the bias into the product saves a pass over the output and, under autograd, a second
// (…, N) tensor that the tape would otherwise keep alive until backward: `out` is first filled
// with the bias rows and the GEMM then accumulates into it (a plain GEMM zeroes it first anyway).
// The bias gradient sums d_out over rows, each column in row order (add_row_sums in reduce.hpp),
// so it is bitwise the same for every thread count.
// Not here: the parameters (nn/linear.hpp), batched products (matmul.hpp).
// Shape legend: x (…, K) seen as R × K; w (K, N), or (N, K) when transpose_w; bias (N), or
// undefined for no bias; out (…, N) seen as R × N.
#pragma once

#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/matmul.hpp"
#include "tlcr/ops/reduce.hpp"

namespace tlcr {

namespace detail {
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
  const int64_t n = bias.numel(), rows = n > 0 ? out.numel() / n : 0;
  parallel_for(0, rows, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(n, 1)),
               [&](int64_t row_begin, int64_t row_end) {  // every row starts as the bias
                 for (int64_t r = row_begin; r < row_end; ++r)
                   std::copy(bias.data(), bias.data() + n, out.data() + r * n);
               });
  detail::gemm(out.matrix(), x.matrix(), w.matrix(), false, transpose_w, true);
}

// d_bias (N) += Σ_rows d_out (…,N), each column summed in row order (ops/reduce.hpp).
template <class T>
void add_bias_grad(Tensor<T>& d_bias, const Tensor<T>& d_out) {
  detail::check_linear_bias(d_bias.shape(), d_out.shape());
  add_row_sums(d_bias, d_out);
}

// forward: out = x·op(w) + bias → adds d_x = d_out·op(w)ᵀ, d_w, and d_bias = Σ_rows d_out.
// Any gradient may be nullptr (not needed).
template <class T>
void linear_backward(Tensor<T>* d_x, Tensor<T>* d_w, Tensor<T>* d_bias, const Tensor<T>& d_out,
                     const Tensor<T>& x, const Tensor<T>& w, bool transpose_w = false) {
  matmul_backward(d_x, d_w, d_out, x, w, false, transpose_w);
  if (d_bias) add_bias_grad(*d_bias, d_out);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(linear_forward, linear_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_LINEAR_INSTANCES(extern_, T)                                                    \
  extern_ template void linear_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&,        \
                                          const Tensor<T>&, bool);                               \
  extern_ template void add_bias_grad<T>(Tensor<T>&, const Tensor<T>&);                          \
  extern_ template void linear_backward<T>(Tensor<T>*, Tensor<T>*, Tensor<T>*, const Tensor<T>&, \
                                           const Tensor<T>&, const Tensor<T>&, bool);
TLCR_DECLARE_INSTANCES(TLCR_OPS_LINEAR_INSTANCES)

}  // namespace tlcr
