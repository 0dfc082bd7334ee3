// tlcr/autograd/fn/rope.hpp — differentiable rotary position embedding (see ops/rope.hpp).
// x (B,H,T,D), positions (B·T) → (B,H,T,D).
#pragma once

#include <vector>

#include "tlcr/autograd/kept.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/rope.hpp"

namespace tlcr {

namespace detail {
// The body of both overloads below: positions as a host span or a device tensor.
template <class T, class D, class Positions>
Var<T, D> rope_of(const Var<T, D>& x, const Positions& positions, double theta) {
  Tensor<T, D> out(x.shape());
  rope_forward(out, x.value(), positions, theta);
  return record<T, D>("rope", std::move(out), {x},
                      [x, positions = keep(positions), theta](const Tensor<T, D>& d_out) {
                        if (auto* d_x = x.grad_if_needed())
                          rope_backward(*d_x, d_out, kept(positions), theta);
                      });
}
}  // namespace detail

template <class T, class D>
Var<T, D> rope(const Var<T, D>& x, std::span<const int32_t> positions, double theta = 10000.0) {
  return detail::rope_of(x, positions, theta);
}

// The same with the positions already on x's device (held by the graph, not copied).
template <class T, class D>
Var<T, D> rope(const Var<T, D>& x, const Tensor<int32_t, D>& positions, double theta = 10000.0) {
  return detail::rope_of(x, positions, theta);
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_ROPE_INSTANCES(extern_, T)                                               \
  extern_ template Var<T> rope<T, Cpu>(const Var<T>&, std::span<const int32_t>, double); \
  extern_ template Var<T> rope<T, Cpu>(const Var<T>&, const Tensor<int32_t>&, double);
TLCR_DECLARE_INSTANCES(TLCR_FN_ROPE_INSTANCES)

}  // namespace tlcr
