// tlcr/train/train_step.hpp — the one optimizer step every trainer takes.
//
//   train_step(loss, params, optimizer, lr, max_norm, where):
//     backward(loss) → check_finite_grads → clip_grad_norm(max_norm) → optimizer.step(lr),
//     the check and the clipping sharing one read of Σ g² (optim/clip.hpp)
//   apply_gradients(params, optimizer, lr, max_norm, where): the same without the backward, for
//     trainers whose gradients come from several backward passes (gradient accumulation) or whose
//     one loss feeds several models (PPO's policy and separate critic).
// Both return the global gradient norm before clipping. A NaN or ±Inf gradient stops the run with
// an error naming `where` and the parameter at fault, before anything is stepped.
// Written over any parameter store, optimizer and loss handle (ParameterStore, AdamW / Sgd, Var of
// any scalar and device), so every trainer shares it unchanged.
// Not here: the loss, zeroing the gradients, schedules (each trainer owns those).
#pragma once

#include <string>

#include "tlcr/autograd/var.hpp"
#include "tlcr/optim/clip.hpp"

namespace tlcr {

template <class Params, class Optimizer>
double apply_gradients(Params& params, Optimizer& optimizer, double lr, double max_norm,
                       const std::string& where) {
  const double norm = check_and_clip_grad_norm(params, max_norm, where);  // one download
  optimizer.step(lr);
  return norm;
}

template <class Loss, class Params, class Optimizer>
double train_step(const Loss& loss, Params& params, Optimizer& optimizer, double lr,
                  double max_norm, const std::string& where) {
  backward(loss);
  return apply_gradients(params, optimizer, lr, max_norm, where);
}

}  // namespace tlcr
