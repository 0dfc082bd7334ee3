// tlcr/cuda/clamp.cuh — ops/clamp.hpp's kernels on Tensor<T, Cuda>: clamp, elementwise minimum and
// maximum, and where(mask, a, b), forward and backward (PPO's clipped objective).
//
// Each output is one of its inputs or a bound, chosen by the CPU's comparisons (ties go to a), so
// forward gives the CPU's bits and backward routes d_out to the same inputs. where() checks that
// the mask holds only 0 and 1 on the device: a kernel finds the first other value's position
// (atomicMin of the index); one int crosses back.
// Shape legend: x, a, b, mask, out and every gradient share one shape; N = numel.
// Not here: the CPU kernels (ops/clamp.hpp).
#pragma once

#include <climits>
#include <type_traits>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/clamp.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class T>
__global__ void clamp_kernel(T* out, const T* x, T lo, T hi, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    out[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}
template <class T>
__global__ void clamp_backward_kernel(T* d_x, const T* g, const T* x, T lo, T hi, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    d_x[i] += (x[i] > lo && x[i] < hi) ? g[i] : T(0);
}
// choice 0: min (a ≤ b picks a), 1: max (a ≥ b picks a), 2: where (mask ≠ 0 picks a).
template <class T>
__device__ bool picks_a(int choice, T a, T b, T mask) {
  return choice == 0 ? a <= b : (choice == 1 ? a >= b : mask != T(0));
}
template <class T>
__global__ void select_kernel(int choice, T* out, const T* a, const T* b, const T* mask,
                              int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    out[i] = picks_a(choice, a ? a[i] : T(0), b ? b[i] : T(0), mask ? mask[i] : T(0)) ? a[i] : b[i];
}
template <class T>
__global__ void select_backward_kernel(int choice, T* d_a, T* d_b, const T* g, const T* a,
                                       const T* b, const T* mask, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) {
    const bool chose_a = picks_a(choice, a ? a[i] : T(0), b ? b[i] : T(0), mask ? mask[i] : T(0));
    if (d_a) d_a[i] += chose_a ? g[i] : T(0);
    if (d_b) d_b[i] += chose_a ? T(0) : g[i];
  }
}
template <class T>
__global__ void find_non_binary_kernel(int* first_bad, const T* mask, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    if (mask[i] != T(0) && mask[i] != T(1)) atomicMin(first_bad, int(i));
}
}  // namespace cuda::kernels

namespace cuda {
enum : int { kPickMin = 0, kPickMax = 1, kPickWhere = 2 };

template <class T>
void check_binary_mask(const char* op, const Tensor<T, Cuda>& mask) {
  if (mask.numel() == 0) return;
  Tensor<int32_t, Cuda> first_bad = Tensor<int32_t, Cuda>::full(Shape{1}, INT_MAX);
  launch("mask check", kernels::find_non_binary_kernel<T>, mask.numel(),
         reinterpret_cast<int*>(raw(first_bad)), static_cast<const T*>(raw(mask)), mask.numel());
  const int32_t position = first_bad.item();
  if (position == INT_MAX) return;
  const T value = mask.reshape(Shape{mask.numel()}).slice(position, position + 1).item();
  ::tlcr::detail::fail(op, ": mask must hold only 0 and 1, found ", value, " at flat index ",
                       position, " of shape ", mask.shape().str());
}

template <class T>
const T* maybe_raw(const Tensor<T, Cuda>* t) {
  return t ? static_cast<const T*>(raw(*t)) : nullptr;
}
}  // namespace cuda

// out (N) = min(max(x, lo), hi), lo ≤ hi.
template <class T>
void clamp_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, std::type_identity_t<T> lo,
                   std::type_identity_t<T> hi) {
  check_same_shape("clamp", out.shape(), x.shape(), "out", "x");
  TLCR_CHECK(lo <= hi, "clamp: expected lo <= hi, got lo = ", lo, ", hi = ", hi);
  if (x.numel() == 0) return;
  cuda::launch("clamp_forward", cuda::kernels::clamp_kernel<T>, x.numel(), cuda::raw(out),
               static_cast<const T*>(cuda::raw(x)), T(lo), T(hi), x.numel());
}

// forward: out = min(max(x, lo), hi) → d x += d out where lo < x < hi.
template <class T>
void clamp_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& x,
                    std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  check_same_shape("clamp_backward", d_x.shape(), x.shape(), "d_x", "x");
  check_same_shape("clamp_backward", d_out.shape(), x.shape(), "d_out", "x");
  if (x.numel() == 0) return;
  cuda::launch("clamp_backward", cuda::kernels::clamp_backward_kernel<T>, x.numel(), cuda::raw(d_x),
               static_cast<const T*>(cuda::raw(d_out)), static_cast<const T*>(cuda::raw(x)), T(lo),
               T(hi), x.numel());
}

namespace cuda {
template <class T>
void select_forward(int choice, const char* op, Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a,
                    const Tensor<T, Cuda>& b, const Tensor<T, Cuda>* mask) {
  check_same_shape(op, a.shape(), b.shape(), "a", "b");
  check_same_shape(op, out.shape(), a.shape(), "out", "a");
  if (mask) check_same_shape(op, mask->shape(), a.shape(), "mask", "a");
  if (a.numel() == 0) return;
  launch(op, kernels::select_kernel<T>, a.numel(), choice, raw(out), static_cast<const T*>(raw(a)),
         static_cast<const T*>(raw(b)), maybe_raw(mask), a.numel());
}
template <class T>
void select_backward(int choice, const char* op, Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b,
                     const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>* a,
                     const Tensor<T, Cuda>* b, const Tensor<T, Cuda>* mask) {
  const Shape& shape = d_out.shape();
  if (a) check_same_shape(op, a->shape(), shape, "a", "d_out");
  if (b) check_same_shape(op, b->shape(), shape, "b", "d_out");
  if (mask) check_same_shape(op, mask->shape(), shape, "mask", "d_out");
  if (d_a) check_same_shape(op, d_a->shape(), shape, "d_a", "d_out");
  if (d_b) check_same_shape(op, d_b->shape(), shape, "d_b", "d_out");
  if (d_out.numel() == 0) return;
  launch(op, kernels::select_backward_kernel<T>, d_out.numel(), choice,
         d_a ? raw(*d_a) : static_cast<T*>(nullptr), d_b ? raw(*d_b) : static_cast<T*>(nullptr),
         static_cast<const T*>(raw(d_out)), maybe_raw(a), maybe_raw(b), maybe_raw(mask),
         d_out.numel());
}
}  // namespace cuda

// out (N) = elementwise min(a, b); ties take a.
template <class T>
void minimum_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b) {
  cuda::select_forward<T>(cuda::kPickMin, "minimum", out, a, b, nullptr);
}
template <class T>
void minimum_backward(Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b, const Tensor<T, Cuda>& d_out,
                      const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b) {
  cuda::select_backward<T>(cuda::kPickMin, "minimum_backward", d_a, d_b, d_out, &a, &b, nullptr);
}
// out (N) = elementwise max(a, b); ties take a.
template <class T>
void maximum_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b) {
  cuda::select_forward<T>(cuda::kPickMax, "maximum", out, a, b, nullptr);
}
template <class T>
void maximum_backward(Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b, const Tensor<T, Cuda>& d_out,
                      const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b) {
  cuda::select_backward<T>(cuda::kPickMax, "maximum_backward", d_a, d_b, d_out, &a, &b, nullptr);
}
// out (N) = a where mask = 1, b where mask = 0.
template <class T>
void where_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& mask, const Tensor<T, Cuda>& a,
                   const Tensor<T, Cuda>& b) {
  cuda::check_binary_mask("where", mask);
  cuda::select_forward<T>(cuda::kPickWhere, "where", out, a, b, &mask);
}
// forward: out = mask ? a : b → d a += d out where mask = 1, d b += d out where mask = 0.
template <class T>
void where_backward(Tensor<T, Cuda>* d_a, Tensor<T, Cuda>* d_b, const Tensor<T, Cuda>& d_out,
                    const Tensor<T, Cuda>& mask) {
  cuda::select_backward<T>(cuda::kPickWhere, "where_backward", d_a, d_b, d_out, nullptr, nullptr,
                           &mask);
}

}  // namespace tlcr
