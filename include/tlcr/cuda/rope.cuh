// tlcr/cuda/rope.cuh — ops/rope.hpp's kernels on Tensor<T, Cuda>: rotary position embedding of
// queries or keys, forward and backward (the rotation by the negative angle), with positions on
// the host (uploaded once) or on the device.
//
// One thread per rotated pair (b, h, t, i): angle = pos·θ^(−2i/D) in double, as on the CPU; CUDA's
// double cos/sin/pow are within an ulp or two of the C library's, so the rotated values agree with
// the CPU's to a float rounding, not bit for bit.
// Shape legend: x, out (B, H, T, D), D even; positions (B·T).
// Not here: the CPU kernels (ops/rope.hpp), attention.
#pragma once

#include <cmath>
#include <span>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/rope.hpp"

namespace tlcr {

namespace cuda::kernels {
// Rotates x by sign·angle into out (added when `add`).
template <class T>
__global__ void rope_kernel(T* out, const T* x, const int32_t* positions, double theta, int sign,
                            bool add, int64_t heads, int64_t time, int64_t dim, int64_t pairs) {
  const int64_t half = dim / 2;
  for (int64_t e = grid_index(); e < pairs; e += grid_stride()) {
    const int64_t i = e % half, row = e / half;  // row = (b·H + h)·T + t
    const int64_t t = row % time, b = row / (time * heads);
    const double angle =
        double(positions[b * time + t]) * ::pow(theta, -2.0 * double(i) / double(dim));
    const T c = T(cos(angle)), sn = T(sign * sin(angle));
    const T* xr = x + row * dim;
    T* orow = out + row * dim;
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
}  // namespace cuda::kernels

namespace cuda {
template <class T>
void rope_rotate(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x,
                 const Tensor<int32_t, Cuda>& positions, double theta, int sign, bool add) {
  const Shape& s = x.shape();
  TLCR_CHECK(s.rank == 4 && s.dims[3] % 2 == 0, "rope: expected x (B,H,T,D) with even D, got ",
             s.str());
  TLCR_CHECK(positions.numel() == s.dims[0] * s.dims[2], "rope: expected ", s.dims[0] * s.dims[2],
             " positions (B·T), got ", positions.numel());
  const int64_t pairs = x.numel() / 2;
  if (pairs == 0) return;
  launch("rope", kernels::rope_kernel<T>, pairs, raw(out), static_cast<const T*>(raw(x)),
         static_cast<const int32_t*>(raw(positions)), theta, sign, add, s.dims[1], s.dims[2],
         s.dims[3], pairs);
}
}  // namespace cuda

// out (B,H,T,D) = rotate(x, positions (B·T)), positions on the device.
template <class T>
void rope_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x,
                  const Tensor<int32_t, Cuda>& positions, double theta = 10000.0) {
  check_same_shape("rope", out.shape(), x.shape(), "out", "x");
  cuda::rope_rotate(out, x, positions, theta, +1, false);
}
// forward: out = R(pos)·x → d x += R(−pos)·d out.
template <class T>
void rope_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out,
                   const Tensor<int32_t, Cuda>& positions, double theta = 10000.0) {
  check_same_shape("rope_backward", d_x.shape(), d_out.shape(), "d_x", "d_out");
  cuda::rope_rotate(d_x, d_out, positions, theta, -1, true);
}
// The same with positions on the host, uploaded once.
template <class T>
void rope_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x,
                  std::span<const int32_t> positions, double theta = 10000.0) {
  rope_forward(out, x, Tensor<int32_t, Cuda>::from(Shape{int64_t(positions.size())}, positions),
               theta);
}
template <class T>
void rope_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out,
                   std::span<const int32_t> positions, double theta = 10000.0) {
  rope_backward(d_x, d_out,
                Tensor<int32_t, Cuda>::from(Shape{int64_t(positions.size())}, positions), theta);
}

}  // namespace tlcr
