// tlcr/rlhf/ppo/losses.hpp — PPO's three losses as differentiable functions of one minibatch.
//
// Every input is packed: one entry per response token of the minibatch (N in all), and every loss
// is a mean over those N tokens. Quantities from the rollout (old log-probs, old values,
// advantages, returns) are constants: only the fresh log-probs, values and logits carry gradients.
//
//   clipped surrogate   ρ_t = exp(log π(a_t) − log π_old(a_t))
//                       L_π = mean_t max(−A_t·ρ_t, −A_t·clip(ρ_t, 1 − ε, 1 + ε))
//   clipped value loss  V^clip_t = V_old,t + clip(V_t − V_old,t, −ε_v, ε_v)
//                       L_V = ½·mean_t max((V_t − R_t)², (V^clip_t − R_t)²)
//                       (ε_v = 0: unclipped)
//   entropy             H = mean_t −Σ_v π(v)·log π(v)     (the bonus subtracts entropy_coef·H)
// The max takes the pessimistic side; where both sides are equal the gradient goes to the unclipped
// one, so inside the clip range the gradient is that of the plain objective. Diagnostics (clip
// fractions, approx KL = ½·mean (log ρ)², ratio statistics) are computed from the forward values.
// The trainer hands the rollout's constants over as device tensors (detail::policy_loss_terms,
// value_loss_terms) and reads the diagnostics together with its other scalars, in one download.
// Not here: the rollout that produced the constants (rollout.hpp), the optimiser step.
// Shape legend: N = response tokens in the minibatch, V = vocabulary.
#pragma once

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

#include "tlcr/autograd/fn/clamp.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/softmax.hpp"
#include "tlcr/autograd/fn/unary.hpp"
#include "tlcr/ops/token_stats.hpp"

namespace tlcr {

namespace detail {
// A packed vector of doubles as a constant (N) tensor of T on device D: one upload.
template <class T, class D>
Var<T, D> packed_constant(std::span<const double> values) {
  std::vector<T> host(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) host[i] = static_cast<T>(values[i]);
  return constant(Tensor<T, D>::from(Shape{static_cast<int64_t>(values.size())}, host));
}
template <class T, class D>
void check_packed(const char* who, const Var<T, D>& x, std::span<const double> a,
                  const char* a_name, std::span<const double> b, const char* b_name) {
  TLCR_CHECK(x.shape().rank == 1 && x.numel() > 0, who, ": expected a non-empty (N) tensor, got ",
             x.shape().str());
  TLCR_CHECK(
      static_cast<int64_t>(a.size()) == x.numel() && static_cast<int64_t>(b.size()) == x.numel(),
      who, ": ", x.numel(), " tokens but ", a.size(), " ", a_name, " and ", b.size(), " ", b_name);
}
}  // namespace detail

template <class T, class D = Cpu>
struct PolicyLoss {
  Var<T, D> loss;            // rank 0
  double clip_fraction = 0;  // share of tokens where the clipped side was larger
  double approx_kl = 0;      // ½·mean (log ρ)²
  double ratio_mean = 0, ratio_var = 0;
};

namespace detail {
// The surrogate with the rollout's constants already on the device: old_logprobs and the negated
// advantages (N). Its diagnostics stay there as policy_ratio_stats' (4) sums.
template <class T, class D>
std::pair<Var<T, D>, Tensor<double, D>> policy_loss_terms(const Var<T, D>& logprobs,
                                                          const Tensor<T, D>& old_logprobs,
                                                          const Tensor<T, D>& minus_advantages,
                                                          double clip) {
  TLCR_CHECK(clip > 0, "clipped_policy_loss: expected clip > 0, got ", clip);
  const Var<T, D> log_ratio = sub(logprobs, constant(old_logprobs));
  const Var<T, D> ratio = exp(log_ratio);
  const Var<T, D> minus_advantage = constant(minus_advantages);
  const Var<T, D> unclipped = mul(ratio, minus_advantage);
  const Var<T, D> clipped = mul(clamp(ratio, T(1 - clip), T(1 + clip)), minus_advantage);
  return {mean(maximum(unclipped, clipped)),
          policy_ratio_stats(clipped.value(), unclipped.value(), log_ratio.value(), ratio.value())};
}
// The diagnostics from policy_ratio_stats' sums over n tokens.
template <class T, class D>
void set_policy_diagnostics(PolicyLoss<T, D>& out, std::span<const double> sums, int64_t n) {
  const double clipped_count = sums[0], sum_log_ratio_sq = sums[1], ratio_sum = sums[2],
               ratio_sq_sum = sums[3];
  out.clip_fraction = clipped_count / double(n);
  out.approx_kl = 0.5 * sum_log_ratio_sq / double(n);
  out.ratio_mean = ratio_sum / double(n);
  out.ratio_var = std::max(0.0, ratio_sq_sum / double(n) - out.ratio_mean * out.ratio_mean);
}
}  // namespace detail

// logprobs (N): log π(a_t) under the current policy, differentiable. The diagnostics cross to
// the host as one (4) vector.
template <class T, class D>
PolicyLoss<T, D> clipped_policy_loss(const Var<T, D>& logprobs,
                                     std::span<const double> old_logprobs,
                                     std::span<const double> advantages, double clip) {
  detail::check_packed("clipped_policy_loss", logprobs, old_logprobs, "old log-probs", advantages,
                       "advantages");
  TLCR_CHECK(clip > 0, "clipped_policy_loss: expected clip > 0, got ", clip);
  std::vector<double> negated(advantages.size());
  for (std::size_t i = 0; i < advantages.size(); ++i) negated[i] = -advantages[i];
  const auto [loss, stats] =
      detail::policy_loss_terms(logprobs, detail::packed_constant<T, D>(old_logprobs).value(),
                                detail::packed_constant<T, D>(negated).value(), clip);
  PolicyLoss<T, D> out;
  out.loss = loss;
  detail::set_policy_diagnostics(out, stats.to_vector(), logprobs.numel());
  return out;
}

template <class T, class D = Cpu>
struct ValueLoss {
  Var<T, D> loss;            // rank 0
  double clip_fraction = 0;  // share of tokens where the clipped error was larger
};

namespace detail {
// The value loss with the rollout's constants already on the device: old values and returns (N).
// With clipping, #(clipped > unclipped) stays there as count_greater's (1); else it is undefined.
template <class T, class D>
std::pair<Var<T, D>, Tensor<double, D>> value_loss_terms(const Var<T, D>& values,
                                                         const Tensor<T, D>& old_values,
                                                         const Tensor<T, D>& returns, double clip) {
  TLCR_CHECK(clip >= 0, "clipped_value_loss: expected clip ≥ 0, got ", clip);
  const Var<T, D> target = constant(returns);
  const Var<T, D> unclipped = square(sub(values, target));
  if (clip == 0) return {scale(mean(unclipped), T(0.5)), Tensor<double, D>()};
  const Var<T, D> old = constant(old_values);
  const Var<T, D> kept_close = add(old, clamp(sub(values, old), T(-clip), T(clip)));
  const Var<T, D> clipped = square(sub(kept_close, target));
  return {scale(mean(maximum(unclipped, clipped)), T(0.5)),
          count_greater(clipped.value(), unclipped.value())};
}
}  // namespace detail

// values (N): the critic's current predictions, differentiable. clip = 0 turns clipping off.
template <class T, class D>
ValueLoss<T, D> clipped_value_loss(const Var<T, D>& values, std::span<const double> old_values,
                                   std::span<const double> returns, double clip) {
  detail::check_packed("clipped_value_loss", values, old_values, "old values", returns, "returns");
  TLCR_CHECK(clip >= 0, "clipped_value_loss: expected clip ≥ 0, got ", clip);
  const Tensor<T, D> target = detail::packed_constant<T, D>(returns).value();
  ValueLoss<T, D> out;
  if (clip == 0) {
    out.loss = detail::value_loss_terms(values, Tensor<T, D>(), target, clip).first;
    return out;
  }
  const auto [loss, count] = detail::value_loss_terms(
      values, detail::packed_constant<T, D>(old_values).value(), target, clip);
  out.loss = loss;
  out.clip_fraction = count.item() / double(values.numel());
  return out;
}

// Mean entropy of the next-token distributions.  logits (N, V) → rank 0.
template <class T, class D>
Var<T, D> mean_entropy(const Var<T, D>& logits) {
  TLCR_CHECK(logits.shape().rank == 2, "mean_entropy: expected logits (N, V), got ",
             logits.shape().str());
  const Var<T, D> logp = log_softmax(logits);
  return scale(mean(sum(mul(exp(logp), logp), -1)), T(-1));
}

}  // namespace tlcr
