// tlcr/optim/clip.hpp — global-norm gradient clipping and a check for non-finite gradients.
//
// grad_norm = sqrt(Σ_i g_i²) over the whole flat gradient buffer, accumulated in double. The sum
// runs over fixed blocks of detail::kNormBlock elements (blocks in parallel) and the block sums are
// added in block order, so the norm is bitwise the same for every thread count.
// clip_grad_norm multiplies every gradient by max_norm / norm when norm > max_norm, so afterwards
// the norm is max_norm (up to rounding), and returns the norm from before clipping. When the norm
// is not finite (a NaN or ±Inf somewhere) the gradients are left alone and the caller should skip
// the step; find_non_finite_grad / check_finite_grads name the parameter at fault.
// Not here: per-parameter norms or clipping by value.
// Shape legend: N = store.numel(); the gradient buffer is (N).
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

namespace detail {
constexpr int64_t kNormBlock = 1 << 14;  // elements per partial sum; fixed, unlike thread chunks
constexpr int64_t kScaleGrain = 1 << 15;

// Σ x_i² in double, in a fixed order independent of the thread count.
template <class T>
double sum_of_squares(const Tensor<T>& x) {
  const T* data = x.data();
  const int64_t n = x.numel();
  const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
  std::vector<double> block_sums(static_cast<std::size_t>(blocks), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t first_block, int64_t last_block) {
    for (int64_t block = first_block; block < last_block; ++block) {
      const int64_t begin = block * kNormBlock;
      const int64_t end = std::min(n, begin + kNormBlock);
      double sum = 0;
      for (int64_t i = begin; i < end; ++i) sum += static_cast<double>(data[i]) * data[i];
      block_sums[block] = sum;
    }
  });
  double total = 0;
  for (double sum : block_sums) total += sum;
  return total;
}
}  // namespace detail

// sqrt(Σ g²) over every gradient of the store.
template <class T>
double grad_norm(const ParameterStore<T>& store) {
  return std::sqrt(detail::sum_of_squares(store.grads()));
}

// Scales all gradients by max_norm / norm when norm > max_norm; returns the norm before clipping.
// A non-finite norm is returned as it is and the gradients are not touched.
template <class T>
double clip_grad_norm(ParameterStore<T>& store, double max_norm) {
  TLCR_CHECK(max_norm > 0 && std::isfinite(max_norm),
             "clip_grad_norm: expected a positive finite max_norm, got ", max_norm);
  const double norm = grad_norm(store);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  const T factor = static_cast<T>(max_norm / norm);
  T* grads = store.grads().data();
  parallel_for(0, store.numel(), detail::kScaleGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) grads[i] *= factor;
  });
  return norm;
}

// Where the first NaN or ±Inf gradient is (parameters in registration order).
struct NonFiniteGrad {
  std::string parameter;
  int64_t index = 0;  // flat index inside that parameter
  double value = 0;
};

template <class T>
std::optional<NonFiniteGrad> find_non_finite_grad(const ParameterStore<T>& store) {
  const T* grads = store.grads().data();
  for (const auto& p : store.parameters())
    for (int64_t i = 0; i < p.numel(); ++i)
      if (!std::isfinite(grads[p.offset + i]))
        return NonFiniteGrad{p.name, i, static_cast<double>(grads[p.offset + i])};
  return std::nullopt;
}

// Throws tlcr::Error naming the parameter, element and value when a gradient is not finite.
// `where` says which step or phase was running (e.g. "ppo update 12").
template <class T>
void check_finite_grads(const ParameterStore<T>& store, std::string_view where) {
  if (auto bad = find_non_finite_grad(store))
    detail::fail(where, ": non-finite gradient ", bad->value, " in parameter '", bad->parameter,
                 "' at element ", bad->index);
}

}  // namespace tlcr
