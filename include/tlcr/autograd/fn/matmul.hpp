// tlcr/autograd/fn/matmul.hpp — differentiable matmul and batched_matmul (wrappers over
// ops/matmul). Shapes as in ops/matmul.hpp: a (…,K) · b (K,N) → (…,N); batched a (…,M,K) · b
// (…,K,N) → (…,M,N).
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/matmul.hpp"

namespace tlcr {

template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool transpose_a = false,
              bool transpose_b = false) {
  auto out =
      Tensor<T>::uninitialized(matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b));
  matmul_forward(out, a.value(), b.value(), transpose_a, transpose_b);
  return record<T>("matmul", std::move(out), {a, b},
                   [a, b, transpose_a, transpose_b](const Tensor<T>& d_out) {
                     matmul_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(),
                                     b.value(), transpose_a, transpose_b);
                   });
}

template <class T>
Var<T> batched_matmul(const Var<T>& a, const Var<T>& b, bool transpose_a = false,
                      bool transpose_b = false) {
  auto out = Tensor<T>::uninitialized(
      batched_matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b));
  batched_matmul_forward(out, a.value(), b.value(), transpose_a, transpose_b);
  return record<T>("batched_matmul", std::move(out), {a, b},
                   [a, b, transpose_a, transpose_b](const Tensor<T>& d_out) {
                     batched_matmul_backward(a.grad_if_needed(), b.grad_if_needed(), d_out,
                                             a.value(), b.value(), transpose_a, transpose_b);
                   });
}

}  // namespace tlcr
