// tlcr/nn/block.hpp — one pre-norm transformer block, composed from policies:
//   x = x + attention(norm₁(x));  x = x + mlp(norm₂(x))
// `Norm` is LayerNorm or RmsNorm, `Mlp` is GeluMlp or SwiGluMlp (nn/norm.hpp, nn/mlp.hpp); the
// attention's projection layout and rotary positions come from the architecture (models/arch.hpp).
// Not here: embeddings, the final norm, heads (models/transformer.hpp).
// Shape legend: x (B,T,C) → (B,T,C).
#pragma once

#include <string>

#include "tlcr/nn/attention.hpp"
#include "tlcr/nn/mlp.hpp"
#include "tlcr/nn/norm.hpp"

namespace tlcr {

template <class T, template <class, class> class Norm, template <class, class> class Mlp,
          class D = Cpu>
struct TransformerBlock {
  Norm<T, D> norm1, norm2;
  SelfAttention<T, D> attention;
  Mlp<T, D> mlp;

  // x (B,T,C) → (B,T,C); see SelfAttention for the cache.
  Var<T, D> operator()(const Var<T, D>& x, const SequenceLayout<D>& layout,
                       KvCache<T, D>* cache = nullptr, int64_t layer = 0) const {
    const Var<T, D> h = add(x, attention(norm1(x), layout, cache, layer));
    return add(h, mlp(norm2(h)));
  }
};

}  // namespace tlcr
