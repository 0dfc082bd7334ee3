// tlcr/optim/clip.hpp — global-norm gradient clipping and a check for non-finite gradients.
//
// grad_norm = sqrt(Σ_i g_i²) over the whole flat gradient buffer, accumulated in double by the
// sum_of_squares kernel (ops/optimizer_updates.hpp: fixed blocks added in block order, so the norm
// is bitwise the same for every thread count); only that one scalar crosses to the host.
// clip_grad_norm multiplies every gradient by max_norm / norm when norm > max_norm, so afterwards
// the norm is max_norm (up to rounding), and returns the norm from before clipping. When the norm
// is not finite (a NaN or ±Inf somewhere) the gradients are left alone and the caller should skip
// the step; find_non_finite_grad / check_finite_grads name the parameter at fault.
// check_and_clip_grad_norm does both from one read of Σ g² (what a train step uses).
// Not here: per-parameter norms or clipping by value.
// Shape legend: N = store.numel(); the gradient buffer is (N).
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/nn/parameter_store.hpp"
#include "tlcr/ops/optimizer_updates.hpp"

namespace tlcr {

namespace detail {
// Σ x_i² in double, in a fixed order independent of the thread count; one scalar crosses to the
// host.
template <class T, class D>
double squared_norm(const Tensor<T, D>& x) {
  Tensor<double, D> total(Shape{});
  sum_of_squares(total, x);
  return total.to_vector()[0];
}
}  // namespace detail

// sqrt(Σ g²) over every gradient of the store.
template <class T, class D>
double grad_norm(const ParameterStore<T, D>& store) {
  return std::sqrt(detail::squared_norm(store.grads()));
}

namespace detail {
// clip_grad_norm given the norm already read.
template <class T, class D>
double clip_to_norm(ParameterStore<T, D>& store, double max_norm, double norm) {
  TLCR_CHECK(max_norm > 0 && std::isfinite(max_norm),
             "clip_grad_norm: expected a positive finite max_norm, got ", max_norm);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  scale_in_place(store.grads(), static_cast<T>(max_norm / norm));
  return norm;
}
}  // namespace detail

// Scales all gradients by max_norm / norm when norm > max_norm; returns the norm before clipping.
// A non-finite norm is returned as it is and the gradients are not touched.
template <class T, class D>
double clip_grad_norm(ParameterStore<T, D>& store, double max_norm) {
  TLCR_CHECK(max_norm > 0 && std::isfinite(max_norm),
             "clip_grad_norm: expected a positive finite max_norm, got ", max_norm);
  return detail::clip_to_norm(store, max_norm, grad_norm(store));
}

// Where the first NaN or ±Inf gradient is (parameters in registration order).
struct NonFiniteGrad {
  std::string parameter;
  int64_t index = 0;  // flat index inside that parameter
  double value = 0;
};

// Reads the gradients on the host (a download of the whole buffer on a device): for diagnosis.
template <class T, class D>
std::optional<NonFiniteGrad> find_non_finite_grad(const ParameterStore<T, D>& store) {
  const Tensor<T, Cpu> host = store.grads().to_host();
  const T* grads = host.data();
  for (const auto& p : store.parameters())
    for (int64_t i = 0; i < p.numel(); ++i)
      if (!std::isfinite(grads[p.offset + i]))
        return NonFiniteGrad{p.name, i, static_cast<double>(grads[p.offset + i])};
  return std::nullopt;
}

// Throws tlcr::Error naming the parameter, element and value when a gradient is not finite.
// `where` says which step or phase was running (e.g. "ppo update 12").
// The check reads one scalar (Σ g², non-finite iff some gradient is, short of an overflow of
// the double sum); only a failing check reads the gradients themselves to name the culprit.
namespace detail {
// The error check_finite_grads raises once Σ g² has come back non-finite.
template <class T, class D>
[[noreturn]] void fail_non_finite_grads(const ParameterStore<T, D>& store, std::string_view where) {
  if (auto bad = find_non_finite_grad(store))
    fail(where, ": non-finite gradient ", bad->value, " in parameter '", bad->parameter,
         "' at element ", bad->index);
  fail(where, ": the sum of squared gradients overflows a double");
}
}  // namespace detail

template <class T, class D>
void check_finite_grads(const ParameterStore<T, D>& store, std::string_view where) {
  if (!std::isfinite(detail::squared_norm(store.grads())))
    detail::fail_non_finite_grads(store, where);
}

// check_finite_grads, then clip_grad_norm, with Σ g² read once: the same errors, the same norm.
template <class T, class D>
double check_and_clip_grad_norm(ParameterStore<T, D>& store, double max_norm,
                                std::string_view where) {
  const double squared = detail::squared_norm(store.grads());
  if (!std::isfinite(squared)) detail::fail_non_finite_grads(store, where);
  return detail::clip_to_norm(store, max_norm, std::sqrt(squared));
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPTIM_CLIP_INSTANCES(extern_, T)                                               \
  extern_ template double grad_norm<T, Cpu>(const ParameterStore<T, Cpu>&);                 \
  extern_ template double clip_grad_norm<T, Cpu>(ParameterStore<T, Cpu>&, double);          \
  extern_ template std::optional<NonFiniteGrad> find_non_finite_grad<T, Cpu>(               \
      const ParameterStore<T, Cpu>&);                                                       \
  extern_ template void check_finite_grads<T, Cpu>(const ParameterStore<T, Cpu>&,           \
                                                   std::string_view);                       \
  extern_ template double check_and_clip_grad_norm<T, Cpu>(ParameterStore<T, Cpu>&, double, \
                                                           std::string_view);
TLCR_DECLARE_INSTANCES(TLCR_OPTIM_CLIP_INSTANCES)

}  // namespace tlcr
