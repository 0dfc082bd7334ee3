// tlcr/autograd/fn/unary.hpp — differentiable pointwise functions: exp, log, tanh, sigmoid, relu,
// gelu (tanh approximation), silu, neg, square, sqrt. Output shape = input shape.
// The math lives in ops/unary.hpp; unary<Fn>(x) wraps any pointwise:: policy.
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/unary.hpp"

namespace tlcr {

// Fn::value applied to every element of x; Fn is a policy from tlcr::pointwise.
template <class Fn, class T, class D>
Var<T, D> unary(const Var<T, D>& x) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  unary_forward<Fn>(out, x.value());
  // The closure keeps a view of the output: exp, tanh, sigmoid and sqrt differentiate through it.
  return record<T, D>(Fn::name, out, {x}, [x, out](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) unary_backward<Fn>(*d_x, d_out, x.value(), out);
  });
}

template <class T, class D>
Var<T, D> exp(const Var<T, D>& x) {
  return unary<pointwise::Exp>(x);
}
template <class T, class D>
Var<T, D> log(const Var<T, D>& x) {
  return unary<pointwise::Log>(x);
}
template <class T, class D>
Var<T, D> tanh(const Var<T, D>& x) {
  return unary<pointwise::Tanh>(x);
}
template <class T, class D>
Var<T, D> sigmoid(const Var<T, D>& x) {
  return unary<pointwise::Sigmoid>(x);
}
template <class T, class D>
Var<T, D> relu(const Var<T, D>& x) {
  return unary<pointwise::Relu>(x);
}
template <class T, class D>
Var<T, D> gelu(const Var<T, D>& x) {
  return unary<pointwise::Gelu>(x);
}
template <class T, class D>
Var<T, D> silu(const Var<T, D>& x) {
  return unary<pointwise::Silu>(x);
}
template <class T, class D>
Var<T, D> neg(const Var<T, D>& x) {
  return unary<pointwise::Neg>(x);
}
template <class T, class D>
Var<T, D> square(const Var<T, D>& x) {
  return unary<pointwise::Square>(x);
}
template <class T, class D>
Var<T, D> sqrt(const Var<T, D>& x) {
  return unary<pointwise::Sqrt>(x);
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_UNARY_INSTANCES(extern_, T)               \
  extern_ template Var<T> exp<T, Cpu>(const Var<T>&);     \
  extern_ template Var<T> log<T, Cpu>(const Var<T>&);     \
  extern_ template Var<T> tanh<T, Cpu>(const Var<T>&);    \
  extern_ template Var<T> sigmoid<T, Cpu>(const Var<T>&); \
  extern_ template Var<T> relu<T, Cpu>(const Var<T>&);    \
  extern_ template Var<T> gelu<T, Cpu>(const Var<T>&);    \
  extern_ template Var<T> silu<T, Cpu>(const Var<T>&);    \
  extern_ template Var<T> neg<T, Cpu>(const Var<T>&);     \
  extern_ template Var<T> square<T, Cpu>(const Var<T>&);  \
  extern_ template Var<T> sqrt<T, Cpu>(const Var<T>&);
TLCR_DECLARE_INSTANCES(TLCR_FN_UNARY_INSTANCES)

}  // namespace tlcr
