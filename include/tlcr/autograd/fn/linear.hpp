// tlcr/autograd/fn/linear.hpp — differentiable linear(x, w, bias): one tape node for x·op(w) + b.
// Shapes as in ops/linear.hpp: x (…, K), w (K, N) or (N, K) when transpose_w, bias (N) or
// undefined → (…, N).
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/linear.hpp"

namespace tlcr {

template <class T, class D>
Var<T, D> linear(const Var<T, D>& x, const Var<T, D>& w, const Var<T, D>& bias,
                 bool transpose_w = false) {
  auto out =
      Tensor<T, D>::uninitialized(matmul_output_shape(x.shape(), w.shape(), false, transpose_w));
  linear_forward(out, x.value(), w.value(), bias.defined() ? bias.value() : Tensor<T, D>(),
                 transpose_w);
  // The backward needs x and w, never the output: the tape keeps one (…, N) tensor, not two.
  auto backward = [x, w, bias, transpose_w](const Tensor<T, D>& d_out) {
    linear_backward(x.grad_if_needed(), w.grad_if_needed(),
                    bias.defined() ? bias.grad_if_needed() : nullptr, d_out, x.value(), w.value(),
                    transpose_w);
  };
  return record<T, D>("linear", std::move(out), {x, w, bias}, std::move(backward));
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_LINEAR_INSTANCES(extern_, T) \
  extern_ template Var<T> linear<T, Cpu>(const Var<T>&, const Var<T>&, const Var<T>&, bool);
TLCR_DECLARE_INSTANCES(TLCR_FN_LINEAR_INSTANCES)

}  // namespace tlcr
