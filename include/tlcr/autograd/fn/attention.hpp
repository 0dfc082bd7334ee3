// tlcr/autograd/fn/attention.hpp — differentiable fused causal self-attention core.
// Shapes as in ops/attention.hpp: q (B,H,Tq,D), k and v (B,H,Tk,D) → (B,H,Tq,D); key_mask (B,Tk)
// with 0 = padded key; offset = absolute position of the first query (KV-cache decoding).
// Not here: projections or head splitting (the caller, e.g. nn/attention, does those).
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/attention.hpp"

namespace tlcr {

// softmax(Q·Kᵀ/√D, causal + key mask) · V. The attention probabilities are kept for backward only
// when some input needs a gradient; the key mask is not kept (backward does not read it).
template <class T>
Var<T> causal_attention(const Var<T>& q, const Var<T>& k, const Var<T>& v,
                        std::span<const uint8_t> key_mask = {}, int64_t offset = 0) {
  const AttentionSizes sizes =
      attention_sizes("causal_attention", q.shape(), k.shape(), v.shape(), key_mask.size(), offset);
  const bool keep_probs =
      grad_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  auto out = Tensor<T>::uninitialized(q.shape());
  Tensor<T> probs = keep_probs ? Tensor<T>::uninitialized(sizes.probs_shape()) : Tensor<T>();
  causal_attention_forward(out, keep_probs ? &probs : nullptr, q.value(), k.value(), v.value(),
                           key_mask, offset);
  return record<T>("causal_attention", std::move(out), {q, k, v},
                   [q, k, v, probs, offset](const Tensor<T>& d_out) {
                     causal_attention_backward(q.grad_if_needed(), k.grad_if_needed(),
                                               v.grad_if_needed(), d_out, probs, q.value(),
                                               k.value(), v.value(), offset);
                   });
}

}  // namespace tlcr
