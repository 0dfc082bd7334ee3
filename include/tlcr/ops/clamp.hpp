// tlcr/ops/clamp.hpp — selection ops: clamp, elementwise minimum/maximum, and where(mask, a, b),
// forward and backward. PPO's clipped objective is built from these.
//
// Each output element is one of its inputs (or a bound), so each backward routes d_out to the
// input that was chosen:
//   clamp(x, lo, hi)   d x = d out strictly inside (lo < x < hi), 0 at or beyond a bound
//   minimum(a, b)      a where a ≤ b (ties go to a), else b
//   maximum(a, b)      a where a ≥ b (ties go to a), else b
//   where(mask, a, b)  a where mask = 1, b where mask = 0
// The mask is a Tensor<T> holding only 0 and 1 (anything else throws), so masks built by tensor
// arithmetic (response masks, padding masks) plug in directly. No gradient flows to the mask.
// Not here: broadcasting (all tensors share one shape), scalar arithmetic (ops/elementwise.hpp).
// Shape legend: x, a, b, mask, out and all gradients share one shape; N = numel.
#pragma once

#include <type_traits>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
// Calls body(i) for every flat index i, split across threads.
template <class Body>
void parallel_elements(int64_t count, Body&& body) {
  parallel_for(0, count, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) body(i);
  });
}

// Throws unless every mask element is exactly 0 or 1; names the first offender.
template <class T>
void check_binary_mask(const char* op, const Tensor<T>& mask) {
  for (int64_t i = 0; i < mask.numel(); ++i) {
    const T m = mask.data()[i];
    if (m != T(0) && m != T(1))
      fail(op, ": mask must hold only 0 and 1, found ", m, " at flat index ", i, " of shape ",
           mask.shape().str());
  }
}
}  // namespace detail

// out (N) = min(max(x, lo), hi), lo ≤ hi.
template <class T>
void clamp_forward(Tensor<T>& out, const Tensor<T>& x, std::type_identity_t<T> lo,
                   std::type_identity_t<T> hi) {
  check_same_shape("clamp", out.shape(), x.shape(), "out", "x");
  TLCR_CHECK(lo <= hi, "clamp: expected lo <= hi, got lo = ", lo, ", hi = ", hi);
  const T* px = x.data();
  T* po = out.data();
  detail::parallel_elements(
      x.numel(), [&](int64_t i) { po[i] = px[i] < lo ? lo : (px[i] > hi ? hi : px[i]); });
}

// forward: out = min(max(x, lo), hi) → d x += d out where lo < x < hi.
template <class T>
void clamp_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<T>& x,
                    std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  check_same_shape("clamp_backward", d_x.shape(), x.shape(), "d_x", "x");
  check_same_shape("clamp_backward", d_out.shape(), x.shape(), "d_out", "x");
  const T* px = x.data();
  const T* g = d_out.data();
  T* dx = d_x.data();
  detail::parallel_elements(x.numel(),
                            [&](int64_t i) { dx[i] += (px[i] > lo && px[i] < hi) ? g[i] : T(0); });
}

namespace detail {
// minimum = true:  out (N) = a where a ≤ b, else b.
// minimum = false: out (N) = a where a ≥ b, else b (maximum).
template <class T>
void min_max_forward(bool minimum, Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
  const char* op = minimum ? "minimum" : "maximum";
  check_same_shape(op, a.shape(), b.shape(), "a", "b");
  check_same_shape(op, out.shape(), a.shape(), "out", "a");
  const T* pa = a.data();
  const T* pb = b.data();
  T* po = out.data();
  if (minimum)
    parallel_elements(a.numel(), [&](int64_t i) { po[i] = pa[i] <= pb[i] ? pa[i] : pb[i]; });
  else
    parallel_elements(a.numel(), [&](int64_t i) { po[i] = pa[i] >= pb[i] ? pa[i] : pb[i]; });
}

// forward: out = (a chosen) ? a : b → d a += d out where a was chosen, d b += d out elsewhere.
template <class T>
void min_max_backward(bool minimum, Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out,
                      const Tensor<T>& a, const Tensor<T>& b) {
  const char* op = minimum ? "minimum_backward" : "maximum_backward";
  check_same_shape(op, a.shape(), b.shape(), "a", "b");
  check_same_shape(op, d_out.shape(), a.shape(), "d_out", "a");
  if (d_a) check_same_shape(op, d_a->shape(), a.shape(), "d_a", "a");
  if (d_b) check_same_shape(op, d_b->shape(), b.shape(), "d_b", "b");
  const T* pa = a.data();
  const T* pb = b.data();
  const T* g = d_out.data();
  T* da = d_a ? d_a->data() : nullptr;
  T* db = d_b ? d_b->data() : nullptr;
  parallel_elements(a.numel(), [&](int64_t i) {
    const bool chose_a = minimum ? pa[i] <= pb[i] : pa[i] >= pb[i];
    if (da) da[i] += chose_a ? g[i] : T(0);
    if (db) db[i] += chose_a ? T(0) : g[i];
  });
}
}  // namespace detail

// out (N) = elementwise min(a, b); ties take a.
template <class T>
void minimum_forward(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
  detail::min_max_forward(true, out, a, b);
}
template <class T>
void minimum_backward(Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out, const Tensor<T>& a,
                      const Tensor<T>& b) {
  detail::min_max_backward(true, d_a, d_b, d_out, a, b);
}
// out (N) = elementwise max(a, b); ties take a.
template <class T>
void maximum_forward(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
  detail::min_max_forward(false, out, a, b);
}
template <class T>
void maximum_backward(Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out, const Tensor<T>& a,
                      const Tensor<T>& b) {
  detail::min_max_backward(false, d_a, d_b, d_out, a, b);
}

// out (N) = mask·a + (1 − mask)·b, mask of 0s and 1s.
template <class T>
void where_forward(Tensor<T>& out, const Tensor<T>& mask, const Tensor<T>& a, const Tensor<T>& b) {
  check_same_shape("where", a.shape(), b.shape(), "a", "b");
  check_same_shape("where", mask.shape(), a.shape(), "mask", "a");
  check_same_shape("where", out.shape(), a.shape(), "out", "a");
  detail::check_binary_mask("where", mask);
  const T* pm = mask.data();
  const T* pa = a.data();
  const T* pb = b.data();
  T* po = out.data();
  detail::parallel_elements(a.numel(), [&](int64_t i) { po[i] = pm[i] != T(0) ? pa[i] : pb[i]; });
}

// forward: out = mask ? a : b → d a += d out where mask = 1, d b += d out where mask = 0.
template <class T>
void where_backward(Tensor<T>* d_a, Tensor<T>* d_b, const Tensor<T>& d_out, const Tensor<T>& mask) {
  check_same_shape("where_backward", d_out.shape(), mask.shape(), "d_out", "mask");
  if (d_a) check_same_shape("where_backward", d_a->shape(), mask.shape(), "d_a", "mask");
  if (d_b) check_same_shape("where_backward", d_b->shape(), mask.shape(), "d_b", "mask");
  const T* pm = mask.data();
  const T* g = d_out.data();
  T* da = d_a ? d_a->data() : nullptr;
  T* db = d_b ? d_b->data() : nullptr;
  detail::parallel_elements(mask.numel(), [&](int64_t i) {
    const bool chose_a = pm[i] != T(0);
    if (da) da[i] += chose_a ? g[i] : T(0);
    if (db) db[i] += chose_a ? T(0) : g[i];
  });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(clamp_forward, clamp_backward, minimum_forward, minimum_backward, maximum_forward,
                  maximum_backward, where_forward, where_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_CLAMP_INSTANCES(extern_, T)                                                    \
  extern_ template void clamp_forward<T>(Tensor<T>&, const Tensor<T>&, std::type_identity_t<T>, \
                                         std::type_identity_t<T>);                              \
  extern_ template void clamp_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                          std::type_identity_t<T>, std::type_identity_t<T>);    \
  extern_ template void minimum_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&);     \
  extern_ template void minimum_backward<T>(Tensor<T>*, Tensor<T>*, const Tensor<T>&,           \
                                            const Tensor<T>&, const Tensor<T>&);                \
  extern_ template void maximum_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&);     \
  extern_ template void maximum_backward<T>(Tensor<T>*, Tensor<T>*, const Tensor<T>&,           \
                                            const Tensor<T>&, const Tensor<T>&);                \
  extern_ template void where_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&,        \
                                         const Tensor<T>&);                                     \
  extern_ template void where_backward<T>(Tensor<T>*, Tensor<T>*, const Tensor<T>&,             \
                                          const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_CLAMP_INSTANCES)

}  // namespace tlcr
