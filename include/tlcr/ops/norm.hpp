// tlcr/ops/norm.hpp — fused LayerNorm and RMSNorm over the last axis, forward and backward.
//
// LayerNorm: μ = mean(x), rstd = 1/√(var(x) + eps), x̂ = (x − μ)·rstd,  out = x̂ ⊙ weight + bias.
// RMSNorm:                rstd = 1/√(mean(x²) + eps), x̂ = x·rstd,       out = x̂ ⊙ weight.
// The forward pass saves the per-row statistics (mean and rstd) so backward need not recompute
// them. Backward does one pass per row for d_x and the row's share of d_weight/d_bias. Sums along
// a row run in 16 fixed lanes (core/fast_math.hpp lane_sum), so they vectorise and stay
// deterministic; the lanes are added in double.
// d_weight/d_bias sum over rows deterministically: rows are cut into fixed blocks (the cut depends
// only on the shape), each block sums into its own partial row, and the partial rows are added in
// block order. The result is bitwise the same for every thread count.
// Not here: the Module that owns weight and bias (nn/), other axes than the last.
// Shape legend: x, out (…, C) seen as R × C; weight, bias (C); mean, rstd (…) = x's shape without
// its last axis, R values.
#pragma once

#include <cmath>
#include <type_traits>
#include <vector>

#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

// The shape of the per-row statistics: x's shape without its last axis.
inline Shape norm_stats_shape(const Shape& x) {
  Shape stats;
  for (int i = 0; i + 1 < x.rank; ++i) stats.dims[stats.rank++] = x.dims[i];
  return stats;
}

namespace detail {
constexpr int64_t kNormGrain = 1 << 14;  // elements per thread chunk
constexpr int64_t kNormMaxBlocks = 64;   // most partial rows the parameter gradients use

// Checks x (…,C), weight (C), bias (C) when given, out (named out_name) like x, and rstd like
// norm_stats_shape(x). Any device's tensors (the CUDA kernels check the same way).
template <class Tn>
void check_norm_shapes(const char* op, const Tn& x, const Tn& weight, const Tn* bias, const Tn& out,
                       const char* out_name, const Tn& rstd) {
  TLCR_CHECK(x.rank() >= 1, op, ": expected x of rank ≥ 1 (the last axis is normalised), got ",
             x.shape().str());
  const Shape channels{x.shape().cols()};
  check_same_shape(op, weight.shape(), channels, "weight", "last axis of x");
  if (bias) check_same_shape(op, bias->shape(), channels, "bias", "last axis of x");
  check_same_shape(op, out.shape(), x.shape(), out_name, "x");
  check_same_shape(op, rstd.shape(), norm_stats_shape(x.shape()), "rstd", "leading axes of x");
}

// Checks the gradients that are given: d_x like x, d_weight and d_bias (C).
template <class Tn>
void check_norm_grads(const char* op, const Tn* d_x, const Tn* d_weight, const Tn* d_bias,
                      const Tn& x) {
  const Shape channels{x.shape().cols()};
  if (d_x) check_same_shape(op, d_x->shape(), x.shape(), "d_x", "x");
  if (d_weight) check_same_shape(op, d_weight->shape(), channels, "d_weight", "last axis of x");
  if (d_bias) check_same_shape(op, d_bias->shape(), channels, "d_bias", "last axis of x");
}

// A fixed cut of `rows` into `count` blocks of `size` rows (the last may be shorter).
struct RowBlocks {
  int64_t count, size;
};
inline RowBlocks norm_row_blocks(int64_t rows, int64_t cols) {
  const int64_t min_rows = std::max<int64_t>(1, kNormGrain / std::max<int64_t>(cols, 1));
  const int64_t size = std::max(min_rows, (rows + kNormMaxBlocks - 1) / kNormMaxBlocks);
  return {(rows + size - 1) / size, size};
}

// Adds the partial rows (count, C) into d_param (C) in block order; each thread owns columns.
template <class T>
void add_partial_rows(Tensor<T>& d_param, const Tensor<T>& partial) {
  const int64_t count = partial.shape().rows(), cols = partial.shape().cols();
  const T* pp = partial.data();
  T* dp = d_param.data();
  parallel_for(0, cols, std::max<int64_t>(1, kNormGrain / std::max<int64_t>(count, 1)),
               [&](int64_t c0, int64_t c1) {
                 for (int64_t c = c0; c < c1; ++c) {
                   T sum = 0;
                   for (int64_t b = 0; b < count; ++b) sum += pp[b * cols + c];
                   dp[c] += sum;
                 }
               });
}

// Naive references (the test oracles), in double. Forward: the formulas above, element by element.
template <class T>
void layernorm_ref(Tensor<T>& out, Tensor<T>& mean, Tensor<T>& rstd, const Tensor<T>& x,
                   const Tensor<T>& weight, const Tensor<T>& bias, std::type_identity_t<T> eps) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x.data() + r * cols;
    double mu = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mu += xr[j];
    mu /= double(cols);
    for (int64_t j = 0; j < cols; ++j) var += (xr[j] - mu) * (xr[j] - mu);
    var /= double(cols);
    const double rs = 1.0 / std::sqrt(var + double(eps));
    for (int64_t j = 0; j < cols; ++j)
      out.data()[r * cols + j] = T((xr[j] - mu) * rs * double(weight.data()[j]) + bias.data()[j]);
    mean.data()[r] = T(mu);
    rstd.data()[r] = T(rs);
  }
}
template <class T>
void rmsnorm_ref(Tensor<T>& out, Tensor<T>& rstd, const Tensor<T>& x, const Tensor<T>& weight,
                 std::type_identity_t<T> eps) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x.data() + r * cols;
    double mean_square = 0;
    for (int64_t j = 0; j < cols; ++j) mean_square += double(xr[j]) * xr[j];
    mean_square /= double(cols);
    const double rs = 1.0 / std::sqrt(mean_square + double(eps));
    for (int64_t j = 0; j < cols; ++j)
      out.data()[r * cols + j] = T(xr[j] * rs * double(weight.data()[j]));
    rstd.data()[r] = T(rs);
  }
}

// Backward references: the full C × C Jacobian of x̂ per row,
//   ∂x̂_j/∂x_i = rstd·(δ_ij − centred/C − x̂_i·x̂_j/C),  centred = 1 for LayerNorm, 0 for RMSNorm,
// then d x_i = Σ_j d out_j·weight_j·∂x̂_j/∂x_i, d weight_j = Σ_rows d out_j·x̂_j, d bias_j = Σ_rows
// d out_j. Overwrites d_x (R,C), d_weight (C) and, for LayerNorm, d_bias (C).
template <class T>
void norm_backward_ref(bool centred, Tensor<T>& d_x, Tensor<T>& d_weight, Tensor<T>* d_bias,
                       const Tensor<T>& d_out, const Tensor<T>& x, const Tensor<T>& weight,
                       std::type_identity_t<T> eps) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  std::vector<double> dw(cols, 0.0), db(cols, 0.0), xhat(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x.data() + r * cols;
    const T* gr = d_out.data() + r * cols;
    double mu = 0, var = 0;
    if (centred) {
      for (int64_t j = 0; j < cols; ++j) mu += xr[j];
      mu /= double(cols);
    }
    for (int64_t j = 0; j < cols; ++j) var += (xr[j] - mu) * (xr[j] - mu);
    const double rs = 1.0 / std::sqrt(var / double(cols) + double(eps));
    for (int64_t j = 0; j < cols; ++j) xhat[j] = (xr[j] - mu) * rs;
    for (int64_t i = 0; i < cols; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const double jacobian =
            rs * ((i == j ? 1.0 : 0.0) - (centred ? 1.0 : 0.0) / cols - xhat[i] * xhat[j] / cols);
        sum += double(gr[j]) * weight.data()[j] * jacobian;
      }
      d_x.data()[r * cols + i] = T(sum);
    }
    for (int64_t j = 0; j < cols; ++j) {
      dw[j] += double(gr[j]) * xhat[j];
      db[j] += gr[j];
    }
  }
  for (int64_t j = 0; j < cols; ++j) {
    d_weight.data()[j] = T(dw[j]);
    if (d_bias) d_bias->data()[j] = T(db[j]);
  }
}
}  // namespace detail

// out (R,C) = (x − mean)·rstd ⊙ weight (C) + bias (C); also writes mean (R) and rstd (R).
template <class T>
void layernorm_forward(Tensor<T>& out, Tensor<T>& mean, Tensor<T>& rstd, const Tensor<T>& x,
                       const Tensor<T>& weight, const Tensor<T>& bias,
                       std::type_identity_t<T> eps) {
  detail::check_norm_shapes("layernorm", x, weight, &bias, out, "out", rstd);
  check_same_shape("layernorm", mean.shape(), rstd.shape(), "mean", "rstd");
  TLCR_CHECK(eps >= T(0), "layernorm: expected eps ≥ 0, got ", eps);
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  const T* w = weight.data();
  const T* b = bias.data();
  parallel_for(0, rows, std::max<int64_t>(1, detail::kNormGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const T* xr = x.data() + r * cols;
                   T* yr = out.data() + r * cols;
                   const T mu =
                       T(lane_sum<T>(cols, [&](int64_t j) { return xr[j]; }) / double(cols));
                   // two passes: Σ(x − μ)² cannot cancel like Σx² − Cμ²
                   const double square_sum = lane_sum<T>(cols, [&](int64_t j) {
                     const T centred = xr[j] - mu;
                     return centred * centred;
                   });
                   const T rs = T(1.0 / std::sqrt(square_sum / double(cols) + double(eps)));
                   for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
                   mean.data()[r] = mu;
                   rstd.data()[r] = rs;
                 }
               });
}

// out (R,C) = x·rstd ⊙ weight (C); also writes rstd (R).
template <class T>
void rmsnorm_forward(Tensor<T>& out, Tensor<T>& rstd, const Tensor<T>& x, const Tensor<T>& weight,
                     std::type_identity_t<T> eps) {
  detail::check_norm_shapes<Tensor<T>>("rmsnorm", x, weight, nullptr, out, "out", rstd);
  TLCR_CHECK(eps >= T(0), "rmsnorm: expected eps ≥ 0, got ", eps);
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  const T* w = weight.data();
  parallel_for(0, rows, std::max<int64_t>(1, detail::kNormGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const T* xr = x.data() + r * cols;
                   T* yr = out.data() + r * cols;
                   const double square_sum =
                       lane_sum<T>(cols, [&](int64_t j) { return xr[j] * xr[j]; });
                   const T rs = T(1.0 / std::sqrt(square_sum / double(cols) + double(eps)));
                   for (int64_t j = 0; j < cols; ++j) yr[j] = xr[j] * rs * w[j];
                   rstd.data()[r] = rs;
                 }
               });
}

namespace detail {
// The shared backward of both norms; `mean` is null for RMSNorm (then x̂ = x·rstd, no centring).
// With g = d out ⊙ weight (the gradient reaching x̂), per row:
//   d x = rstd·(g − mean(g)·centred − x̂·mean(g ⊙ x̂)),  d weight += d out ⊙ x̂,  d bias += d out.
template <class T>
void norm_backward(Tensor<T>* d_x, Tensor<T>* d_weight, Tensor<T>* d_bias, const Tensor<T>& d_out,
                   const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>* mean,
                   const Tensor<T>& rstd) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  const RowBlocks blocks = norm_row_blocks(rows, cols);
  // One partial row per block for each parameter gradient that is wanted.
  Tensor<T> partial_weight = d_weight ? Tensor<T>({blocks.count, cols}) : Tensor<T>();
  Tensor<T> partial_bias = d_bias ? Tensor<T>({blocks.count, cols}) : Tensor<T>();
  const T* w = weight.data();
  parallel_for(0, blocks.count, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t block = b0; block < b1; ++block) {
      T* pw = d_weight ? partial_weight.data() + block * cols : nullptr;
      T* pb = d_bias ? partial_bias.data() + block * cols : nullptr;
      const int64_t row_end = std::min(rows, (block + 1) * blocks.size);
      for (int64_t r = block * blocks.size; r < row_end; ++r) {
        const T* xr = x.data() + r * cols;
        const T* gr = d_out.data() + r * cols;
        const T mu = mean ? mean->data()[r] : T(0);
        const T rs = rstd.data()[r];
        // forward: out = x̂ ⊙ weight + bias, x̂ = (x − μ)·rstd
        if (pw)
          for (int64_t j = 0; j < cols; ++j) pw[j] += gr[j] * ((xr[j] - mu) * rs);
        if (pb)
          for (int64_t j = 0; j < cols; ++j) pb[j] += gr[j];
        if (!d_x) continue;
        const double sum_g = lane_sum<T>(cols, [&](int64_t j) { return gr[j] * w[j]; });
        const double sum_g_xhat =
            lane_sum<T>(cols, [&](int64_t j) { return gr[j] * w[j] * ((xr[j] - mu) * rs); });
        const T mean_g = mean ? T(sum_g / double(cols)) : T(0);
        const T mean_g_xhat = T(sum_g_xhat / double(cols));
        T* dxr = d_x->data() + r * cols;
        for (int64_t j = 0; j < cols; ++j) {
          const T xhat = (xr[j] - mu) * rs;
          dxr[j] += rs * (gr[j] * w[j] - mean_g - xhat * mean_g_xhat);
        }
      }
    }
  });
  if (d_weight) add_partial_rows(*d_weight, partial_weight);
  if (d_bias) add_partial_rows(*d_bias, partial_bias);
}
}  // namespace detail

// Given d_out (R,C) and the forward's saved mean (R) and rstd (R), adds d_x (R,C), d_weight (C)
// and d_bias (C); any of them may be nullptr.
template <class T>
void layernorm_backward(Tensor<T>* d_x, Tensor<T>* d_weight, Tensor<T>* d_bias,
                        const Tensor<T>& d_out, const Tensor<T>& x, const Tensor<T>& weight,
                        const Tensor<T>& mean, const Tensor<T>& rstd) {
  detail::check_norm_shapes<Tensor<T>>("layernorm_backward", x, weight, nullptr, d_out, "d_out",
                                       rstd);
  check_same_shape("layernorm_backward", mean.shape(), rstd.shape(), "mean", "rstd");
  detail::check_norm_grads<Tensor<T>>("layernorm_backward", d_x, d_weight, d_bias, x);
  detail::norm_backward(d_x, d_weight, d_bias, d_out, x, weight, &mean, rstd);
}

// Given d_out (R,C) and the forward's saved rstd (R), adds d_x (R,C) and d_weight (C); either may
// be nullptr.
template <class T>
void rmsnorm_backward(Tensor<T>* d_x, Tensor<T>* d_weight, const Tensor<T>& d_out,
                      const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& rstd) {
  detail::check_norm_shapes<Tensor<T>>("rmsnorm_backward", x, weight, nullptr, d_out, "d_out",
                                       rstd);
  detail::check_norm_grads<Tensor<T>>("rmsnorm_backward", d_x, d_weight, nullptr, x);
  detail::norm_backward<T>(d_x, d_weight, nullptr, d_out, x, weight, nullptr, rstd);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(layernorm_forward, layernorm_backward, rmsnorm_forward, rmsnorm_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_NORM_INSTANCES(extern_, T)                                                        \
  extern_ template void layernorm_forward<T>(Tensor<T>&, Tensor<T>&, Tensor<T>&, const Tensor<T>&, \
                                             const Tensor<T>&, const Tensor<T>&,                   \
                                             std::type_identity_t<T>);                             \
  extern_ template void rmsnorm_forward<T>(Tensor<T>&, Tensor<T>&, const Tensor<T>&,               \
                                           const Tensor<T>&, std::type_identity_t<T>);             \
  extern_ template void layernorm_backward<T>(                                                     \
      Tensor<T>*, Tensor<T>*, Tensor<T>*, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,    \
      const Tensor<T>&, const Tensor<T>&);                                                         \
  extern_ template void rmsnorm_backward<T>(Tensor<T>*, Tensor<T>*, const Tensor<T>&,              \
                                            const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_NORM_INSTANCES)

}  // namespace tlcr
