// tlcr/autograd/fn/cross_entropy.hpp — differentiable losses on logits (ops/cross_entropy.hpp):
// cross_entropy (scalar), token_log_probs (one value per row), soft_cross_entropy (one loss per
// row) and bce_with_logits (elementwise). Only the logits are differentiated; targets and weights
// given as spans are copied into the backward closure, so the caller's spans need not outlive the
// call. Targets and weights given as tensors (index data already on the device) are kept by
// handle, sharing storage: leave them unchanged until backward has run.
// Shape legend: logits (…, V); N = rows = product of the leading sizes; "(…)" = logits without V.
#pragma once

#include <concepts>
#include <vector>

#include "tlcr/autograd/kept.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/cross_entropy.hpp"

namespace tlcr {

namespace detail {
// The bodies of the losses below, for targets and weights given as host spans or device tensors
// (autograd/kept.hpp).
template <class T, class D, class Targets, class Weights>
Var<T, D> cross_entropy_of(const Var<T, D>& logits, const Targets& targets, const Weights& weights,
                           int32_t ignore_index) {
  Tensor<T, D> loss{Shape{}};
  Tensor<T, D> logsumexp(Shape{logits.shape().rows()});
  cross_entropy_forward(loss, logsumexp, logits.value(), targets, weights, ignore_index);
  return record<T, D>("cross_entropy", std::move(loss), {logits},
                      [logits, logsumexp, ignore_index, targets = keep(targets),
                       weights = keep(weights)](const Tensor<T, D>& d_loss) {
                        if (auto* d_logits = logits.grad_if_needed())
                          cross_entropy_backward(*d_logits, d_loss, logits.value(), logsumexp,
                                                 kept(targets), kept(weights), ignore_index);
                      });
}
template <class T, class D, class Targets>
Var<T, D> token_log_probs_of(const Var<T, D>& logits, const Targets& targets,
                             int32_t ignore_index) {
  TLCR_CHECK(logits.shape().rank >= 1, "token_log_probs: expected logits (…, V), got a scalar");
  Tensor<T, D> out(row_shape(logits.shape()));
  Tensor<T, D> logsumexp(Shape{logits.shape().rows()});
  token_log_probs_forward(out, logsumexp, logits.value(), targets, ignore_index);
  return record<T, D>(
      "token_log_probs", std::move(out), {logits},
      [logits, logsumexp, ignore_index, targets = keep(targets)](const Tensor<T, D>& d_out) {
        if (auto* d_logits = logits.grad_if_needed())
          token_log_probs_backward(*d_logits, d_out, logits.value(), logsumexp, kept(targets),
                                   ignore_index);
      });
}
template <class T, class D, class Weights>
Var<T, D> soft_cross_entropy_of(const Var<T, D>& logits, const Tensor<T, D>& target_probs,
                                const Weights& weights) {
  TLCR_CHECK(logits.shape().rank >= 1, "soft_cross_entropy: expected logits (…, K), got a scalar");
  Tensor<T, D> out(row_shape(logits.shape()));
  Tensor<T, D> logsumexp(Shape{logits.shape().rows()});
  soft_cross_entropy_forward(out, logsumexp, logits.value(), target_probs, weights);
  return record<T, D>(
      "soft_cross_entropy", std::move(out), {logits},
      [logits, logsumexp, target_probs, weights = keep(weights)](const Tensor<T, D>& d_out) {
        if (auto* d_logits = logits.grad_if_needed())
          soft_cross_entropy_backward(*d_logits, d_out, logits.value(), logsumexp, target_probs,
                                      kept(weights));
      });
}
}  // namespace detail

// Weighted mean over non-ignored rows of −log softmax(logits)[target] → rank 0.
// All rows ignored (or all weights 0) gives 0 with a zero gradient.
template <class T, class D>
Var<T, D> cross_entropy(const Var<T, D>& logits, std::span<const int32_t> targets,
                        RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  return detail::cross_entropy_of(logits, targets, weights, ignore_index);
}

// log softmax(logits)[target] per row → (…); 0 on rows whose target is ignore_index.
template <class T, class D>
Var<T, D> token_log_probs(const Var<T, D>& logits, std::span<const int32_t> targets,
                          int32_t ignore_index = -100) {
  return detail::token_log_probs_of(logits, targets, ignore_index);
}

// The same two with the targets (N) in an int32 tensor on the logits' device (templates in the
// tensor type, so that a braced `{}` still means an empty span).
template <class T, class D, class Targets>
requires std::same_as<Targets, Tensor<int32_t, D>> Var<T, D> cross_entropy(
    const Var<T, D>& logits, const Targets& targets, RowWeights<T> weights = {},
    int32_t ignore_index = -100) {
  return detail::cross_entropy_of(logits, targets, weights, ignore_index);
}
template <class T, class D, class Targets>
requires std::same_as<Targets, Tensor<int32_t, D>> Var<T, D> token_log_probs(
    const Var<T, D>& logits, const Targets& targets, int32_t ignore_index = -100) {
  return detail::token_log_probs_of(logits, targets, ignore_index);
}

// w_i · (−Σ_k y_ik · log softmax(logits_i)_k) per row → (…). target_probs has the logits' shape.
template <class T, class D>
Var<T, D> soft_cross_entropy(const Var<T, D>& logits, const Tensor<T, D>& target_probs,
                             RowWeights<T> weights = {}) {
  return detail::soft_cross_entropy_of(logits, target_probs, weights);
}

// The same with the weights (N) in a tensor on the logits' device.
template <class T, class D, class Weights>
requires std::same_as<Weights, Tensor<T, D>> Var<T, D> soft_cross_entropy(
    const Var<T, D>& logits, const Tensor<T, D>& target_probs, const Weights& weights) {
  return detail::soft_cross_entropy_of(logits, target_probs, weights);
}

// max(x, 0) − x·y + log(1 + exp(−|x|)) elementwise → the logits' shape. targets y are constants.
template <class T, class D>
Var<T, D> bce_with_logits(const Var<T, D>& logits, const Tensor<T, D>& targets) {
  Tensor<T, D> out(logits.shape());
  bce_with_logits_forward(out, logits.value(), targets);
  return record<T, D>("bce_with_logits", std::move(out), {logits},
                      [logits, targets](const Tensor<T, D>& d_out) {
                        if (auto* d_logits = logits.grad_if_needed())
                          bce_with_logits_backward(*d_logits, d_out, logits.value(), targets);
                      });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_CROSS_ENTROPY_INSTANCES(extern_, T)                                              \
  extern_ template Var<T> cross_entropy<T, Cpu>(const Var<T>&, std::span<const int32_t>,         \
                                                RowWeights<T>, int32_t);                         \
  extern_ template Var<T> token_log_probs<T, Cpu>(const Var<T>&, std::span<const int32_t>,       \
                                                  int32_t);                                      \
  extern_ template Var<T> cross_entropy<T, Cpu, Tensor<int32_t>>(                                \
      const Var<T>&, const Tensor<int32_t>&, RowWeights<T>, int32_t);                            \
  extern_ template Var<T> token_log_probs<T, Cpu, Tensor<int32_t>>(                              \
      const Var<T>&, const Tensor<int32_t>&, int32_t);                                           \
  extern_ template Var<T> soft_cross_entropy<T, Cpu>(const Var<T>&, const Tensor<T>&,            \
                                                     RowWeights<T>);                             \
  extern_ template Var<T> soft_cross_entropy<T, Cpu, Tensor<T>>(const Var<T>&, const Tensor<T>&, \
                                                                const Tensor<T>&);               \
  extern_ template Var<T> bce_with_logits<T, Cpu>(const Var<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_FN_CROSS_ENTROPY_INSTANCES)

}  // namespace tlcr
