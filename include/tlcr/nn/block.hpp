// tlcr/nn/block.hpp — one pre-norm transformer block, composed from policies:
//   x = x + attention(norm₁(x));  x = x + mlp(norm₂(x))
// With dropout (training): on the attention probabilities, and on both branches before the add.
// `Norm` is LayerNorm or RmsNorm, `Mlp` is GeluMlp or SwiGluMlp (nn/norm.hpp, nn/mlp.hpp); the
// attention's projection layout and rotary positions come from the architecture (models/arch.hpp).
// Not here: embeddings, the final norm, heads (models/transformer.hpp).
// Shape legend: x (B,T,C) → (B,T,C).
#pragma once

#include <string>

#include "tlcr/autograd/fn/dropout.hpp"
#include "tlcr/nn/attention.hpp"
#include "tlcr/nn/dropout.hpp"
#include "tlcr/nn/mlp.hpp"
#include "tlcr/nn/norm.hpp"

namespace tlcr {

template <class T, template <class, class> class Norm, template <class, class> class Mlp,
          class D = Cpu>
struct TransformerBlock {
  Norm<T, D> norm1, norm2;
  SelfAttention<T, D> attention;
  Mlp<T, D> mlp;

  // x (B,T,C) → (B,T,C); see SelfAttention for the cache. Dropout needs no cache.
  Var<T, D> operator()(const Var<T, D>& x, const SequenceLayout<D>& layout,
                       KvCache<T, D>* cache = nullptr, int64_t layer = 0,
                       const Dropout& drop = {}) const {
    using Site = Dropout::Site;
    const double p = drop.rates.residual;
    const Var<T, D> attended = attention(norm1(x), layout, cache, layer, drop.attention_of(layer));
    const Var<T, D> h = add(x, dropout(attended, p, drop.site_seed(Site::AttentionOutput, layer)));
    return add(h, dropout(mlp(norm2(h)), p, drop.site_seed(Site::MlpOutput, layer)));
  }
};

}  // namespace tlcr
