// tlcr/rlhf/any_reward.hpp — choosing a reward at run time: AnyTokenReward holds any
// TokenRewardModel behind one type, and make_token_reward builds one from a name and model
// directories, as the command line does (`--reward tlcr|tlcr-tanh|discrete|…`).
//
//   kind                models (RewardSpec)                reward r_t
//   tlcr                reward_model = discriminator       2p − 1
//   tlcr-tanh           reward_model = discriminator       tanh(p − 0.5)
//   discrete            reward_model = discriminator       ±1 outside |p − 0.5| < threshold, else 0
//   discrete-fixed      reward_model = discriminator       sign(p − 0.5)
//   positive-only       reward_model = discriminator       max(2p − 1, 0)
//   negative-only       reward_model = discriminator       min(2p − 1, 0)
//   random              none                               uniform [−1, 1), seeded
//   sequence            sequence_model (or reward_model)   BT score s on the last token
//   sequence-uniform    sequence_model (or reward_model)   s / L on each of the L tokens
//   sequence-attention  sequence_model (or reward_model)   s · the model's attention credit
//   hybrid              reward_model + sequence_model      tlcr + w · sequence
//   dpo                 reward_model = a `tlcr dpo` policy β·(log π − log π_ref) per token (RTO)
//                       (reference_model, or the reference its config.json records; its β)
// `shift` applies to the discriminator kinds (rewards.hpp explains the convention). Models are
// loaded in float; GPT-2 and Llama directories both work.
// Not here: the reward formulas (rewards.hpp, sequence_reward.hpp, spread_reward.hpp,
// dpo_reward.hpp).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tlcr/rlhf/dpo_reward.hpp"
#include "tlcr/rlhf/rewards.hpp"
#include "tlcr/rlhf/sequence_reward.hpp"
#include "tlcr/rlhf/spread_reward.hpp"

namespace tlcr {

// Any TokenRewardModel, type-erased (shared, so copies are cheap and see the same model).
class AnyTokenReward {
 public:
  template <TokenRewardModel R>
  explicit AnyTokenReward(R model) : self_(std::make_shared<Holder<R>>(std::move(model))) {}

  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    return self_->score(prompts, responses);
  }
  std::string name() const { return self_->name(); }

  // Whether the reward comes with discriminator probabilities p_t (the discriminator kinds and
  // the hybrid), and those probabilities (NaN where not scored).
  bool has_probabilities() const { return self_->has_probabilities(); }
  TokenRewards probabilities(const TokenSequences& prompts, const TokenSequences& responses) const {
    TLCR_CHECK(has_probabilities(), "AnyTokenReward: the reward '", name(),
               "' has no token probabilities");
    return self_->probabilities(prompts, responses);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual TokenRewards score(const TokenSequences&, const TokenSequences&) const = 0;
    virtual std::string name() const = 0;
    virtual bool has_probabilities() const = 0;
    virtual TokenRewards probabilities(const TokenSequences&, const TokenSequences&) const = 0;
  };
  template <class R>
  struct Holder final : Base {
    explicit Holder(R m) : model(std::move(m)) {}
    TokenRewards score(const TokenSequences& p, const TokenSequences& r) const override {
      return model.score(p, r);
    }
    std::string name() const override { return model.name(); }
    bool has_probabilities() const override { return TokenProbabilityModel<R>; }
    TokenRewards probabilities(const TokenSequences& p, const TokenSequences& r) const override {
      if constexpr (TokenProbabilityModel<R>)
        return model.probabilities(p, r);
      else
        return {};
    }
    R model;
  };
  std::shared_ptr<const Base> self_;
};

static_assert(TokenRewardModel<AnyTokenReward>);

struct RewardSpec {
  std::string kind = "tlcr";
  std::filesystem::path reward_model{};     // the discriminator (or, for "sequence", the BT model)
  std::filesystem::path sequence_model{};   // the Bradley–Terry model ("hybrid"; "sequence" too)
  std::filesystem::path reference_model{};  // "dpo": the policy's reference (default: recorded)
  double threshold = 0.2;                   // "discrete": the neutral band |p − 0.5| < threshold
  bool shift = false;                       // discriminator kinds: credit r_t one action later
  double hybrid_weight = 1.0;               // "hybrid": w
  bool normalize_sequence = true;           // apply the BT model's stored normalisation, if any
  uint64_t seed = 0;                        // "random"
  int64_t batch_size = 16;                  // rows per forward pass
};

inline const std::vector<std::string>& reward_kinds() {
  static const std::vector<std::string> kinds = {
      "tlcr",          "tlcr-tanh", "discrete", "discrete-fixed",   "positive-only",
      "negative-only", "random",    "sequence", "sequence-uniform", "sequence-attention",
      "hybrid",        "dpo"};
  return kinds;
}

namespace detail {

inline TokenRewardOptions token_reward_options(const RewardSpec& spec) {
  TokenRewardOptions options;
  options.threshold = spec.threshold;
  options.shift = spec.shift;
  options.batch_size = spec.batch_size;
  const std::string& kind = spec.kind;
  if (kind == "tlcr-tanh") options.formula = TokenRewardFormula::Tanh;
  if (kind == "discrete") options.formula = TokenRewardFormula::Thresholded;
  if (kind == "discrete-fixed") options.formula = TokenRewardFormula::Sign;
  if (kind == "positive-only") options.signs = RewardSigns::PositiveOnly;
  if (kind == "negative-only") options.signs = RewardSigns::NegativeOnly;
  return options;
}

inline void require_dir(const std::filesystem::path& dir, const std::string& kind,
                        const char* what) {
  TLCR_CHECK(!dir.empty(), "reward '", kind, "' needs ", what);
  TLCR_CHECK(std::filesystem::exists(dir / "config.json"), "reward '", kind, "': '", dir.string(),
             "' is not a model directory (no config.json)");
}

}  // namespace detail

// The reward a spec names, with its models loaded on device D.
template <class D = Cpu>
AnyTokenReward make_token_reward(const RewardSpec& spec, const ResponseEnds& ends) {
  const std::string& kind = spec.kind;
  if (kind == "random") return AnyTokenReward(RandomReward(ends, spec.seed));

  auto discriminator = [&] {
    detail::require_dir(spec.reward_model, kind, "a discriminator directory (--reward-model)");
    return with_architecture(spec.reward_model, [&](auto arch) {
      using Arch = decltype(arch);
      return AnyTokenReward(load_discriminator_reward<float, Arch, D>(
          spec.reward_model, ends, detail::token_reward_options(spec)));
    });
  };
  // The BT model in `dir` as the reward itself, or spread over the tokens by `spread`.
  auto sequence_reward = [&](const std::filesystem::path& dir,
                             std::optional<SpreadRule> spread = std::nullopt) {
    const bool normalize = spec.normalize_sequence && read_score_normalization(dir).has_value();
    return with_architecture(dir, [&](auto arch) {
      using Arch = decltype(arch);
      auto sequence = load_sequence_reward<float, Arch, D>(dir, ends, normalize, spec.batch_size);
      if (!spread) return AnyTokenReward(std::move(sequence));
      return AnyTokenReward(SpreadSequenceReward<float, Arch, D>(std::move(sequence), *spread));
    });
  };

  if (kind == "sequence" || kind == "sequence-uniform" || kind == "sequence-attention") {
    const auto& dir = spec.sequence_model.empty() ? spec.reward_model : spec.sequence_model;
    detail::require_dir(dir, kind, "a reward-model directory (--sequence-model or --reward-model)");
    if (kind == "sequence") return sequence_reward(dir);
    return sequence_reward(
        dir, kind == "sequence-uniform" ? SpreadRule::Uniform : SpreadRule::Attention);
  }
  if (kind == "dpo") {
    detail::require_dir(spec.reward_model, kind, "a DPO policy directory (--reward-model)");
    const std::optional<DpoPolicyInfo> info = read_dpo_policy_info(spec.reward_model);
    TLCR_CHECK(
        info.has_value(), "reward 'dpo': '", spec.reward_model.string(),
        "' is not a DPO policy (its config.json has no \"tlcr_reward\": {\"kind\": \"dpo\"})");
    const std::filesystem::path reference =
        spec.reference_model.empty() ? info->reference : spec.reference_model;
    detail::require_dir(reference, kind, "the DPO policy's reference directory");
    return with_architecture(spec.reward_model, [&](auto arch) {
      using Arch = decltype(arch);
      return AnyTokenReward(load_dpo_token_reward<float, Arch, D>(
          spec.reward_model, reference, ends, info->beta, spec.batch_size));
    });
  }
  if (kind == "hybrid") {
    detail::require_dir(spec.sequence_model, kind, "a reward-model directory (--sequence-model)");
    return AnyTokenReward(
        HybridReward(discriminator(), sequence_reward(spec.sequence_model), spec.hybrid_weight));
  }
  for (const std::string& known : reward_kinds())
    if (kind == known) return discriminator();
  std::string list;
  for (const std::string& known : reward_kinds()) list += (list.empty() ? "" : ", ") + known;
  detail::fail("unknown reward '", kind, "' (expected one of: ", list, ")");
}

}  // namespace tlcr
