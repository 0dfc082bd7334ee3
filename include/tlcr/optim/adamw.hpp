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
// Not here: the learning-rate schedule (schedule.hpp) or gradient clipping (clip.hpp).
// Shape legend: N = store.numel(); values, grads, m and v are all (N).
#pragma once

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "tlcr/core/parallel.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

// Everything AdamW remembers between steps.
template <class T>
struct AdamWState {
  int64_t step = 0;  // updates taken so far (t of the last update)
  Tensor<T> m;       // (N) first-moment estimate
  Tensor<T> v;       // (N) second-moment estimate
};

template <class T>
class AdamW {
 public:
  AdamW(ParameterStore<T>& store, AdamWOptions options) : store_(&store), options_(options) {
    TLCR_CHECK(store.finalized(), "AdamW: the ParameterStore must be finalized first");
    TLCR_CHECK(options.beta1 >= 0 && options.beta1 < 1, "AdamW: expected beta1 in [0, 1), got ",
               options.beta1);
    TLCR_CHECK(options.beta2 >= 0 && options.beta2 < 1, "AdamW: expected beta2 in [0, 1), got ",
               options.beta2);
    TLCR_CHECK(options.eps > 0, "AdamW: expected eps > 0, got ", options.eps);
    TLCR_CHECK(options.weight_decay >= 0, "AdamW: expected weight_decay >= 0, got ",
               options.weight_decay);
    state_.m = Tensor<T>(Shape{store.numel()});
    state_.v = Tensor<T>(Shape{store.numel()});
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

    T* values = store_->values().data();
    const T* grads = store_->grads().data();
    const uint8_t* decays = store_->decay_mask().data();
    T* m = state_.m.data();
    T* v = state_.v.data();
    // Eigen array expressions, because they vectorise the square root: a plain loop calling
    // std::sqrt does not (the call may set errno, so GCC keeps it scalar).
    using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
    using Mask = Eigen::Array<uint8_t, Eigen::Dynamic, 1>;
    parallel_for(0, store_->numel(), kGrain, [&](int64_t chunk_begin, int64_t chunk_end) {
      // Blocks small enough that m and v are still in L1 when the parameter update reads them.
      for (int64_t begin = chunk_begin; begin < chunk_end; begin += kBlock) {
        const int64_t n = std::min(kBlock, chunk_end - begin);
        Eigen::Map<Array> value(values + begin, n), first(m + begin, n), second(v + begin, n);
        const Eigen::Map<const Array> grad(grads + begin, n);
        const Eigen::Map<const Mask> decayed(decays + begin, n);
        first = beta1 * first + one_minus_beta1 * grad;
        second = beta2 * second + one_minus_beta2 * grad * grad;
        const auto keep = (decayed != 0).select(Array::Constant(n, decay_factor), Array::Ones(n));
        value = value * keep - step_size * first / (second.sqrt() * inverse_sqrt_correction2 + eps);
      }
    });
  }

  AdamWOptions& options() { return options_; }
  const AdamWOptions& options() const { return options_; }
  int64_t step_count() const { return state_.step; }
  const Tensor<T>& m() const { return state_.m; }
  const Tensor<T>& v() const { return state_.v; }

  // A deep copy of (t, m, v), for checkpoints.
  AdamWState<T> state() const { return {state_.step, state_.m.clone(), state_.v.clone()}; }
  // Restores a state taken from an optimiser over a store of the same size.
  void load_state(const AdamWState<T>& saved) {
    TLCR_CHECK(saved.step >= 0, "AdamW::load_state: negative step ", saved.step);
    TLCR_CHECK(saved.m.defined() && saved.v.defined(), "AdamW::load_state: m or v is missing");
    check_same_shape("AdamW::load_state", saved.m.shape(), state_.m.shape(), "saved m", "expected");
    check_same_shape("AdamW::load_state", saved.v.shape(), state_.v.shape(), "saved v", "expected");
    state_.step = saved.step;
    state_.m.copy_from(saved.m);
    state_.v.copy_from(saved.v);
  }

 private:
  static constexpr int64_t kGrain = 1 << 15;
  static constexpr int64_t kBlock = 512;

  ParameterStore<T>* store_;
  AdamWOptions options_;
  AdamWState<T> state_;
};

}  // namespace tlcr
