// tlcr/autograd/fn/norm.hpp — differentiable LayerNorm and RMSNorm over the last axis.
// x (…, C), weight (C), bias (C) → out (…, C). The math lives in ops/norm.hpp; the per-row
// statistics the forward pass saves (mean, rstd) are kept by the backward closure.
#pragma once

#include <type_traits>

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/norm.hpp"

namespace tlcr {

// (x − mean)/√(var + eps) ⊙ weight + bias, per row of x.
template <class T, class D>
Var<T, D> layernorm(const Var<T, D>& x, const Var<T, D>& weight, const Var<T, D>& bias,
                    std::type_identity_t<T> eps = T(1e-5)) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  Tensor<T, D> mean(norm_stats_shape(x.shape())), rstd(norm_stats_shape(x.shape()));
  layernorm_forward(out, mean, rstd, x.value(), weight.value(), bias.value(), eps);
  return record<T, D>("layernorm", std::move(out), {x, weight, bias},
                      [x, weight, bias, mean, rstd](const Tensor<T, D>& d_out) {
                        layernorm_backward(x.grad_if_needed(), weight.grad_if_needed(),
                                           bias.grad_if_needed(), d_out, x.value(), weight.value(),
                                           mean, rstd);
                      });
}

// x/√(mean(x²) + eps) ⊙ weight, per row of x.
template <class T, class D>
Var<T, D> rmsnorm(const Var<T, D>& x, const Var<T, D>& weight,
                  std::type_identity_t<T> eps = T(1e-5)) {
  auto out = Tensor<T, D>::uninitialized(x.shape());
  Tensor<T, D> rstd(norm_stats_shape(x.shape()));
  rmsnorm_forward(out, rstd, x.value(), weight.value(), eps);
  return record<T, D>("rmsnorm", std::move(out), {x, weight},
                      [x, weight, rstd](const Tensor<T, D>& d_out) {
                        rmsnorm_backward(x.grad_if_needed(), weight.grad_if_needed(), d_out,
                                         x.value(), weight.value(), rstd);
                      });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_NORM_INSTANCES(extern_, T)                                               \
  extern_ template Var<T> layernorm<T, Cpu>(const Var<T>&, const Var<T>&, const Var<T>&, \
                                            std::type_identity_t<T>);                    \
  extern_ template Var<T> rmsnorm<T, Cpu>(const Var<T>&, const Var<T>&, std::type_identity_t<T>);
TLCR_DECLARE_INSTANCES(TLCR_FN_NORM_INSTANCES)

}  // namespace tlcr
