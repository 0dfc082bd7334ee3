// tlcr/optim/sgd.hpp — stochastic gradient descent with momentum, Nesterov momentum and L2
// weight decay, over the flat buffers of a ParameterStore.
//
// One step, for every flat element i (g = gradient, p = value, u = velocity, starts at 0):
//   g ← g + weight_decay·p          only for ParamGroup::Decay elements (coupled L2 decay)
//   u ← momentum·u + g
//   d ← g + momentum·u  (Nesterov)   or   d ← u  (classic)
//   p ← p − lr·d
// With momentum = 0 this is plain p ← p − lr·g. The same update as PyTorch's SGD with
// dampening 0. Every element is independent, so the parallel loop is deterministic.
// Not here: the learning-rate schedule (schedule.hpp) or gradient clipping (clip.hpp).
// Shape legend: N = store.numel(); values, grads and velocity are all (N).
#pragma once

#include "tlcr/core/parallel.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

template <class T>
class Sgd {
 public:
  Sgd(ParameterStore<T>& store, SgdOptions options) : store_(&store), options_(options) {
    TLCR_CHECK(store.finalized(), "Sgd: the ParameterStore must be finalized first");
    TLCR_CHECK(options.momentum >= 0 && options.momentum < 1,
               "Sgd: expected momentum in [0, 1), got ", options.momentum);
    TLCR_CHECK(!options.nesterov || options.momentum > 0, "Sgd: Nesterov needs momentum > 0");
    TLCR_CHECK(options.weight_decay >= 0, "Sgd: expected weight_decay >= 0, got ",
               options.weight_decay);
    velocity_ = Tensor<T>(Shape{store.numel()});
  }

  // One update with options().lr, or with the given learning rate (e.g. from a schedule).
  void step() { step(options_.lr); }
  void step(double lr) {
    const T learning_rate = static_cast<T>(lr);
    const T momentum = static_cast<T>(options_.momentum);
    const T weight_decay = static_cast<T>(options_.weight_decay);
    const bool nesterov = options_.nesterov;
    T* values = store_->values().data();
    const T* grads = store_->grads().data();
    const uint8_t* decays = store_->decay_mask().data();
    T* velocity = velocity_.data();
    parallel_for(0, store_->numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T g = decays[i] ? grads[i] + weight_decay * values[i] : grads[i];
        velocity[i] = momentum * velocity[i] + g;
        const T direction = nesterov ? g + momentum * velocity[i] : velocity[i];
        values[i] -= learning_rate * direction;
      }
    });
  }

  SgdOptions& options() { return options_; }
  const SgdOptions& options() const { return options_; }
  // The momentum buffer (N), e.g. for checkpoints; writable to restore one.
  Tensor<T>& velocity() { return velocity_; }
  const Tensor<T>& velocity() const { return velocity_; }

 private:
  static constexpr int64_t kGrain = 1 << 15;

  ParameterStore<T>* store_;
  SgdOptions options_;
  Tensor<T> velocity_;
};

}  // namespace tlcr
