// tlcr/nn/norm.hpp — normalisation modules, the `Norm` policy of a transformer block:
// LayerNorm (weight + bias, GPT-2) and RmsNorm (weight only, Llama). Both normalise the last axis.
// Not here: the fused kernels (ops/norm.hpp).
// Shape legend: x (…, C) → (…, C).
#pragma once

#include <string>

#include "tlcr/autograd/fn/norm.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

template <class T, class D = Cpu>
struct LayerNorm {
  Var<T, D> weight, bias;
  T epsilon = T(1e-5);

  LayerNorm() = default;
  LayerNorm(ParameterStore<T, D>& store, const std::string& name, int64_t width, double eps)
      : weight(store.add(name + ".weight", Shape{width}, ParamGroup::NoDecay)),
        bias(store.add(name + ".bias", Shape{width}, ParamGroup::NoDecay)),
        epsilon(T(eps)) {}

  Var<T, D> operator()(const Var<T, D>& x) const { return layernorm(x, weight, bias, epsilon); }
};

template <class T, class D = Cpu>
struct RmsNorm {
  Var<T, D> weight;
  T epsilon = T(1e-6);

  RmsNorm() = default;
  RmsNorm(ParameterStore<T, D>& store, const std::string& name, int64_t width, double eps)
      : weight(store.add(name + ".weight", Shape{width}, ParamGroup::NoDecay)), epsilon(T(eps)) {}

  Var<T, D> operator()(const Var<T, D>& x) const { return rmsnorm(x, weight, epsilon); }
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_NORM_INSTANCES(extern_, T)   \
  extern_ template struct LayerNorm<T, Cpu>; \
  extern_ template struct RmsNorm<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_NORM_INSTANCES)

}  // namespace tlcr
