// tlcr/rlhf/rewards.hpp — dense token rewards: TokenRewardModel implementations built on the
// discriminator (Yoon et al. 2024: r_t = 2·D_φ(a_t | x, a_<t) − 1, and the discrete token rewards
// it compares with), a random control, and the hybrid of two reward models.
//
// From the discriminator's p_t = P(positive | x, a_≤t), one formula per reward kind:
//   Continuous   r = 2p − 1 ∈ [−1, 1]                         the paper (default)
//   Tanh         r = tanh(p − 0.5), |r| ≤ 0.4621               the released code (softmax twice)
//   Thresholded  r = sign(p − 0.5) if |p − 0.5| ≥ τ, else 0    discrete ±1/0 with a neutral band
//   Sign         r = sign(p − 0.5)  (0 at exactly 0.5)         discrete ±1, no threshold
// then, optionally, only one sign kept (ablations of the released code, reported to invite reward
// hacking): PositiveOnly r ← max(r, 0), NegativeOnly r ← min(r, 0).
//
// Where the reward lands (response token index i = the action that emitted token i):
//   shift = false (default, the clean convention): reward[i] = r_i — token i's own score goes to
//     the action that emitted it.
//   shift = true (released-code parity): reward[i] = r_{i−1} for i ≥ 1 and reward[0] = 0 — token
//     t's score goes to the action one step later, the one that emits token t+1. The last scored
//     token's score would land on EOS (or past the end) and is dropped, since EOS gets 0.
// Always: EOS, PAD and everything after the first EOS or PAD get 0 (ResponseEnds), and scoring
// runs under NoGrad, `batch_size` rows per forward pass, right-padded.
//
// RandomReward (control): uniform in [−1, 1) on every scored token, from Rng(seed, k) on the k-th
// call, so a run is reproducible call for call. HybridReward<Dense, Sparse>: dense + w · sparse,
// e.g. TLCR token rewards plus w times a sequence score on the last token — two models composed,
// not a third one.
// Not here: the discriminator and its training (discriminator.hpp), the sequence-level reward
// model (sequence_reward.hpp), runtime selection by name (any_reward.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "tlcr/rlhf/discriminator.hpp"
#include "tlcr/rlhf/token_reward.hpp"

namespace tlcr {

enum class TokenRewardFormula { Continuous, Tanh, Thresholded, Sign };
enum class RewardSigns { Both, PositiveOnly, NegativeOnly };

struct TokenRewardOptions {
  TokenRewardFormula formula = TokenRewardFormula::Continuous;
  RewardSigns signs = RewardSigns::Both;
  double threshold = 0.2;   // Thresholded only: the neutral band is |p − 0.5| < threshold
  bool shift = false;       // credit r_t to the action one step later (see the top of the file)
  int64_t batch_size = 16;  // rows per forward pass
};

// The reward of one token from its probability.
inline double reward_from_probability(double p, const TokenRewardOptions& options) {
  const double centred = p - 0.5;
  const double sign = centred > 0 ? 1.0 : centred < 0 ? -1.0 : 0.0;
  double r = 0;
  switch (options.formula) {
    case TokenRewardFormula::Continuous:
      r = 2.0 * p - 1.0;
      break;
    case TokenRewardFormula::Tanh:
      r = std::tanh(centred);
      break;
    case TokenRewardFormula::Thresholded:
      r = std::abs(centred) < options.threshold ? 0.0 : sign;
      break;
    case TokenRewardFormula::Sign:
      r = sign;
      break;
  }
  if (options.signs == RewardSigns::PositiveOnly) r = std::max(r, 0.0);
  if (options.signs == RewardSigns::NegativeOnly) r = std::min(r, 0.0);
  return r;
}

// "tlcr", "tlcr-tanh", "discrete(τ=0.2)", "discrete-fixed", "tlcr positive-only", … (+ " +shift").
inline std::string token_reward_name(const TokenRewardOptions& options) {
  std::ostringstream name;
  switch (options.formula) {
    case TokenRewardFormula::Continuous:
      name << "tlcr";
      break;
    case TokenRewardFormula::Tanh:
      name << "tlcr-tanh";
      break;
    case TokenRewardFormula::Thresholded:
      name << "discrete(τ=" << options.threshold << ")";
      break;
    case TokenRewardFormula::Sign:
      name << "discrete-fixed";
      break;
  }
  if (options.signs == RewardSigns::PositiveOnly) name << " positive-only";
  if (options.signs == RewardSigns::NegativeOnly) name << " negative-only";
  if (options.shift) name << " +shift";
  return name.str();
}

// Rewards from probabilities, shifted if asked: only the scored tokens of each response (before
// its first EOS or PAD) get a reward, everything else 0.
inline TokenRewards rewards_from_probabilities(const TokenRewards& probabilities,
                                               const TokenSequences& responses,
                                               const ResponseEnds& ends,
                                               const TokenRewardOptions& options) {
  check_reward_shape(responses, probabilities, "rewards_from_probabilities");
  TokenRewards rewards(probabilities.size());
  for (std::size_t row = 0; row < probabilities.size(); ++row) {
    const std::vector<float>& p = probabilities[row];
    std::vector<float>& r = rewards[row];
    r.assign(p.size(), 0.0f);
    const std::size_t scored = ends.scored_length(responses[row]);
    for (std::size_t i = 0; i < scored; ++i) {
      const std::size_t target = options.shift ? i + 1 : i;
      if (target < scored) r[target] = static_cast<float>(reward_from_probability(p[i], options));
    }
  }
  return rewards;
}

// A model that also reports the discriminator probability of each token (reward views use it).
template <class R>
concept TokenProbabilityModel = TokenRewardModel<R> &&
    requires(const R& model, const TokenSequences& prompts, const TokenSequences& responses) {
  { model.probabilities(prompts, responses) } -> std::same_as<TokenRewards>;
};

// Any of the discriminator-based rewards: continuous, tanh, discrete, one-signed, shifted.
template <class T, class Arch, class D = Cpu>
class DiscriminatorReward {
 public:
  DiscriminatorReward(std::shared_ptr<const Transformer<T, Arch, D>> model, ResponseEnds ends,
                      TokenRewardOptions options = {})
      : model_(std::move(model)), ends_(ends), options_(options) {
    TLCR_CHECK(model_ != nullptr, "DiscriminatorReward: no model");
    detail::check_discriminator(model_->heads(), "DiscriminatorReward");
    TLCR_CHECK(options_.threshold >= 0 && options_.threshold <= 0.5,
               "DiscriminatorReward: threshold must be in [0, 0.5], found ", options_.threshold);
  }

  // p_t per response token; NaN on EOS, padding and after.
  TokenRewards probabilities(const TokenSequences& prompts, const TokenSequences& responses) const {
    return discriminator_probabilities(*model_, prompts, responses, ends_, options_.batch_size);
  }
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    return rewards_from_probabilities(probabilities(prompts, responses), responses, ends_,
                                      options_);
  }
  std::string name() const { return token_reward_name(options_); }

  const TokenRewardOptions& options() const { return options_; }
  const Transformer<T, Arch, D>& model() const { return *model_; }

 private:
  std::shared_ptr<const Transformer<T, Arch, D>> model_;
  ResponseEnds ends_;
  TokenRewardOptions options_;
};

// Loads a discriminator directory (discriminator.hpp's save_discriminator) as a reward.
template <class T, class Arch, class D = Cpu>
DiscriminatorReward<T, Arch, D> load_discriminator_reward(const std::filesystem::path& dir,
                                                          const ResponseEnds& ends,
                                                          const TokenRewardOptions& options = {}) {
  return DiscriminatorReward<T, Arch, D>(
      std::make_shared<const Transformer<T, Arch, D>>(load_discriminator<T, Arch, D>(dir)), ends,
      options);
}

// Uniform random rewards in [−1, 1) on scored tokens: the control. Call k draws from
// Rng(seed, k), one number per scored token in row order, so the k-th call of a run is the same
// every time. The call counter makes score() stateful: do not share one object across threads.
class RandomReward {
 public:
  explicit RandomReward(ResponseEnds ends, uint64_t seed = 0) : ends_(ends), seed_(seed) {}

  TokenRewards score(const TokenSequences& /*prompts*/, const TokenSequences& responses) const {
    Rng rng(seed_, static_cast<uint64_t>(calls_++));
    TokenRewards rewards(responses.size());
    for (std::size_t row = 0; row < responses.size(); ++row) {
      rewards[row].assign(responses[row].size(), 0.0f);
      const std::size_t scored = ends_.scored_length(responses[row]);
      for (std::size_t i = 0; i < scored; ++i)
        rewards[row][i] = static_cast<float>(rng.uniform(-1.0, 1.0));
    }
    return rewards;
  }
  std::string name() const { return "random"; }

  int64_t calls() const { return calls_; }           // for checkpoints
  void set_calls(int64_t calls) { calls_ = calls; }  // to resume a run

 private:
  ResponseEnds ends_;
  uint64_t seed_;
  mutable int64_t calls_ = 0;
};

// dense.score + weight · sparse.score, token by token. With TLCR token rewards as `dense` and a
// sequence reward as `sparse`, the sequence score (on the last response token) is added to the
// token rewards. Both parts see the same inputs; their shapes are checked.
template <TokenRewardModel Dense, TokenRewardModel Sparse>
class HybridReward {
 public:
  HybridReward(Dense dense, Sparse sparse, double weight = 1.0)
      : dense_(std::move(dense)), sparse_(std::move(sparse)), weight_(weight) {}

  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    TokenRewards total = dense_.score(prompts, responses);
    const TokenRewards extra = sparse_.score(prompts, responses);
    check_reward_shape(responses, total, "HybridReward (" + dense_.name() + ")");
    check_reward_shape(responses, extra, "HybridReward (" + sparse_.name() + ")");
    for (std::size_t row = 0; row < total.size(); ++row)
      for (std::size_t i = 0; i < total[row].size(); ++i)
        total[row][i] += static_cast<float>(weight_ * extra[row][i]);
    return total;
  }
  // The dense part's probabilities, when it has them.
  TokenRewards probabilities(const TokenSequences& prompts, const TokenSequences& responses)
      const requires TokenProbabilityModel<Dense> {
    return dense_.probabilities(prompts, responses);
  }
  std::string name() const {
    std::ostringstream text;
    text << dense_.name() << " + " << weight_ << "·" << sparse_.name();
    return text.str();
  }

  const Dense& dense() const { return dense_; }
  const Sparse& sparse() const { return sparse_; }
  double weight() const { return weight_; }

 private:
  Dense dense_;
  Sparse sparse_;
  double weight_;
};

}  // namespace tlcr
