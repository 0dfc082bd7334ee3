// tlcr/autograd/fn/attention.hpp — differentiable fused causal self-attention core.
// Shapes as in ops/attention.hpp: q (B,H,Tq,D), k and v (B,H,Tk,D) → (B,H,Tq,D); key_mask (B,Tk)
// with 0 = padded key; offset = absolute position of the first query (KV-cache decoding);
// dropout on the attention probabilities (training), its mask drawn again in backward.
// Not here: projections or head splitting (the caller, e.g. nn/attention, does those).
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/attention.hpp"

namespace tlcr {

// softmax(Q·Kᵀ/√D, causal + key mask) · V. The attention probabilities are kept for backward only
// when some input needs a gradient; the key mask is not kept (backward does not read it). On a
// device with fused kernels (kFusedAttention: Cuda) a training-time call keeps out and each row's
// log-sum-exp instead, and the key mask.
namespace detail {
// Key mask: a host span (counted as one upload per call on a device) or a tensor on q's device.
template <class T, class D, class Mask>
Var<T, D> causal_attention_with(const Var<T, D>& q, const Var<T, D>& k, const Var<T, D>& v,
                                const Mask& key_mask, std::size_t key_mask_size, int64_t offset,
                                AttentionDropout dropout) {
  const AttentionSizes sizes =
      attention_sizes("causal_attention", q.shape(), k.shape(), v.shape(), key_mask_size, offset);
  const bool keep_probs =
      grad_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if constexpr (kFusedAttention<D>) {
    if (keep_probs && flash_attention_fits(sizes)) {
      // Fused kernels: backward recomputes P from out and each row's log-sum-exp (B,H,Tq), so
      // training holds O(T) per row instead of the (Tq × Tk) probabilities. They read the key
      // mask on the device, so a host mask is uploaded once here and kept for backward.
      Tensor<uint8_t, D> mask_on_device;
      if constexpr (std::same_as<Mask, Tensor<uint8_t, D>>)
        mask_on_device = key_mask;
      else if (key_mask_size > 0)
        mask_on_device = Tensor<uint8_t, D>::from(Shape{int64_t(key_mask_size)}, key_mask);
      auto out = Tensor<T, D>::uninitialized(q.shape());
      auto lse = Tensor<T, D>::uninitialized(Shape{sizes.batch, sizes.heads, sizes.queries});
      flash_attention_forward(out, lse, q.value(), k.value(), v.value(), mask_on_device, offset,
                              dropout);
      const Tensor<T, D> kept_out = out;  // shares storage: backward reads forward's output
      return record<T, D>(
          "causal_attention", std::move(out), {q, k, v},
          [q, k, v, kept_out, lse, mask_on_device, offset, dropout](const Tensor<T, D>& d_out) {
            flash_attention_backward(q.grad_if_needed(), k.grad_if_needed(), v.grad_if_needed(),
                                     d_out, kept_out, lse, q.value(), k.value(), v.value(),
                                     mask_on_device, offset, dropout);
          });
    }
  }
  auto out = Tensor<T, D>::uninitialized(q.shape());
  Tensor<T, D> probs =
      keep_probs ? Tensor<T, D>::uninitialized(sizes.probs_shape()) : Tensor<T, D>();
  causal_attention_forward(out, keep_probs ? &probs : nullptr, q.value(), k.value(), v.value(),
                           key_mask, offset, dropout);
  return record<T, D>("causal_attention", std::move(out), {q, k, v},
                      [q, k, v, probs, offset, dropout](const Tensor<T, D>& d_out) {
                        causal_attention_backward(q.grad_if_needed(), k.grad_if_needed(),
                                                  v.grad_if_needed(), d_out, probs, q.value(),
                                                  k.value(), v.value(), offset, dropout);
                      });
}
}  // namespace detail

template <class T, class D>
Var<T, D> causal_attention(const Var<T, D>& q, const Var<T, D>& k, const Var<T, D>& v,
                           std::span<const uint8_t> key_mask = {}, int64_t offset = 0,
                           AttentionDropout dropout = {}) {
  return detail::causal_attention_with(q, k, v, key_mask, key_mask.size(), offset, dropout);
}
// The same with the key mask on q's device, (B·Tk) bytes; undefined = no padding. (A template in
// Mask, so that a braced `{}` mask still means the empty span above.)
template <class T, class D, class Mask>
requires std::same_as<Mask, Tensor<uint8_t, D>> Var<T, D> causal_attention(
    const Var<T, D>& q, const Var<T, D>& k, const Var<T, D>& v, const Mask& key_mask,
    int64_t offset = 0, AttentionDropout dropout = {}) {
  return detail::causal_attention_with(
      q, k, v, key_mask, key_mask.defined() ? std::size_t(key_mask.numel()) : 0, offset, dropout);
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_ATTENTION_INSTANCES(extern_, T)                                                 \
  extern_ template Var<T> causal_attention<T, Cpu>(const Var<T>&, const Var<T>&, const Var<T>&, \
                                                   std::span<const uint8_t>, int64_t,           \
                                                   AttentionDropout);                           \
  extern_ template Var<T> causal_attention<T, Cpu, Tensor<uint8_t>>(                            \
      const Var<T>&, const Var<T>&, const Var<T>&, const Tensor<uint8_t>&, int64_t,             \
      AttentionDropout);
TLCR_DECLARE_INSTANCES(TLCR_FN_ATTENTION_INSTANCES)

}  // namespace tlcr
