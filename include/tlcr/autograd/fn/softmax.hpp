// tlcr/autograd/fn/softmax.hpp — differentiable softmax and log_softmax over the last axis.
// x (…, C) → out (…, C). The math lives in ops/softmax.hpp; backward uses only the saved output.
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/softmax.hpp"

namespace tlcr {

template <class T, class D>
Var<T, D> softmax(const Var<T, D>& x) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  softmax_forward(out, x.value());
  return record<T, D>("softmax", out, {x}, [x, out](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) softmax_backward(*d_x, d_out, out);
  });
}

template <class T, class D>
Var<T, D> log_softmax(const Var<T, D>& x) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  log_softmax_forward(out, x.value());
  return record<T, D>("log_softmax", out, {x}, [x, out](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) log_softmax_backward(*d_x, d_out, out);
  });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_SOFTMAX_INSTANCES(extern_, T)             \
  extern_ template Var<T> softmax<T, Cpu>(const Var<T>&); \
  extern_ template Var<T> log_softmax<T, Cpu>(const Var<T>&);
TLCR_DECLARE_INSTANCES(TLCR_FN_SOFTMAX_INSTANCES)

}  // namespace tlcr
