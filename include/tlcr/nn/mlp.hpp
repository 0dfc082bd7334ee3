// tlcr/nn/mlp.hpp — the feed-forward part of a block, the `Mlp` policy:
// GeluMlp  (GPT-2):  proj(gelu(fc(x)))                      parameters c_fc, c_proj (in, out)
// SwiGluMlp (Llama): down(silu(gate(x)) ⊙ up(x))            parameters gate/up/down_proj (out, in)
// Not here: the activation kernels (ops/unary.hpp).
// Shape legend: x (…, C) → (…, C) through a hidden width F.
#pragma once

#include <string>

#include "tlcr/autograd/fn/unary.hpp"
#include "tlcr/nn/linear.hpp"

namespace tlcr {

template <class T, class D = Cpu>
struct GeluMlp {
  Linear<T, D> fc, proj;

  GeluMlp() = default;
  GeluMlp(ParameterStore<T, D>& store, const std::string& prefix, int64_t width, int64_t hidden)
      : fc(store, prefix + "c_fc", width, hidden, true),
        proj(store, prefix + "c_proj", hidden, width, true) {}

  Var<T, D> operator()(const Var<T, D>& x) const { return proj(gelu(fc(x))); }
};

template <class T, class D = Cpu>
struct SwiGluMlp {
  Linear<T, D> gate, up, down;

  SwiGluMlp() = default;
  SwiGluMlp(ParameterStore<T, D>& store, const std::string& prefix, int64_t width, int64_t hidden)
      : gate(store, prefix + "gate_proj", width, hidden, false, WeightLayout::OutIn),
        up(store, prefix + "up_proj", width, hidden, false, WeightLayout::OutIn),
        down(store, prefix + "down_proj", hidden, width, false, WeightLayout::OutIn) {}

  Var<T, D> operator()(const Var<T, D>& x) const { return down(mul(silu(gate(x)), up(x))); }
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_MLP_INSTANCES(extern_, T)  \
  extern_ template struct GeluMlp<T, Cpu>; \
  extern_ template struct SwiGluMlp<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_MLP_INSTANCES)

}  // namespace tlcr
