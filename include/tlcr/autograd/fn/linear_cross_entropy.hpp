// tlcr/autograd/fn/linear_cross_entropy.hpp — differentiable linear_cross_entropy(h, W, targets):
// the mean cross-entropy of the logits h·op(W) without ever holding them (ops/
// linear_cross_entropy.hpp). The gradients are computed during the forward pass, while each chunk
// of logits exists, and scaled by d_loss in backward. Targets (a span or an int32 tensor on h's
// device) are needed only in forward; weights are a span.
// Shape legend: h (…, C); W (C, V), or (V, C) when transpose_w; targets (N = rows of h) → rank 0.
#pragma once

#include <concepts>

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/linear_cross_entropy.hpp"

namespace tlcr {

namespace detail {
// The body of both overloads below: targets as a host span or a device tensor.
template <class T, class D, class Targets>
Var<T, D> linear_cross_entropy_of(const Var<T, D>& h, const Var<T, D>& w, bool transpose_w,
                                  const Targets& targets, RowWeights<T> weights,
                                  int32_t ignore_index) {
  Tensor<T, D> loss{Shape{}};
  const bool recording = grad_enabled() && (h.requires_grad() || w.requires_grad());
  LinearCrossEntropyGrads<T, D> unit;
  if (recording && h.requires_grad()) unit.d_h = Tensor<T, D>(h.shape());
  if (recording && w.requires_grad()) unit.d_w = Tensor<T, D>(w.shape());
  linear_cross_entropy_forward(loss, recording ? &unit : nullptr, h.value(), w.value(), transpose_w,
                               targets, weights, ignore_index);
  return record<T, D>("linear_cross_entropy", std::move(loss), {h, w},
                      [h, w, unit](const Tensor<T, D>& d_loss) {
                        // forward: loss(h, W) → d h += d_loss · ∂loss/∂h, d W += d_loss · ∂loss/∂W
                        if (auto* d_h = h.grad_if_needed())
                          accumulate_scaled(*d_h, unit.d_h, d_loss);
                        if (auto* d_w = w.grad_if_needed())
                          accumulate_scaled(*d_w, unit.d_w, d_loss);
                      });
}
}  // namespace detail

template <class T, class D>
Var<T, D> linear_cross_entropy(const Var<T, D>& h, const Var<T, D>& w, bool transpose_w,
                               std::span<const int32_t> targets, RowWeights<T> weights = {},
                               int32_t ignore_index = -100) {
  return detail::linear_cross_entropy_of(h, w, transpose_w, targets, weights, ignore_index);
}

// The same with the targets (N) in an int32 tensor on h's device (a template, so that a braced
// `{}` still means an empty span).
template <class T, class D, class Targets>
requires std::same_as<Targets, Tensor<int32_t, D>> Var<T, D> linear_cross_entropy(
    const Var<T, D>& h, const Var<T, D>& w, bool transpose_w, const Targets& targets,
    RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  return detail::linear_cross_entropy_of(h, w, transpose_w, targets, weights, ignore_index);
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_LINEAR_CROSS_ENTROPY_INSTANCES(extern_, T)                                   \
  extern_ template Var<T> linear_cross_entropy<T, Cpu>(                                      \
      const Var<T>&, const Var<T>&, bool, std::span<const int32_t>, RowWeights<T>, int32_t); \
  extern_ template Var<T> linear_cross_entropy<T, Cpu, Tensor<int32_t>>(                     \
      const Var<T>&, const Var<T>&, bool, const Tensor<int32_t>&, RowWeights<T>, int32_t);
TLCR_DECLARE_INSTANCES(TLCR_FN_LINEAR_CROSS_ENTROPY_INSTANCES)

}  // namespace tlcr
