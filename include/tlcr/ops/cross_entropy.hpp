// tlcr/ops/cross_entropy.hpp — losses on logits, fused with a stable log-softmax; forward and
// backward.
//
//   cross_entropy       loss (scalar) = Σ_i w_i · (−log softmax(z_i)[t_i]) / Σ_i w_i over the
//                       rows whose target is not ignore_index (unweighted: the mean over those
//                       rows). When no row counts (all ignored, or all weights 0) the loss is 0
//                       and so is its gradient.
//   token_log_probs     out_i = log softmax(z_i)[t_i] (0 where t_i = ignore_index): the
//                       log-probability of the chosen token, as PPO needs it.
//   soft_cross_entropy  out_i = w_i · (−Σ_k y_ik · log softmax(z_i)_k) for target distributions
//                       y; one loss per row, so the caller can average per sequence, then batch.
//   bce_with_logits     out = max(x, 0) − x·y + log(1 + exp(−|x|)) elementwise
//                       (= −y·log σ(x) − (1 − y)·log(1 − σ(x)), without overflow).
//
// The softmax losses never build a softmax or log-softmax tensor: forward keeps one log-sum-exp
// per row (lse_i = log Σ_v exp(z_iv), computed around the row max so logits of ±1000 stay finite)
// and backward recomputes softmax(z_i)_v = exp(z_iv − lse_i) on the fly. Rows are split across
// threads; the scalar loss is summed afterwards in row order, so results do not depend on the
// thread count. Logits may have any leading shape (…, V): rows = product of the leading sizes.
// Targets are token ids (int32, like every token id in tlcr), weights plain spans, or either in a
// tensor (the overloads at the end); neither is differentiated. ignore_index defaults to −100, PyTorch's convention (kIgnoreIndex in
// train/batches.hpp).
// Not here: a standalone softmax or log-softmax (softmax.hpp), label smoothing.
// Shape legend: N rows (product of leading sizes), V classes (vocabulary), K soft-target classes.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

// Per-row weights as a span of T that does not take part in template argument deduction, so a
// std::vector<T> can be passed directly.
template <class T>
using RowWeights = std::span<const std::type_identity_t<T>>;

namespace detail {
constexpr int64_t kLossRowGrain = 1 << 14;  // elements per thread chunk, as for elementwise ops

// log Σ_v exp(row[v]), stable: the row max is factored out.
template <class T>
T log_sum_exp(const T* row, int64_t size) {
  const T row_max = lane_max(row, size);
  const double sum =
      lane_sum<T>(size, [&](int64_t v) { return fast_exp_nonpositive(row[v] - row_max); });
  return row_max + T(std::log(sum));
}

// d_row[v] += coefficient · (softmax(row)[v] − [v = target]); the softmax comes from the row's lse.
// This is the gradient of −log softmax(row)[target], scaled.
template <class T>
void add_softmax_minus_onehot(T* d_row, const T* row, T lse, int64_t target, T coefficient,
                              int64_t size) {
  for (int64_t v = 0; v < size; ++v) d_row[v] += coefficient * fast_exp_nonpositive(row[v] - lse);
  d_row[target] -= coefficient;
}

// Logits (…, V) with V > 0 and one target per row, each in [0, V) or ignore_index.
inline void check_targets(const char* op, const Shape& logits, std::span<const int32_t> targets,
                          int32_t ignore_index) {
  TLCR_CHECK(logits.rank >= 1 && logits.cols() > 0, op, ": expected logits (…, V) with V > 0, got ",
             logits.str());
  TLCR_CHECK(int64_t(targets.size()) == logits.rows(), op, ": ", targets.size(),
             " targets for logits ", logits.str(), " with ", logits.rows(), " rows");
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (targets[i] != ignore_index && (targets[i] < 0 || targets[i] >= logits.cols()))
      fail(op, ": target ", targets[i], " at row ", i, " is outside [0, ", logits.cols(),
           ") and is not the ignore index ", ignore_index);
}

// Either no weights or one finite, non-negative weight per row.
template <class T>
void check_row_weights(const char* op, int64_t rows, std::span<const T> weights) {
  if (weights.empty()) return;
  TLCR_CHECK(int64_t(weights.size()) == rows, op, ": ", weights.size(), " weights for ", rows,
             " rows");
  for (std::size_t i = 0; i < weights.size(); ++i)
    if (!(weights[i] >= 0) || !std::isfinite(double(weights[i])))
      fail(op, ": weight ", weights[i], " at row ", i, " must be finite and ≥ 0");
}

// w_i, or 1 when there are no weights.
template <class T>
T row_weight(std::span<const T> weights, int64_t row) {
  return weights.empty() ? T(1) : weights[row];
}

// Σ_i w_i over the rows whose target is not ignored, in row order (double).
template <class T>
double selected_weight_total(std::span<const int32_t> targets, std::span<const T> weights,
                             int32_t ignore_index) {
  double total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (targets[i] != ignore_index) total += double(row_weight(weights, int64_t(i)));
  return total;
}

// The shape of one value per row: logits (…, V) without the last axis.
inline Shape row_shape(const Shape& logits) {
  Shape rows;
  rows.rank = logits.rank - 1;
  for (int i = 0; i < rows.rank; ++i) rows.dims[i] = logits.dims[i];
  return rows;
}

// Rows per thread chunk so that each chunk touches about kLossRowGrain elements.
inline int64_t loss_row_grain(int64_t row_size) {
  return std::max<int64_t>(1, kLossRowGrain / std::max<int64_t>(row_size, 1));
}
}  // namespace detail

// ---- cross_entropy -----------------------------------------------------------------------------

// loss (rank 0) = Σ_i w_i · (lse_i − z_i[t_i]) / Σ_i w_i over rows with t_i ≠ ignore_index.
// logits (…, V); targets (N); weights (N) or empty; logsumexp (N) receives lse_i for backward
// (0 on ignored rows).
template <class T>
void cross_entropy_forward(Tensor<T>& loss, Tensor<T>& logsumexp, const Tensor<T>& logits,
                           std::span<const int32_t> targets, RowWeights<T> weights = {},
                           int32_t ignore_index = -100) {
  const char* op = "cross_entropy";
  detail::check_targets(op, logits.shape(), targets, ignore_index);
  detail::check_row_weights(op, logits.shape().rows(), weights);
  TLCR_CHECK(loss.numel() == 1, op, ": loss must hold one element, got ", loss.shape().str());
  TLCR_CHECK(logsumexp.numel() == logits.shape().rows(), op,
             ": logsumexp must hold one value per row (", logits.shape().rows(), "), got ",
             logsumexp.shape().str());
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  std::vector<T> weighted_nll(rows, T(0));
  parallel_for(0, rows, detail::loss_row_grain(V), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      logsumexp.data()[i] = T(0);
      if (targets[i] == ignore_index) continue;
      const T* z = logits.data() + i * V;
      logsumexp.data()[i] = detail::log_sum_exp(z, V);
      weighted_nll[i] = detail::row_weight(weights, i) * (logsumexp.data()[i] - z[targets[i]]);
    }
  });
  const double total_weight = detail::selected_weight_total(targets, weights, ignore_index);
  double total = 0;
  for (const T value : weighted_nll) total += double(value);
  loss.data()[0] = total_weight > 0 ? T(total / total_weight) : T(0);
}

// forward: loss = Σ_i w_i · (lse_i − z_i[t_i]) / W
//   → d z_i[v] += d_loss · w_i / W · (softmax(z_i)[v] − [v = t_i])
template <class T>
void cross_entropy_backward(Tensor<T>& d_logits, const Tensor<T>& d_loss, const Tensor<T>& logits,
                            const Tensor<T>& logsumexp, std::span<const int32_t> targets,
                            RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  const double total_weight = detail::selected_weight_total(targets, weights, ignore_index);
  if (total_weight <= 0) return;  // no row counts: the loss is the constant 0
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  const T upstream = T(double(d_loss.data()[0]) / total_weight);
  parallel_for(0, rows, detail::loss_row_grain(V), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      if (targets[i] == ignore_index) continue;
      detail::add_softmax_minus_onehot(d_logits.data() + i * V, logits.data() + i * V,
                                       logsumexp.data()[i], targets[i],
                                       upstream * detail::row_weight(weights, i), V);
    }
  });
}

// ---- token_log_probs ---------------------------------------------------------------------------

// out (…) = z_i[t_i] − lse_i, or 0 where t_i = ignore_index. logits (…, V); targets (N);
// logsumexp (N) receives lse_i for backward.
template <class T>
void token_log_probs_forward(Tensor<T>& out, Tensor<T>& logsumexp, const Tensor<T>& logits,
                             std::span<const int32_t> targets, int32_t ignore_index = -100) {
  const char* op = "token_log_probs";
  detail::check_targets(op, logits.shape(), targets, ignore_index);
  check_same_shape(op, out.shape(), detail::row_shape(logits.shape()), "out", "logits without V");
  TLCR_CHECK(logsumexp.numel() == out.numel(), op, ": logsumexp must hold one value per row (",
             out.numel(), "), got ", logsumexp.shape().str());
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  parallel_for(0, rows, detail::loss_row_grain(V), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      out.data()[i] = logsumexp.data()[i] = T(0);
      if (targets[i] == ignore_index) continue;
      const T* z = logits.data() + i * V;
      logsumexp.data()[i] = detail::log_sum_exp(z, V);
      out.data()[i] = z[targets[i]] - logsumexp.data()[i];
    }
  });
}

// forward: out_i = z_i[t_i] − lse_i → d z_i[v] += d out_i · ([v = t_i] − softmax(z_i)[v])
template <class T>
void token_log_probs_backward(Tensor<T>& d_logits, const Tensor<T>& d_out, const Tensor<T>& logits,
                              const Tensor<T>& logsumexp, std::span<const int32_t> targets,
                              int32_t ignore_index = -100) {
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  parallel_for(0, rows, detail::loss_row_grain(V), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      if (targets[i] == ignore_index) continue;
      detail::add_softmax_minus_onehot(d_logits.data() + i * V, logits.data() + i * V,
                                       logsumexp.data()[i], targets[i], -d_out.data()[i], V);
    }
  });
}

// ---- soft_cross_entropy ------------------------------------------------------------------------

// out (…) = w_i · (Σ_k y_ik · lse_i − Σ_k y_ik · z_ik), i.e. w_i · (−Σ_k y_ik · log
// softmax(z_i)_k). logits and targets (…, K); weights (N) or empty; rows with w_i = 0 give 0 (and
// lse_i = 0). Targets need not sum to 1 (the gradient below uses their actual sum).
template <class T>
void soft_cross_entropy_forward(Tensor<T>& out, Tensor<T>& logsumexp, const Tensor<T>& logits,
                                const Tensor<T>& targets, RowWeights<T> weights = {}) {
  const char* op = "soft_cross_entropy";
  check_same_shape(op, logits.shape(), targets.shape(), "logits", "targets");
  TLCR_CHECK(logits.rank() >= 1 && logits.shape().cols() > 0, op,
             ": expected logits (…, K) with K > 0, got ", logits.shape().str());
  check_same_shape(op, out.shape(), detail::row_shape(logits.shape()), "out", "logits without K");
  TLCR_CHECK(logsumexp.numel() == out.numel(), op, ": logsumexp must hold one value per row (",
             out.numel(), "), got ", logsumexp.shape().str());
  detail::check_row_weights(op, logits.shape().rows(), weights);
  const int64_t rows = logits.shape().rows(), K = logits.shape().cols();
  parallel_for(0, rows, detail::loss_row_grain(K), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      out.data()[i] = logsumexp.data()[i] = T(0);
      const T weight = detail::row_weight(weights, i);
      if (weight == T(0)) continue;
      const T* z = logits.data() + i * K;
      const T* y = targets.data() + i * K;
      const T lse = detail::log_sum_exp(z, K);
      T loss = 0;
      for (int64_t k = 0; k < K; ++k) loss += y[k] * (lse - z[k]);
      logsumexp.data()[i] = lse;
      out.data()[i] = weight * loss;
    }
  });
}

// forward: out_i = w_i · (Σ_k y_ik · lse_i − Σ_k y_ik · z_ik)
//   → d z_ik += d out_i · w_i · ((Σ_k y_ik) · softmax(z_i)_k − y_ik)
template <class T>
void soft_cross_entropy_backward(Tensor<T>& d_logits, const Tensor<T>& d_out,
                                 const Tensor<T>& logits, const Tensor<T>& logsumexp,
                                 const Tensor<T>& targets, RowWeights<T> weights = {}) {
  const int64_t rows = logits.shape().rows(), K = logits.shape().cols();
  parallel_for(0, rows, detail::loss_row_grain(K), [&](int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; ++i) {
      const T weight = detail::row_weight(weights, i);
      if (weight == T(0)) continue;
      const T* z = logits.data() + i * K;
      const T* y = targets.data() + i * K;
      T* dz = d_logits.data() + i * K;
      const T upstream = d_out.data()[i] * weight;
      T target_mass = 0;
      for (int64_t k = 0; k < K; ++k) target_mass += y[k];
      for (int64_t k = 0; k < K; ++k)
        dz[k] += upstream * (target_mass * std::exp(z[k] - logsumexp.data()[i]) - y[k]);
    }
  });
}

// ---- bce_with_logits ---------------------------------------------------------------------------

namespace detail {
// σ(x) without overflow: exp is only taken of −|x|. (Host and device: cuda/cross_entropy.cuh.)
template <class T>
TLCR_HOST_DEVICE T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}
}  // namespace detail

// out = max(x, 0) − x·y + log(1 + exp(−|x|)), elementwise; logits, targets and out share a shape.
template <class T>
void bce_with_logits_forward(Tensor<T>& out, const Tensor<T>& logits, const Tensor<T>& targets) {
  check_same_shape("bce_with_logits", logits.shape(), targets.shape(), "logits", "targets");
  check_same_shape("bce_with_logits", out.shape(), logits.shape(), "out", "logits");
  const T* x = logits.data();
  const T* y = targets.data();
  T* o = out.data();
  parallel_for(0, logits.numel(), detail::kLossRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      o[i] = std::max(x[i], T(0)) - x[i] * y[i] + std::log1p(std::exp(-std::abs(x[i])));
  });
}

// forward: out = max(x, 0) − x·y + log(1 + exp(−|x|)) = softplus(x) − x·y → d x += d out · (σ(x) −
// y)
template <class T>
void bce_with_logits_backward(Tensor<T>& d_logits, const Tensor<T>& d_out, const Tensor<T>& logits,
                              const Tensor<T>& targets) {
  const T* x = logits.data();
  const T* y = targets.data();
  const T* g = d_out.data();
  T* dx = d_logits.data();
  parallel_for(0, logits.numel(), detail::kLossRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] += g[i] * (detail::stable_sigmoid(x[i]) - y[i]);
  });
}

// ---- the same with the index data in tensors ---------------------------------------------------
// Targets (N) int32 and weights (N) in tensors on the logits' device, so that index data a caller
// reuses (a minibatch's tokens, forward and backward) crosses to a device once. Templates in the
// tensor types, so that a braced `{}` argument still means the empty span above.

namespace detail {
template <class E>
std::span<const E> flat_span(const Tensor<E>& t) {
  return t.defined() ? std::span<const E>(t.data(), t.numel()) : std::span<const E>();
}
}  // namespace detail

template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t>>
void cross_entropy_forward(Tensor<T>& loss, Tensor<T>& logsumexp, const Tensor<T>& logits,
                           const Targets& targets, RowWeights<T> weights = {},
                           int32_t ignore_index = -100) {
  cross_entropy_forward(loss, logsumexp, logits, detail::flat_span(targets), weights, ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t>>
void cross_entropy_backward(Tensor<T>& d_logits, const Tensor<T>& d_loss, const Tensor<T>& logits,
                            const Tensor<T>& logsumexp, const Targets& targets,
                            RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  cross_entropy_backward(d_logits, d_loss, logits, logsumexp, detail::flat_span(targets), weights,
                         ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t>>
void token_log_probs_forward(Tensor<T>& out, Tensor<T>& logsumexp, const Tensor<T>& logits,
                             const Targets& targets, int32_t ignore_index = -100) {
  token_log_probs_forward(out, logsumexp, logits, detail::flat_span(targets), ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t>>
void token_log_probs_backward(Tensor<T>& d_logits, const Tensor<T>& d_out, const Tensor<T>& logits,
                              const Tensor<T>& logsumexp, const Targets& targets,
                              int32_t ignore_index = -100) {
  token_log_probs_backward(d_logits, d_out, logits, logsumexp, detail::flat_span(targets),
                           ignore_index);
}
// Soft targets with per-row weights (N) in a tensor.
template <class T, class Weights>
requires std::same_as<Weights, Tensor<T>>
void soft_cross_entropy_forward(Tensor<T>& out, Tensor<T>& logsumexp, const Tensor<T>& logits,
                                const Tensor<T>& targets, const Weights& weights) {
  soft_cross_entropy_forward(out, logsumexp, logits, targets, detail::flat_span(weights));
}
template <class T, class Weights>
requires std::same_as<Weights, Tensor<T>>
void soft_cross_entropy_backward(Tensor<T>& d_logits, const Tensor<T>& d_out,
                                 const Tensor<T>& logits, const Tensor<T>& logsumexp,
                                 const Tensor<T>& targets, const Weights& weights) {
  soft_cross_entropy_backward(d_logits, d_out, logits, logsumexp, targets,
                              detail::flat_span(weights));
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(cross_entropy_forward, cross_entropy_backward, token_log_probs_forward,
                  token_log_probs_backward, soft_cross_entropy_forward, soft_cross_entropy_backward,
                  bce_with_logits_forward, bce_with_logits_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_CROSS_ENTROPY_INSTANCES(extern_, T)                                               \
  extern_ template void cross_entropy_forward<T>(                                                  \
      Tensor<T>&, Tensor<T>&, const Tensor<T>&, std::span<const int32_t>, RowWeights<T>, int32_t); \
  extern_ template void cross_entropy_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&,  \
                                                  const Tensor<T>&, std::span<const int32_t>,      \
                                                  RowWeights<T>, int32_t);                         \
  extern_ template void token_log_probs_forward<T>(Tensor<T>&, Tensor<T>&, const Tensor<T>&,       \
                                                   std::span<const int32_t>, int32_t);             \
  extern_ template void token_log_probs_backward<T>(Tensor<T>&, const Tensor<T>&,                  \
                                                    const Tensor<T>&, const Tensor<T>&,            \
                                                    std::span<const int32_t>, int32_t);            \
  extern_ template void soft_cross_entropy_forward<T>(Tensor<T>&, Tensor<T>&, const Tensor<T>&,    \
                                                      const Tensor<T>&, RowWeights<T>);            \
  extern_ template void soft_cross_entropy_backward<T>(Tensor<T>&, const Tensor<T>&,               \
                                                       const Tensor<T>&, const Tensor<T>&,         \
                                                       const Tensor<T>&, RowWeights<T>);           \
  extern_ template void bce_with_logits_forward<T>(Tensor<T>&, const Tensor<T>&,                   \
                                                   const Tensor<T>&);                              \
  extern_ template void bce_with_logits_backward<T>(Tensor<T>&, const Tensor<T>&,                  \
                                                    const Tensor<T>&, const Tensor<T>&);           \
  extern_ template void cross_entropy_forward<T, Tensor<int32_t>>(                                 \
      Tensor<T>&, Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&, RowWeights<T>, int32_t);   \
  extern_ template void cross_entropy_backward<T, Tensor<int32_t>>(                                \
      Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&,    \
      RowWeights<T>, int32_t);                                                                     \
  extern_ template void token_log_probs_forward<T, Tensor<int32_t>>(                               \
      Tensor<T>&, Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&, int32_t);                  \
  extern_ template void token_log_probs_backward<T, Tensor<int32_t>>(                              \
      Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&,    \
      int32_t);                                                                                    \
  extern_ template void soft_cross_entropy_forward<T, Tensor<T>>(                                  \
      Tensor<T>&, Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);               \
  extern_ template void soft_cross_entropy_backward<T, Tensor<T>>(                                 \
      Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,          \
      const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_CROSS_ENTROPY_INSTANCES)

}  // namespace tlcr
