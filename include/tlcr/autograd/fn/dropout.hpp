// tlcr/autograd/fn/dropout.hpp — differentiable inverted dropout (see ops/dropout.hpp).
// Shape: out has x's shape.
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/dropout.hpp"

namespace tlcr {

// Drops each element of x with probability p and scales the rest by 1/(1−p), the mask drawn from
// `seed` (the same seed, the same mask). With p = 0 it returns x itself.
template <class T, class D>
Var<T, D> dropout(const Var<T, D>& x, double p, uint64_t seed) {
  check_dropout_probability(p);
  if (p == 0) return x;
  Tensor<T, D> mask(x.shape());
  dropout_mask(mask, p, seed);
  Tensor<T, D> out(x.shape());
  dropout_forward(out, x.value(), mask);
  return record<T, D>("dropout", std::move(out), {x}, [x, mask](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) dropout_backward(*d_x, d_out, mask);
  });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_DROPOUT_INSTANCES(extern_, T) \
  extern_ template Var<T> dropout<T, Cpu>(const Var<T>&, double, uint64_t);
TLCR_DECLARE_INSTANCES(TLCR_FN_DROPOUT_INSTANCES)

}  // namespace tlcr
