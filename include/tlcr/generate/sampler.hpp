// tlcr/generate/sampler.hpp — choosing the next token from one row of logits.
//
// sample_token applies, in order: temperature (0 = greedy argmax), top-k (keep the k largest),
// top-p (keep the smallest set of most likely tokens whose probability reaches p), then draws
// from what is left with the deterministic Rng. It returns the token and its log-probability under
// the *unmodified* distribution softmax(logits) (what PPO needs as the old policy's log-prob) and
// under the sampling distribution actually used.
// Ties between equal logits are broken by the lower token id, so results never depend on the sort.
// Not here: the batched generation loop and the KV cache (generate/generate.hpp).
// Shape legend: V = vocabulary size.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "tlcr/core/rng.hpp"

namespace tlcr {

struct SamplingOptions {
  double temperature = 1.0;  // 0 → greedy
  int top_k = 0;             // 0 → no top-k filter
  double top_p = 1.0;        // 1 → no nucleus filter

  void validate() const {
    TLCR_CHECK(temperature >= 0 && std::isfinite(temperature),
               "SamplingOptions: temperature must be ≥ 0, got ", temperature);
    TLCR_CHECK(top_k >= 0, "SamplingOptions: top_k must be ≥ 0, got ", top_k);
    TLCR_CHECK(top_p > 0 && top_p <= 1, "SamplingOptions: top_p must be in (0, 1], got ", top_p);
  }
};

struct SampledToken {
  int32_t token = 0;
  double logprob = 0;           // log softmax(logits)[token]
  double sampling_logprob = 0;  // log of the probability it was actually drawn with
};

// log softmax(logits)[token], computed stably in double.  logits: (V)
template <class T>
double token_logprob(std::span<const T> logits, int32_t token) {
  const double max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (T x : logits) sum += std::exp(double(x) - max_logit);
  return double(logits[token]) - max_logit - std::log(sum);
}

// Draws one token from logits (V) under `options`, using `rng` only when sampling.
template <class T>
SampledToken sample_token(std::span<const T> logits, const SamplingOptions& options, Rng& rng) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  TLCR_CHECK(vocab > 0, "sample_token: empty logits");
  for (int64_t i = 0; i < vocab; ++i)
    TLCR_CHECK(!std::isnan(double(logits[i])), "sample_token: logit ", i, " is NaN");

  // Candidates sorted by logit, descending; equal logits keep id order (stable sort).
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const bool needs_sort = options.temperature == 0 || options.top_k > 0 || options.top_p < 1;
  if (needs_sort)
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });

  if (options.temperature == 0) {  // greedy
    const int32_t best = order[0];
    return {best, token_logprob(logits, best), 0.0};
  }

  int64_t kept = vocab;
  if (options.top_k > 0) kept = std::min<int64_t>(kept, options.top_k);
  // Tempered probabilities of the kept candidates, in sorted order.
  const double max_scaled = double(logits[order[0]]) / options.temperature;
  std::vector<double> weights(kept);
  double total = 0;
  for (int64_t i = 0; i < kept; ++i) {
    weights[i] = std::exp(double(logits[order[i]]) / options.temperature - max_scaled);
    total += weights[i];
  }
  if (options.top_p < 1) {  // smallest prefix whose mass reaches top_p (always ≥ 1 token)
    double mass = 0;
    int64_t prefix = 0;
    while (prefix < kept) {
      mass += weights[prefix++] / total;
      if (mass >= options.top_p) break;
    }
    kept = prefix;
    weights.resize(kept);
    total = std::accumulate(weights.begin(), weights.end(), 0.0);
  }
  const int64_t pick = rng.categorical<double>(std::span<const double>(weights));
  const int32_t token = needs_sort ? order[pick] : static_cast<int32_t>(pick);
  return {token, token_logprob(logits, token), std::log(weights[pick] / total)};
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_GENERATE_SAMPLER_INSTANCES(extern_, T)                      \
  extern_ template double token_logprob<T>(std::span<const T>, int32_t); \
  extern_ template SampledToken sample_token<T>(std::span<const T>, const SamplingOptions&, Rng&);
TLCR_DECLARE_INSTANCES(TLCR_GENERATE_SAMPLER_INSTANCES)

}  // namespace tlcr
