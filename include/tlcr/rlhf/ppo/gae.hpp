// tlcr/rlhf/ppo/gae.hpp — generalized advantage estimation over one response, and whitening.
//
// A response of L tokens is one episode: at step t the policy emits token t, receives reward
// rew_t and the critic predicted V_t before emitting it. After the last token the episode ends,
// so V_L = 0 (also for a response cut by the length limit: the usual choice in RLHF).
//   δ_t = rew_t + γ·V_{t+1} − V_t
//   A_t = δ_t + γλ·A_{t+1},  A_L = 0          (computed backwards from t = L − 1)
//   R_t = A_t + V_t                            (the critic's regression target)
// Whitening rescales a batch of per-token values: (x − μ)/σ, with μ and σ over every token of every
// response (σ with Bessel's correction, as TRL does). keep_mean adds μ back: the shaped rewards are
// only rescaled, so their sign still says "good" or "bad".
// Not here: where the rewards come from (rollout.hpp).
// Shape legend: L = response tokens.
#pragma once

#include <cmath>
#include <span>

#include "tlcr/config.hpp"

namespace tlcr {

// rewards, values (L) → advantages, returns (L).
inline void generalized_advantages(std::span<const double> rewards, std::span<const double> values,
                                   double gamma, double lambda, std::span<double> advantages,
                                   std::span<double> returns) {
  const std::size_t L = rewards.size();
  TLCR_CHECK(values.size() == L && advantages.size() == L && returns.size() == L,
             "generalized_advantages: ", L, " rewards, ", values.size(), " values, ",
             advantages.size(), " advantage slots, ", returns.size(), " return slots");
  double next_value = 0, next_advantage = 0;
  for (std::size_t i = L; i-- > 0;) {
    const double delta = rewards[i] + gamma * next_value - values[i];
    advantages[i] = delta + gamma * lambda * next_advantage;
    returns[i] = advantages[i] + values[i];
    next_value = values[i];
    next_advantage = advantages[i];
  }
}

struct MeanStd {
  double mean = 0, std = 0;
};

// Mean and (Bessel-corrected) standard deviation, summed in index order.
inline MeanStd mean_and_std(std::span<const double> x) {
  MeanStd out;
  if (x.empty()) return out;
  for (double v : x) out.mean += v;
  out.mean /= double(x.size());
  if (x.size() < 2) return out;
  double squares = 0;
  for (double v : x) squares += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(squares / double(x.size() - 1));
  return out;
}

// x ← (x − μ)/sqrt(σ² + 1e-8) [+ μ when keep_mean]. Fewer than two values: left unchanged.
inline void whiten(std::span<double> x, bool keep_mean = false) {
  if (x.size() < 2) return;
  const MeanStd stats = mean_and_std(x);
  const double inv_std = 1.0 / std::sqrt(stats.std * stats.std + 1e-8);
  for (double& v : x) v = (v - stats.mean) * inv_std + (keep_mean ? stats.mean : 0.0);
}

}  // namespace tlcr
