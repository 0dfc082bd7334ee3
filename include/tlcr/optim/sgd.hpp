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

#include "tlcr/nn/parameter_store.hpp"
#include "tlcr/ops/optimizer_updates.hpp"

namespace tlcr {

struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

template <class T, class D = Cpu>
class Sgd {
 public:
  Sgd(ParameterStore<T, D>& store, SgdOptions options) : store_(&store), options_(options) {
    TLCR_CHECK(store.finalized(), "Sgd: the ParameterStore must be finalized first");
    TLCR_CHECK(options.momentum >= 0 && options.momentum < 1,
               "Sgd: expected momentum in [0, 1), got ", options.momentum);
    TLCR_CHECK(!options.nesterov || options.momentum > 0, "Sgd: Nesterov needs momentum > 0");
    TLCR_CHECK(options.weight_decay >= 0, "Sgd: expected weight_decay >= 0, got ",
               options.weight_decay);
    velocity_ = Tensor<T, D>(Shape{store.numel()});
  }

  // One update with options().lr, or with the given learning rate (e.g. from a schedule).
  void step() { step(options_.lr); }
  void step(double lr) {
    const T learning_rate = static_cast<T>(lr);
    const T momentum = static_cast<T>(options_.momentum);
    const T weight_decay = static_cast<T>(options_.weight_decay);
    const bool nesterov = options_.nesterov;
    sgd_update(store_->values(), store_->grads(), store_->decay_mask_tensor(), velocity_,
               learning_rate, momentum, weight_decay, nesterov);
  }

  SgdOptions& options() { return options_; }
  const SgdOptions& options() const { return options_; }
  // The momentum buffer (N), e.g. for checkpoints; writable to restore one.
  Tensor<T, D>& velocity() { return velocity_; }
  const Tensor<T, D>& velocity() const { return velocity_; }

 private:
  ParameterStore<T, D>* store_;
  SgdOptions options_;
  Tensor<T, D> velocity_;
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPTIM_SGD_INSTANCES(extern_, T) extern_ template class Sgd<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_OPTIM_SGD_INSTANCES)

}  // namespace tlcr
