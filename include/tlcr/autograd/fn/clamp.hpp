// tlcr/autograd/fn/clamp.hpp — differentiable clamp, minimum, maximum and where(mask, a, b).
// All tensors share one shape; see ops/clamp.hpp for which input each gradient reaches.
// PPO's clipped surrogate, for example: maximum(neg(ratio ⊙ A), neg(clamp(ratio, 1 − ε, 1 + ε) ⊙
// A)).
#pragma once

#include <type_traits>

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/clamp.hpp"

namespace tlcr {

// x limited to [lo, hi]; the gradient passes only where lo < x < hi.
template <class T, class D>
Var<T, D> clamp(const Var<T, D>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  Tensor<T, D> out(x.shape());
  clamp_forward(out, x.value(), lo, hi);
  return record<T, D>("clamp", std::move(out), {x}, [x, lo, hi](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) clamp_backward(*d_x, d_out, x.value(), lo, hi);
  });
}

// Elementwise min(a, b); ties send the gradient to a.
template <class T, class D>
Var<T, D> minimum(const Var<T, D>& a, const Var<T, D>& b) {
  Tensor<T, D> out(a.shape());
  minimum_forward(out, a.value(), b.value());
  return record<T, D>("minimum", std::move(out), {a, b}, [a, b](const Tensor<T, D>& d_out) {
    minimum_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(), b.value());
  });
}

// Elementwise max(a, b); ties send the gradient to a.
template <class T, class D>
Var<T, D> maximum(const Var<T, D>& a, const Var<T, D>& b) {
  Tensor<T, D> out(a.shape());
  maximum_forward(out, a.value(), b.value());
  return record<T, D>("maximum", std::move(out), {a, b}, [a, b](const Tensor<T, D>& d_out) {
    maximum_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(), b.value());
  });
}

// a where mask = 1, b where mask = 0. The mask is a plain tensor of 0s and 1s (no gradient); it
// is copied, so the caller may reuse its buffer before backward.
template <class T, class D>
Var<T, D> where(const Tensor<T, D>& mask, const Var<T, D>& a, const Var<T, D>& b) {
  Tensor<T, D> out(a.shape());
  where_forward(out, mask, a.value(), b.value());
  return record<T, D>("where", std::move(out), {a, b},
                      [mask = mask.clone(), a, b](const Tensor<T, D>& d_out) {
                        where_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, mask);
                      });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_CLAMP_INSTANCES(extern_, T)                                     \
  extern_ template Var<T> clamp<T, Cpu>(const Var<T>&, std::type_identity_t<T>, \
                                        std::type_identity_t<T>);               \
  extern_ template Var<T> minimum<T, Cpu>(const Var<T>&, const Var<T>&);        \
  extern_ template Var<T> maximum<T, Cpu>(const Var<T>&, const Var<T>&);        \
  extern_ template Var<T> where<T, Cpu>(const Tensor<T>&, const Var<T>&, const Var<T>&);
TLCR_DECLARE_INSTANCES(TLCR_FN_CLAMP_INSTANCES)

}  // namespace tlcr
