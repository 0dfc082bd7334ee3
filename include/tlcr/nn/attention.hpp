// tlcr/nn/attention.hpp — causal multi-head self-attention as a module, with an optional KV cache.
//
// q, k, v come from one fused projection (GPT-2 "c_attn", (C, 3C)) or three (Llama q/k/v_proj);
// rotary positions rotate q and k when the architecture asks for them; the fused kernel in
// ops/attention.hpp does softmax(q·kᵀ/√D + causal & padding mask)·v; the heads are merged and
// projected back ("c_proj" / "o_proj"). probabilities() spells out the softmax the kernel fuses,
// for looking at (attention-based credit reads it).
// Not here: the kernel itself; the cache storage (nn/kv_cache.hpp).
// Shape legend: x (B,T,C) → (B,T,C); H heads of size D = C/H; Hkv key/value heads (H/Hkv query
// heads share each one: grouped-query attention; the cache holds keys/values repeated to H heads).
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "tlcr/autograd/fn/attention.hpp"
#include "tlcr/autograd/fn/heads.hpp"
#include "tlcr/autograd/fn/rope.hpp"
#include "tlcr/nn/kv_cache.hpp"
#include "tlcr/nn/linear.hpp"

namespace tlcr {

// What one forward pass needs besides x: padding and positions of every row.
// Where the rows' real tokens are, on the model's device (uploaded once per forward pass).
template <class D = Cpu>
struct SequenceLayout {
  Tensor<uint8_t, D> key_mask;  // (B·T) 1 real, 0 padding; with a cache (B·capacity); or undefined
  Tensor<int32_t, D> positions;  // (B·T): position of each new token (rotary only)
};

template <class T, class D = Cpu>
struct SelfAttention {
  bool fused_qkv = true;
  bool rotary = false;
  int64_t heads = 1;
  int64_t kv_heads = 1;  // key/value heads; fewer than heads: grouped-query attention
  double rope_theta = 10000.0;
  Linear<T, D> qkv;      // fused: (C, 3C)
  Linear<T, D> q, k, v;  // separate: q (C, C); k, v (C, Hkv·D)
  Linear<T, D> out;

  SelfAttention() = default;
  // GPT-2 names: <prefix>c_attn, <prefix>c_proj. Llama names: <prefix>{q,k,v,o}_proj.
  // kv_heads < n_heads: grouped-query attention (separate projections only); 0 → n_heads.
  SelfAttention(ParameterStore<T, D>& store, const std::string& prefix, int64_t width,
                int64_t n_heads, bool fused, bool use_bias, bool use_rotary, double theta,
                int64_t n_kv_heads = 0)
      : fused_qkv(fused),
        rotary(use_rotary),
        heads(n_heads),
        kv_heads(n_kv_heads > 0 ? n_kv_heads : n_heads),
        rope_theta(theta) {
    TLCR_CHECK(!fused || kv_heads == heads,
               "SelfAttention: grouped-query attention needs separate q/k/v projections");
    const int64_t kv_width = width / heads * kv_heads;
    if (fused) {
      qkv = Linear<T, D>(store, prefix + "c_attn", width, 3 * width, use_bias);
      out = Linear<T, D>(store, prefix + "c_proj", width, width, use_bias);
    } else {
      q = Linear<T, D>(store, prefix + "q_proj", width, width, use_bias, WeightLayout::OutIn);
      k = Linear<T, D>(store, prefix + "k_proj", width, kv_width, use_bias, WeightLayout::OutIn);
      v = Linear<T, D>(store, prefix + "v_proj", width, kv_width, use_bias, WeightLayout::OutIn);
      out = Linear<T, D>(store, prefix + "o_proj", width, width, use_bias, WeightLayout::OutIn);
    }
  }

  // q, k and v of x (B,T,C), each (B,H,T,D): rotated when rotary, keys and values repeated to H
  // heads under grouped-query attention.
  struct Projected {
    Var<T, D> q, k, v;
  };
  Projected project(const Var<T, D>& x, const SequenceLayout<D>& layout) const {
    Var<T, D> qh, kh, vh;
    if (fused_qkv) {
      auto parts = split_heads(qkv(x), 3, heads);
      qh = parts[0], kh = parts[1], vh = parts[2];
    } else {
      qh = split_heads(q(x), 1, heads)[0];
      kh = split_heads(k(x), 1, kv_heads)[0];
      vh = split_heads(v(x), 1, kv_heads)[0];
    }
    if (rotary) {
      qh = rope(qh, layout.positions, rope_theta);
      kh = rope(kh, layout.positions, rope_theta);
    }
    if (kv_heads !=
        heads) {  // each group of heads / kv_heads query heads shares one key/value head
      kh = repeat_heads(kh, heads / kv_heads);
      vh = repeat_heads(vh, heads / kv_heads);
    }
    return {qh, kh, vh};
  }

  // x (B,T,C) → (B,T,C). With a cache, x holds only the new steps; their keys/values are appended
  // to layer `layer` of the cache and attention covers cached + new keys. `dropout` acts on the
  // attention probabilities (training, no cache).
  Var<T, D> operator()(const Var<T, D>& x, const SequenceLayout<D>& layout,
                       KvCache<T, D>* cache = nullptr, int64_t layer = 0,
                       AttentionDropout dropout = {}) const {
    const auto [qh, kh, vh] = project(x, layout);  // (B,H,T,D) each
    Var<T, D> y;
    if (cache) {  // inference only: keys and values of earlier steps come from the cache
      const int64_t offset = cache->length();
      cache->append(layer, kh.value(), vh.value());
      y = causal_attention(qh, constant(cache->keys(layer)), constant(cache->values(layer)),
                           layout.key_mask, offset);
    } else {
      y = causal_attention(qh, kh, vh, layout.key_mask, 0, dropout);
    }
    return out(merge_heads(y));
  }

  // The attention probabilities of x (B,T,C), (B,H,T,T): row i of head h is softmax over the keys
  // j ≤ i that are not padding of q_i·k_j/√D, and 0 at every other key — what the fused kernel
  // computes and never stores. For inspection (attention-based credit, rlhf/spread_reward.hpp):
  // no cache, no dropout, no gradient; q and k come down once and the softmax runs on the host in
  // double. A query with no key to attend to (a padded row's start) gets a row of zeros.
  Tensor<T, D> probabilities(const Var<T, D>& x, const SequenceLayout<D>& layout) const {
    NoGrad no_grad;
    const Projected p = project(x, layout);
    const Tensor<T> qs = p.q.value().to_host(), ks = p.k.value().to_host();
    const int64_t B = qs.shape()[0], H = qs.shape()[1], T_ = qs.shape()[2], Dh = qs.shape()[3];
    std::vector<uint8_t> real(B * T_, 1);
    if (layout.key_mask.defined()) real = layout.key_mask.to_vector();
    TLCR_CHECK(int64_t(real.size()) == B * T_, "SelfAttention::probabilities: a key mask of ",
               real.size(), " entries for ", B, "×", T_, " tokens (a cache's mask does not fit)");
    std::vector<T> probs(B * H * T_ * T_, T(0));
    const double inv_sqrt_d = 1.0 / std::sqrt(double(Dh));
    std::vector<double> logits(T_);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < T_; ++i) {
          const T* qi = qs.data() + ((b * H + h) * T_ + i) * Dh;
          double top = -INFINITY;
          for (int64_t j = 0; j <= i; ++j) {
            if (!real[b * T_ + j]) continue;
            const T* kj = ks.data() + ((b * H + h) * T_ + j) * Dh;
            double dot = 0;
            for (int64_t d = 0; d < Dh; ++d) dot += double(qi[d]) * double(kj[d]);
            logits[j] = dot * inv_sqrt_d;
            top = std::max(top, logits[j]);
          }
          if (top == -INFINITY) continue;  // nothing to attend to
          double total = 0;
          for (int64_t j = 0; j <= i; ++j)
            if (real[b * T_ + j]) total += (logits[j] = std::exp(logits[j] - top));
          T* row = probs.data() + ((b * H + h) * T_ + i) * T_;
          for (int64_t j = 0; j <= i; ++j)
            if (real[b * T_ + j]) row[j] = T(logits[j] / total);
        }
    return Tensor<T, D>::from(Shape{B, H, T_, T_}, probs);
  }
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_ATTENTION_INSTANCES(extern_, T) extern_ template struct SelfAttention<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_ATTENTION_INSTANCES)

}  // namespace tlcr
