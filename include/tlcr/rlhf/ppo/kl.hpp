// tlcr/rlhf/ppo/kl.hpp — the KL between the policy and the frozen reference, per token, and the
// controller that sets its weight β in the reward.
//
// Per response token t (π = policy, π_ref = reference, a_t = the sampled token):
//   k1   = log π(a_t) − log π_ref(a_t)
//   k3   = (r − 1) − log r,   r = π_ref(a_t) / π(a_t)                     (≥ 0 for every token)
//   full = Σ_v π(v)·(log π(v) − log π_ref(v))  over the whole vocabulary   (≥ 0, = 0 iff π = π_ref)
// k1 and k3 need only the two log-probs of the sampled token; full needs both models' logits.
// The entropy −Σ_v π(v) log π(v) comes out of the same pass. Everything is computed in double;
// the full KL over a whole batch of positions is the kernel token_kl_stats (ops/token_stats.hpp).
//
// KlController: β fixed, or adapted after every rollout batch toward a target KL per response
// (Ziegler et al. 2019):  e = clip(KL / target − 1, −0.2, 0.2),  β ← β · (1 + e · n / horizon),
// n = responses in the batch. With `wait_for_target`, β stays at its start until a batch's KL first
// reaches the target: the classic rule otherwise shrinks β while the policy has not moved yet
// (KL ≈ 0, e = −0.2 every batch), and a short run whose reward can be hacked then outruns it.
// Its state (β, and whether the target was reached) goes into checkpoints.
// Not here: how the KL is shaped into rewards (rollout.hpp).
// Shape legend: V = vocabulary.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "tlcr/ops/token_stats.hpp"
#include "tlcr/rlhf/ppo/config.hpp"

namespace tlcr {

inline double kl_k1(double logprob, double ref_logprob) {
  return logprob - ref_logprob;
}

inline double kl_k3(double logprob, double ref_logprob) {
  const double log_r = ref_logprob - logprob;
  return std::expm1(log_r) - log_r;  // expm1 keeps precision when r ≈ 1
}

// The full KL and the policy's entropy at one position.
struct TokenKl {
  double full_kl = 0;  // Σ_v π(v)·(log π(v) − log π_ref(v))
  double entropy = 0;  // −Σ_v π(v)·log π(v)
};

// logits, ref_logits: (V) each, the two models' next-token logits at the same position.
template <class T>
TokenKl full_kl_and_entropy(std::span<const T> logits, std::span<const T> ref_logits) {
  TLCR_CHECK(logits.size() == ref_logits.size() && !logits.empty(), "full_kl: ", logits.size(),
             " policy logits against ", ref_logits.size(), " reference logits");
  std::vector<double> logp, ref_logp;
  TokenKl out;
  detail::kl_and_entropy_row(logits, ref_logits, logp, ref_logp, out.full_kl, out.entropy);
  return out;
}

template <class T>
double full_kl(std::span<const T> logits, std::span<const T> ref_logits) {
  return full_kl_and_entropy(logits, ref_logits).full_kl;
}

// The per-token KL the reward uses, from the sampled token's two log-probs and (for Full) the
// full-vocabulary value already computed.
inline double kl_for_reward(KlEstimator estimator, double logprob, double ref_logprob,
                            double full_kl_value) {
  switch (estimator) {
    case KlEstimator::K1:
      return kl_k1(logprob, ref_logprob);
    case KlEstimator::K3:
      return kl_k3(logprob, ref_logprob);
    case KlEstimator::Full:
      return full_kl_value;
  }
  return 0;
}

// β, fixed (target = 0) or adaptive toward `target` nats of KL per response.
class KlController {
 public:
  KlController(double initial_coef, double target = 0, double horizon = 10000,
               bool wait_for_target = false)
      : coef_(initial_coef), target_(target), horizon_(horizon), waiting_(wait_for_target) {
    TLCR_CHECK(initial_coef >= 0 && target >= 0 && horizon > 0, "KlController: expected coef ≥ 0, ",
               "target ≥ 0 and horizon > 0, got ", initial_coef, ", ", target, ", ", horizon);
  }
  explicit KlController(const PpoConfig& c)
      : KlController(c.kl_coef, c.kl_target, c.kl_horizon, c.kl_wait_for_target) {}

  double coef() const { return coef_; }
  bool adaptive() const { return target_ > 0; }

  // After a batch whose responses carried `kl_per_response` nats of KL on average; `episodes` is
  // the number of responses in the batch.
  void update(double kl_per_response, int64_t episodes) {
    if (!adaptive()) return;
    if (waiting_ && kl_per_response < target_) return;
    waiting_ = false;
    const double error = std::clamp(kl_per_response / target_ - 1.0, -0.2, 0.2);
    coef_ *= 1.0 + error * double(episodes) / horizon_;
  }

  // Still holding β at its start (wait_for_target, target not yet reached).
  bool waiting() const { return waiting_; }

  // The checkpointed state: β, and whether it still waits for the target.
  double state() const { return coef_; }
  void set_state(double coef, bool waiting = false) {
    TLCR_CHECK(coef >= 0 && std::isfinite(coef), "KlController: invalid saved coefficient ", coef);
    coef_ = coef;
    waiting_ = waiting;
  }

 private:
  double coef_, target_, horizon_;
  bool waiting_;
};

}  // namespace tlcr
