// tlcr/autograd/fn/rope.hpp — differentiable rotary position embedding (see ops/rope.hpp).
// x (B,H,T,D), positions (B·T) → (B,H,T,D).
#pragma once

#include <vector>

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/rope.hpp"

namespace tlcr {

template <class T, class D>
Var<T, D> rope(const Var<T, D>& x, std::span<const int32_t> positions, double theta = 10000.0) {
  Tensor<T, D> out(x.shape());
  rope_forward(out, x.value(), positions, theta);
  std::vector<int32_t> saved_positions(positions.begin(), positions.end());
  return record<T, D>(
      "rope", std::move(out), {x},
      [x, saved_positions = std::move(saved_positions), theta](const Tensor<T, D>& d_out) {
        if (auto* d_x = x.grad_if_needed())
          rope_backward(*d_x, d_out, std::span<const int32_t>(saved_positions), theta);
      });
}

// The same with the positions already on x's device (held by the graph, not copied).
template <class T, class D>
Var<T, D> rope(const Var<T, D>& x, const Tensor<int32_t, D>& positions, double theta = 10000.0) {
  Tensor<T, D> out(x.shape());
  rope_forward(out, x.value(), positions, theta);
  return record<T, D>("rope", std::move(out), {x},
                      [x, positions, theta](const Tensor<T, D>& d_out) {
                        if (auto* d_x = x.grad_if_needed())
                          rope_backward(*d_x, d_out, positions, theta);
                      });
}

}  // namespace tlcr
