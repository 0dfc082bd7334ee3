// tlcr/autograd/fn/matmul.hpp — differentiable matmul and batched_matmul (wrappers over
// ops/matmul). Shapes as in ops/matmul.hpp: a (…,K) · b (K,N) → (…,N); batched a (…,M,K) · b
// (…,K,N) → (…,M,N).
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/matmul.hpp"

namespace tlcr {

template <class T, class D>
Var<T, D> matmul(const Var<T, D>& a, const Var<T, D>& b, bool transpose_a = false,
                 bool transpose_b = false) {
  auto out = Tensor<T, D>::uninitialized(
      matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b));
  matmul_forward(out, a.value(), b.value(), transpose_a, transpose_b);
  return record<T, D>("matmul", std::move(out), {a, b},
                      [a, b, transpose_a, transpose_b](const Tensor<T, D>& d_out) {
                        matmul_backward(a.grad_if_needed(), b.grad_if_needed(), d_out, a.value(),
                                        b.value(), transpose_a, transpose_b);
                      });
}

template <class T, class D>
Var<T, D> batched_matmul(const Var<T, D>& a, const Var<T, D>& b, bool transpose_a = false,
                         bool transpose_b = false) {
  auto out = Tensor<T, D>::uninitialized(
      batched_matmul_output_shape(a.shape(), b.shape(), transpose_a, transpose_b));
  batched_matmul_forward(out, a.value(), b.value(), transpose_a, transpose_b);
  return record<T, D>("batched_matmul", std::move(out), {a, b},
                      [a, b, transpose_a, transpose_b](const Tensor<T, D>& d_out) {
                        batched_matmul_backward(a.grad_if_needed(), b.grad_if_needed(), d_out,
                                                a.value(), b.value(), transpose_a, transpose_b);
                      });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_MATMUL_INSTANCES(extern_, T)                                        \
  extern_ template Var<T> matmul<T, Cpu>(const Var<T>&, const Var<T>&, bool, bool); \
  extern_ template Var<T> batched_matmul<T, Cpu>(const Var<T>&, const Var<T>&, bool, bool);
TLCR_DECLARE_INSTANCES(TLCR_FN_MATMUL_INSTANCES)

}  // namespace tlcr
