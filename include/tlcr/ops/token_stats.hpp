// tlcr/ops/token_stats.hpp — per-token and per-batch statistics that RLHF reads from the models'
// outputs, as kernels: each reduces large tensors (logits, per-token values) to a small result that
// crosses to the host in one download.
//
//   positive_probabilities(logits (…, 2))           → (M) float   p = σ(z1 − z0), in double
//   token_kl_stats(logits, ref_logits (N, V))       → (N, 2) double   full KL(π ‖ π_ref), entropy
//   rollout_token_stats(logits, ref_logits (N, V),
//                       logprobs, ref_logprobs, values (N))
//                                                   → (N, 5) double   logprob, ref_logprob, value,
//                                                                     entropy, full KL
//   policy_ratio_stats(clipped, unclipped, log_ratio, ratio (N))
//                                                   → (4) double   #(clipped > unclipped), Σ log ρ²,
//                                                                  Σ ρ, Σ ρ²
//   count_greater(a, b (N))                         → (1) double   #(a > b)
//   first_non_finite(x)                             → (1) int64    flat index, or −1
//   pack_as_double(parts…)                          → (Σ numel) double   small results side by
//                                                                        side: one download
// The arithmetic is the host's reference arithmetic (kl_and_entropy_row below is what
// rlhf/ppo/kl.hpp documents), summed in index order, so the host devices (Cpu, SealedCpu) give
// bitwise the same numbers; the CUDA kernels (cuda/token_stats.cuh) agree to about 1e-12.
// Not here: what the numbers mean for PPO (rlhf/ppo/), the losses' gradients (autograd/).
// Shape legend: N = response tokens, V = vocabulary, M = positions.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
// out[v] = log softmax(logits)[v], in double.  logits (V) → out (V)
template <class T>
void log_softmax_row(std::span<const T> logits, std::vector<double>& out) {
  out.resize(logits.size());
  double max_logit = -INFINITY;
  for (T z : logits) max_logit = std::max(max_logit, double(z));
  double sum = 0;
  for (T z : logits) sum += std::exp(double(z) - max_logit);
  const double log_normaliser = max_logit + std::log(sum);
  for (std::size_t v = 0; v < logits.size(); ++v) out[v] = double(logits[v]) - log_normaliser;
}

// Σ_v π(v)·(log π(v) − log π_ref(v)) and −Σ_v π(v)·log π(v) at one position; logp and ref_logp
// are scratch space (reused across rows to spare allocations).
template <class T>
void kl_and_entropy_row(std::span<const T> logits, std::span<const T> ref_logits,
                        std::vector<double>& logp, std::vector<double>& ref_logp, double& full_kl,
                        double& entropy) {
  log_softmax_row(logits, logp);
  log_softmax_row(ref_logits, ref_logp);
  full_kl = 0, entropy = 0;
  for (std::size_t v = 0; v < logp.size(); ++v) {
    const double p = std::exp(logp[v]);
    full_kl += p * (logp[v] - ref_logp[v]);
    entropy -= p * logp[v];
  }
}

inline constexpr int64_t kTokenStatsGrain = 1 << 14;  // logits per thread at least

// Runs row(i, logp, ref_logp) for i in [0, rows), in parallel chunks with their own scratch.
template <class Row>
void for_each_logit_row(int64_t rows, int64_t V, Row&& row) {
  parallel_for(0, rows, std::max<int64_t>(1, kTokenStatsGrain / std::max<int64_t>(V, 1)),
               [&](int64_t begin, int64_t end) {
                 std::vector<double> logp, ref_logp;
                 for (int64_t i = begin; i < end; ++i) row(i, logp, ref_logp);
               });
}

template <class T>
void check_logit_pair(const char* who, const Tensor<T>& logits, const Tensor<T>& ref_logits) {
  TLCR_CHECK(logits.shape().rank == 2 && logits.shape()[1] > 0, who,
             ": expected logits (N, V), got ", logits.shape().str());
  check_same_shape(who, logits.shape(), ref_logits.shape(), "logits", "ref_logits");
}
}  // namespace detail

// p = softmax(z)[1] = σ(z1 − z0) at every position of logits (…, 2) → (M) float.
template <class T>
Tensor<float> positive_probabilities(const Tensor<T>& logits) {
  TLCR_CHECK(logits.shape().rank >= 1 && logits.shape()[logits.shape().rank - 1] == 2,
             "positive_probabilities: expected logits (…, 2), got ", logits.shape().str());
  const int64_t M = logits.numel() / 2;
  Tensor<float> p(Shape{M});
  const T* z = logits.data();
  float* out = p.data();
  for (int64_t at = 0; at < M; ++at) {
    const double z0 = z[at * 2], z1 = z[at * 2 + 1];
    out[at] = static_cast<float>(1.0 / (1.0 + std::exp(z0 - z1)));
  }
  return p;
}

// Full KL and entropy at every position: logits, ref_logits (N, V) → (N, 2) double.
template <class T>
Tensor<double> token_kl_stats(const Tensor<T>& logits, const Tensor<T>& ref_logits) {
  detail::check_logit_pair("token_kl_stats", logits, ref_logits);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  Tensor<double> out(Shape{N, 2});
  double* o = out.data();
  detail::for_each_logit_row(N, V, [&](int64_t i, auto& logp, auto& ref_logp) {
    detail::kl_and_entropy_row(std::span<const T>(logits.data() + i * V, V),
                               std::span<const T>(ref_logits.data() + i * V, V), logp, ref_logp,
                               o[i * 2], o[i * 2 + 1]);
  });
  return out;
}

// What a PPO rollout keeps per token, in one table: (N, 5) double of
// (logprob, ref_logprob, value, entropy, full KL).
template <class T>
Tensor<double> rollout_token_stats(const Tensor<T>& logits, const Tensor<T>& ref_logits,
                                   const Tensor<T>& logprobs, const Tensor<T>& ref_logprobs,
                                   const Tensor<T>& values) {
  detail::check_logit_pair("rollout_token_stats", logits, ref_logits);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  const Shape n{N};
  check_same_shape("rollout_token_stats", logprobs.shape(), n, "logprobs", "(N)");
  check_same_shape("rollout_token_stats", ref_logprobs.shape(), n, "ref_logprobs", "(N)");
  check_same_shape("rollout_token_stats", values.shape(), n, "values", "(N)");
  Tensor<double> out(Shape{N, 5});
  double* o = out.data();
  detail::for_each_logit_row(N, V, [&](int64_t i, auto& logp, auto& ref_logp) {
    double* row = o + i * 5;
    row[0] = logprobs.data()[i];
    row[1] = ref_logprobs.data()[i];
    row[2] = values.data()[i];
    detail::kl_and_entropy_row(std::span<const T>(logits.data() + i * V, V),
                               std::span<const T>(ref_logits.data() + i * V, V), logp, ref_logp,
                               row[4], row[3]);
  });
  return out;
}

// The clipped surrogate's diagnostics, summed in index order: (4) double of
// (#(clipped > unclipped), Σ log_ratio², Σ ratio, Σ ratio²).
template <class T>
Tensor<double> policy_ratio_stats(const Tensor<T>& clipped, const Tensor<T>& unclipped,
                                  const Tensor<T>& log_ratio, const Tensor<T>& ratio) {
  const int64_t n = clipped.numel();
  TLCR_CHECK(unclipped.numel() == n && log_ratio.numel() == n && ratio.numel() == n,
             "policy_ratio_stats: sizes differ (", n, ", ", unclipped.numel(), ", ",
             log_ratio.numel(), ", ", ratio.numel(), ")");
  double clipped_count = 0, sum_log_ratio_sq = 0, ratio_sum = 0, ratio_sq_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (clipped.data()[i] > unclipped.data()[i]) ++clipped_count;
    const double lr = log_ratio.data()[i], r = ratio.data()[i];
    sum_log_ratio_sq += lr * lr;
    ratio_sum += r;
    ratio_sq_sum += r * r;
  }
  return Tensor<double>::from(Shape{4}, {clipped_count, sum_log_ratio_sq, ratio_sum, ratio_sq_sum});
}

// #(a > b) over all elements → (1) double.
template <class T>
Tensor<double> count_greater(const Tensor<T>& a, const Tensor<T>& b) {
  check_same_shape("count_greater", a.shape(), b.shape(), "a", "b");
  double count = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] > b.data()[i]) ++count;
  return Tensor<double>::from(Shape{1}, {count});
}

// The flat index of the first NaN or ±Inf in x, or −1 → (1) int64.
template <class T>
Tensor<int64_t> first_non_finite(const Tensor<T>& x) {
  int64_t found = -1;
  for (int64_t i = 0; i < x.numel() && found < 0; ++i)
    if (!std::isfinite(double(x.data()[i]))) found = i;
  return Tensor<int64_t>::from(Shape{1}, {found});
}

// The values of small tensors of any element types, as double, concatenated in argument order;
// undefined tensors add nothing → (Σ numel) double.
template <class... Ts>
Tensor<double> pack_as_double(const Tensor<Ts>&... parts) {
  const int64_t total = ((parts.defined() ? parts.numel() : 0) + ... + 0);
  Tensor<double> out(Shape{total});
  double* o = out.data();
  auto append = [&o](const auto& part) {
    if (!part.defined()) return;
    for (int64_t i = 0; i < part.numel(); ++i) *o++ = double(part.data()[i]);
  };
  (append(parts), ...);
  return out;
}

TLCR_HOST_KERNELS(positive_probabilities, token_kl_stats, rollout_token_stats, policy_ratio_stats,
                  count_greater, first_non_finite, pack_as_double)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_TOKEN_STATS_INSTANCES(extern_, T)                                               \
  extern_ template Tensor<float> positive_probabilities<T>(const Tensor<T>&);                    \
  extern_ template Tensor<double> token_kl_stats<T>(const Tensor<T>&, const Tensor<T>&);         \
  extern_ template Tensor<double> rollout_token_stats<T>(                                        \
      const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
  extern_ template Tensor<double> policy_ratio_stats<T>(const Tensor<T>&, const Tensor<T>&,      \
                                                        const Tensor<T>&, const Tensor<T>&);     \
  extern_ template Tensor<double> count_greater<T>(const Tensor<T>&, const Tensor<T>&);          \
  extern_ template Tensor<int64_t> first_non_finite<T>(const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_TOKEN_STATS_INSTANCES)

}  // namespace tlcr
