// tlcr/autograd/fn/elementwise.hpp — differentiable add, sub, mul, div (b broadcast over a's
// leading axes, see ops/elementwise.hpp) and scale.
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/elementwise.hpp"

namespace tlcr {

template <class T, class D>
Var<T, D> binary(BinaryOp op, const Var<T, D>& a, const Var<T, D>& b) {
  auto out = Tensor<T, D>::uninitialized(a.shape());
  binary_forward(op, out, a.value(), b.value());
  return record<T, D>(
      binary_op_name(op), std::move(out), {a, b}, [op, a, b](const Tensor<T, D>& d_out) {
        binary_backward(op, a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(), b.value());
      });
}

template <class T, class D>
Var<T, D> add(const Var<T, D>& a, const Var<T, D>& b) {
  return binary(BinaryOp::Add, a, b);
}
template <class T, class D>
Var<T, D> sub(const Var<T, D>& a, const Var<T, D>& b) {
  return binary(BinaryOp::Sub, a, b);
}
template <class T, class D>
Var<T, D> mul(const Var<T, D>& a, const Var<T, D>& b) {
  return binary(BinaryOp::Mul, a, b);
}
template <class T, class D>
Var<T, D> div(const Var<T, D>& a, const Var<T, D>& b) {
  return binary(BinaryOp::Div, a, b);
}

// factor · x
template <class T, class D>
Var<T, D> scale(const Var<T, D>& x, T factor) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  scale_forward(out, x.value(), factor);
  return record<T, D>("scale", std::move(out), {x}, [x, factor](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) scale_backward(*d_x, d_out, factor);
  });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_ELEMENTWISE_INSTANCES(extern_, T)                                 \
  extern_ template Var<T> binary<T, Cpu>(BinaryOp, const Var<T>&, const Var<T>&); \
  extern_ template Var<T> add<T, Cpu>(const Var<T>&, const Var<T>&);              \
  extern_ template Var<T> sub<T, Cpu>(const Var<T>&, const Var<T>&);              \
  extern_ template Var<T> mul<T, Cpu>(const Var<T>&, const Var<T>&);              \
  extern_ template Var<T> div<T, Cpu>(const Var<T>&, const Var<T>&);              \
  extern_ template Var<T> scale<T, Cpu>(const Var<T>&, T);
TLCR_DECLARE_INSTANCES(TLCR_FN_ELEMENTWISE_INSTANCES)

}  // namespace tlcr
