// tlcr/ops/rope.hpp — rotary position embedding (RoPE) applied to queries or keys.
//
// Each head vector x (D) is split into halves (x₁ = x[0:D/2], x₂ = x[D/2:D]) — the "rotate half"
// layout Llama checkpoints use — and pair i is rotated by the angle pos · θ^(−2i/D):
//   out₁ = x₁·cos − x₂·sin,   out₂ = x₂·cos + x₁·sin.
// Positions come per (batch, time) so left-padded rows can start counting at their first real token.
// The rotation is orthogonal, so backward rotates the gradient by the negative angle.
// Not here: the attention itself (ops/attention.hpp).
// Shape legend: B = batch, H = heads, T = time, D = head size (even).
#pragma once

#include <cmath>
#include <span>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
// Rotates x (B,H,T,D) by +angle (sign = +1) or −angle (sign = −1), accumulating when `add` is set.
template <class T>
void rope_rotate(Tensor<T>& out, const Tensor<T>& x, std::span<const int32_t> positions,
                 double theta, int sign, bool add) {
  const Shape& s = x.shape();
  TLCR_CHECK(s.rank == 4 && s.dims[3] % 2 == 0, "rope: expected x (B,H,T,D) with even D, got ",
             s.str());
  const int64_t batch = s.dims[0], heads = s.dims[1], time = s.dims[2], dim = s.dims[3],
                half = dim / 2;
  TLCR_CHECK(static_cast<int64_t>(positions.size()) == batch * time, "rope: expected ",
             batch * time, " positions (B·T), got ", positions.size());
  const T* px = x.data();
  T* po = out.data();
  parallel_for(0, batch * heads, 1, [&](int64_t bh0, int64_t bh1) {
    for (int64_t bh = bh0; bh < bh1; ++bh) {
      const int64_t b = bh / heads;
      for (int64_t t = 0; t < time; ++t) {
        const double pos = positions[b * time + t];
        const T* xr = px + (bh * time + t) * dim;
        T* orow = po + (bh * time + t) * dim;
        for (int64_t i = 0; i < half; ++i) {
          const double angle = pos * std::pow(theta, -2.0 * double(i) / double(dim));
          const T c = T(std::cos(angle)), sn = T(sign * std::sin(angle));
          const T first = xr[i] * c - xr[i + half] * sn;
          const T second = xr[i + half] * c + xr[i] * sn;
          if (add) {
            orow[i] += first;
            orow[i + half] += second;
          } else {
            orow[i] = first;
            orow[i + half] = second;
          }
        }
      }
    }
  });
}
}  // namespace detail

// out (B,H,T,D) = rotate(x, positions (B·T)).
template <class T>
void rope_forward(Tensor<T>& out, const Tensor<T>& x, std::span<const int32_t> positions,
                  double theta = 10000.0) {
  check_same_shape("rope", out.shape(), x.shape(), "out", "x");
  detail::rope_rotate(out, x, positions, theta, +1, false);
}

// forward: out = R(pos)·x with R orthogonal → d x += R(pos)ᵀ·d out = R(−pos)·d out.
template <class T>
void rope_backward(Tensor<T>& d_x, const Tensor<T>& d_out, std::span<const int32_t> positions,
                   double theta = 10000.0) {
  detail::rope_rotate(d_x, d_out, positions, theta, -1, true);
}

// The same with the positions in a tensor on x's device: positions (B·T) of int32.
template <class T>
void rope_forward(Tensor<T>& out, const Tensor<T>& x, const Tensor<int32_t>& positions,
                  double theta = 10000.0) {
  rope_forward(out, x, std::span<const int32_t>(positions.data(), positions.numel()), theta);
}
template <class T>
void rope_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<int32_t>& positions,
                   double theta = 10000.0) {
  rope_backward(d_x, d_out, std::span<const int32_t>(positions.data(), positions.numel()), theta);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(rope_forward, rope_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_ROPE_INSTANCES(extern_, T)                                                      \
  extern_ template void rope_forward<T>(Tensor<T>&, const Tensor<T>&, std::span<const int32_t>,  \
                                        double);                                                 \
  extern_ template void rope_backward<T>(Tensor<T>&, const Tensor<T>&, std::span<const int32_t>, \
                                         double);                                                \
  extern_ template void rope_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&,    \
                                        double);                                                 \
  extern_ template void rope_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&,   \
                                         double);
TLCR_DECLARE_INSTANCES(TLCR_OPS_ROPE_INSTANCES)

}  // namespace tlcr
