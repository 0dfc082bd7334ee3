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
template <class T>
Var<T> clamp(const Var<T>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  Tensor<T> out(x.shape());
  clamp_forward(out, x.value(), lo, hi);
  return record<T>("clamp", std::move(out), {x}, [x, lo, hi](const Tensor<T>& d_out) {
    if (auto* d_x = x.grad_if_needed()) clamp_backward(*d_x, d_out, x.value(), lo, hi);
  });
}

// Elementwise min(a, b); ties send the gradient to a.
template <class T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  Tensor<T> out(a.shape());
  minimum_forward(out, a.value(), b.value());
  return record<T>("minimum", std::move(out), {a, b}, [a, b](const Tensor<T>& d_out) {
    minimum_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(), b.value());
  });
}

// Elementwise max(a, b); ties send the gradient to a.
template <class T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  Tensor<T> out(a.shape());
  maximum_forward(out, a.value(), b.value());
  return record<T>("maximum", std::move(out), {a, b}, [a, b](const Tensor<T>& d_out) {
    maximum_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(), b.value());
  });
}

// a where mask = 1, b where mask = 0. The mask is a plain tensor of 0s and 1s (no gradient); it
// is copied, so the caller may reuse its buffer before backward.
template <class T>
Var<T> where(const Tensor<T>& mask, const Var<T>& a, const Var<T>& b) {
  Tensor<T> out(a.shape());
  where_forward(out, mask, a.value(), b.value());
  return record<T>("where", std::move(out), {a, b},
                   [mask = mask.clone(), a, b](const Tensor<T>& d_out) {
                     where_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, mask);
                   });
}

}  // namespace tlcr
