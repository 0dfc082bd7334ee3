// tlcr/optim/adamw.hpp — AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, over the
// flat buffers of a ParameterStore.
//
// Step t = 1, 2, … updates every flat element i (g = gradient, p = value, m and v start at 0):
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   m̂ = m / (1 − β1^t)            bias corrections: early m and v are pulled toward 0
//   v̂ = v / (1 − β2^t)
//   p ← p − lr·(m̂ / (√v̂ + ε) + λ·p)     λ = weight_decay for ParamGroup::Decay elements, else 0
// The decay term is "decoupled": it shrinks p directly instead of being added to g, so it is not
// rescaled by √v̂. Same update as PyTorch's torch.optim.AdamW. Every element is independent, so
// the parallel loop gives the same bits for any thread count.
// The state (t, m, v) can be read out and restored for checkpoints; a restored optimiser continues
// bitwise identically.
// The loop itself is the adamw_update kernel (ops/optimizer_updates.hpp), one per device.
// Not here: the learning-rate schedule (schedule.hpp) or gradient clipping (clip.hpp).
// Shape legend: N = store.numel(); values, grads, m and v are all (N).
#pragma once

#include <algorithm>
#include <cmath>

#include "tlcr/nn/parameter_store.hpp"
#include "tlcr/ops/optimizer_updates.hpp"

namespace tlcr {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

// Everything AdamW remembers between steps.
template <class T, class D = Cpu>
struct AdamWState {
  int64_t step = 0;  // updates taken so far (t of the last update)
  Tensor<T, D> m;    // (N) first-moment estimate
  Tensor<T, D> v;    // (N) second-moment estimate
};

template <class T, class D = Cpu>
class AdamW {
 public:
  AdamW(ParameterStore<T, D>& store, AdamWOptions options) : store_(&store), options_(options) {
    TLCR_CHECK(store.finalized(), "AdamW: the ParameterStore must be finalized first");
    TLCR_CHECK(options.beta1 >= 0 && options.beta1 < 1, "AdamW: expected beta1 in [0, 1), got ",
               options.beta1);
    TLCR_CHECK(options.beta2 >= 0 && options.beta2 < 1, "AdamW: expected beta2 in [0, 1), got ",
               options.beta2);
    TLCR_CHECK(options.eps > 0, "AdamW: expected eps > 0, got ", options.eps);
    TLCR_CHECK(options.weight_decay >= 0, "AdamW: expected weight_decay >= 0, got ",
               options.weight_decay);
    state_.m = Tensor<T, D>(Shape{store.numel()});
    state_.v = Tensor<T, D>(Shape{store.numel()});
  }

  // One update with options().lr, or with the given learning rate (e.g. from a schedule).
  void step() { step(options_.lr); }
  void step(double lr) {
    const int64_t t = ++state_.step;
    const T beta1 = static_cast<T>(options_.beta1);
    const T beta2 = static_cast<T>(options_.beta2);
    const T one_minus_beta1 = static_cast<T>(1 - options_.beta1);
    const T one_minus_beta2 = static_cast<T>(1 - options_.beta2);
    // The update rearranged so each element costs one square root and one division:
    //   lr·m̂/(√v̂ + ε) = step_size·m / (√v·inverse_sqrt_correction2 + ε),
    //   step_size = lr/(1 − β1^t),  inverse_sqrt_correction2 = 1/√(1 − β2^t),
    // and p − lr·λ·p = p·(1 − lr·λ) is applied as one factor.
    const T step_size = static_cast<T>(lr / (1 - std::pow(options_.beta1, double(t))));
    const T inverse_sqrt_correction2 =
        static_cast<T>(1 / std::sqrt(1 - std::pow(options_.beta2, double(t))));
    const T eps = static_cast<T>(options_.eps);
    const T decay_factor = static_cast<T>(1 - lr * options_.weight_decay);

    adamw_update(store_->values(), store_->grads(), store_->decay_mask_tensor(), state_.m, state_.v,
                 AdamWCoefficients<T>{beta1, beta2, one_minus_beta1, one_minus_beta2, step_size,
                                      inverse_sqrt_correction2, eps, decay_factor});
  }

  AdamWOptions& options() { return options_; }
  const AdamWOptions& options() const { return options_; }
  int64_t step_count() const { return state_.step; }
  const Tensor<T, D>& m() const { return state_.m; }
  const Tensor<T, D>& v() const { return state_.v; }

  // A deep copy of (t, m, v), for checkpoints.
  AdamWState<T, D> state() const { return {state_.step, state_.m.clone(), state_.v.clone()}; }
  // Restores a state taken from an optimiser over a store of the same size.
  void load_state(const AdamWState<T, D>& saved) {
    TLCR_CHECK(saved.step >= 0, "AdamW::load_state: negative step ", saved.step);
    TLCR_CHECK(saved.m.defined() && saved.v.defined(), "AdamW::load_state: m or v is missing");
    check_same_shape("AdamW::load_state", saved.m.shape(), state_.m.shape(), "saved m", "expected");
    check_same_shape("AdamW::load_state", saved.v.shape(), state_.v.shape(), "saved v", "expected");
    state_.step = saved.step;
    state_.m.copy_from(saved.m);
    state_.v.copy_from(saved.v);
  }

 private:
  ParameterStore<T, D>* store_;
  AdamWOptions options_;
  AdamWState<T, D> state_;
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPTIM_ADAMW_INSTANCES(extern_, T) extern_ template class AdamW<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_OPTIM_ADAMW_INSTANCES)

}  // namespace tlcr
