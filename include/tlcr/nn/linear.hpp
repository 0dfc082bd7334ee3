// tlcr/nn/linear.hpp — Linear: y = x·W (+ b), its parameters registered in a ParameterStore; the
// product and the bias are one fused op (autograd/fn/linear.hpp).
//
// Two weight layouts, so checkpoints load without copies: (in, out) — Hugging Face GPT-2's Conv1D —
// and (out, in) — torch.nn.Linear, used by Llama checkpoints. The product reads either layout
// directly through matmul's transpose flag.
// Not here: initialisation policy (the model decides), activation functions.
// Shape legend: x (…, in) → y (…, out).
#pragma once

#include <string>

#include "tlcr/autograd/fn/linear.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

enum class WeightLayout { InOut, OutIn };

template <class T, class D = Cpu>
struct Linear {
  Var<T, D> weight;  // (in, out) or (out, in), see layout
  Var<T, D> bias;    // (out), undefined when the layer has no bias
  WeightLayout layout = WeightLayout::InOut;

  Linear() = default;
  // Registers "<name>.weight" (and "<name>.bias" when use_bias).
  Linear(ParameterStore<T, D>& store, const std::string& name, int64_t in, int64_t out,
         bool use_bias, WeightLayout weight_layout = WeightLayout::InOut)
      : layout(weight_layout) {
    weight = store.add(name + ".weight",
                       layout == WeightLayout::InOut ? Shape{in, out} : Shape{out, in});
    if (use_bias) bias = store.add(name + ".bias", Shape{out}, ParamGroup::NoDecay);
  }

  // x (…, in) → (…, out)
  Var<T, D> operator()(const Var<T, D>& x) const {
    return linear(x, weight, bias, layout == WeightLayout::OutIn);
  }
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_LINEAR_INSTANCES(extern_, T) extern_ template struct Linear<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_LINEAR_INSTANCES)

}  // namespace tlcr
