// tlcr/rlhf/ppo/config.hpp — every knob of PPO in one struct, its JSON form and two presets.
//
// PpoConfig holds what changes the algorithm (and therefore the bits of a run): rollout sizes,
// sampling, reward shaping, KL control, GAE, the losses, the optimiser and the seed. Where the
// files go and what is printed lives in PpoRunOptions (rlhf/ppo/trainer.hpp).
//
// Presets:
//   tlcr_ppo_preset()   the official TLCR runs (the authors' released code, github.com/EsYoon7/
//                       RLHF-TLCR): β = 0.1 fixed on the full-vocabulary
//                       KL, reward clip ±5, γ = 1, λ = 0.95, no whitening, clip 0.2 on ratio and
//                       value, lr 1e-6 for actor and critic, AdamW (0.9, 0.95) wd 0.1, cosine, grad
//                       clip 1, top-p 0.9, temperature 1, ≤ 256 new tokens, one epoch per batch.
//   small_ppo_preset()  for the tiny models tlcr trains on two CPU cores: a 50× higher learning
//                       rate, four epochs over minibatches of a quarter batch, reward and
//                       advantage whitening, an approx-KL early stop, shorter responses, plain
//                       sampling, β = 0.05.
// JSON: the keys are the member names below; reading rejects unknown keys and wrong types, naming
// the source and the field. ppo_setting_info() describes each setting (the `tlcr ppo` flags).
// Not here: the training loop (trainer.hpp), file locations (PpoRunOptions).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

// How the per-token KL to the reference enters the reward (π = policy, π_ref = reference,
// a_t = the sampled token, r = π_ref(a_t)/π(a_t)):
//   K1    log π(a_t) − log π_ref(a_t)                   unbiased, can be negative per token
//   K3    (r − 1) − log r                               unbiased, never negative
//   Full  Σ_v π(v)·(log π(v) − log π_ref(v))            the exact KL of the next-token
//   distributions
enum class KlEstimator { K1, K3, Full };

inline const char* kl_estimator_name(KlEstimator estimator) {
  switch (estimator) {
    case KlEstimator::K1:
      return "k1";
    case KlEstimator::K3:
      return "k3";
    case KlEstimator::Full:
      return "full";
  }
  return "?";
}

inline KlEstimator kl_estimator_from_name(std::string_view name, std::string_view where) {
  if (name == "k1") return KlEstimator::K1;
  if (name == "k3") return KlEstimator::K3;
  if (name == "full") return KlEstimator::Full;
  detail::fail(where, ": expected a KL estimator \"k1\", \"k3\" or \"full\", found \"", name, "\"");
}

struct PpoConfig {
  // ---- rollouts ----
  int64_t iterations = 100;     // rollout + update cycles
  int64_t batch_size = 32;      // prompts per rollout, one response each
  int64_t minibatch_size = 32;  // responses per gradient step (divides batch_size)
  // Every rollout and minibatch is cut into this many parts, each computed alone (by rank p mod N
  // under MPI): the numbers depend on it, never on the number of ranks (rollout_parts.hpp).
  int64_t micro_batches = 1;
  int64_t epochs = 1;            // passes over each rollout batch
  int64_t max_new_tokens = 256;  // response length limit
  double temperature = 1.0;      // sampling (generate/sampler.hpp)
  int top_k = 0;
  double top_p = 0.9;

  // ---- rewards and KL ----
  double reward_clip = 5.0;          // each r_t clipped to [−c, c] before the KL term; 0 = off
  double missing_eos_penalty = 0.0;  // subtracted from the last r_t of a response cut by length
  KlEstimator kl_estimator = KlEstimator::Full;
  double kl_coef = 0.1;             // β; the starting value when adaptive
  double kl_target = 0.0;           // > 0: adapt β toward this KL per response (Ziegler et al.)
  double kl_horizon = 10000;        // the adaptive controller's horizon, in episodes
  bool kl_wait_for_target = false;  // adaptive β held at kl_coef until the KL first reaches target
  bool whiten_rewards = false;      // scale the shaped rewards of a batch to unit std (mean kept)

  // ---- advantages and losses ----
  double gamma = 1.0, lambda = 0.95;
  bool whiten_advantages = false;  // advantages to zero mean, unit std over the batch
  double clip_ratio = 0.2;         // ε of the clipped surrogate
  double clip_value = 0.2;         // values stay within ±clip of the rollout's; 0 = unclipped
  double value_coef = 0.1;         // value-loss weight when the value head shares the policy trunk
  double entropy_coef = 0.0;       // entropy bonus
  double early_stop_kl = 0.0;  // stop the update once a minibatch's approx KL exceeds it; 0 = off

  // ---- optimisation (AdamW, cosine schedule over iterations) ----
  double lr = 1e-6;
  double critic_lr = 1e-6;        // the separate critic's rate (unused with a value head)
  double min_lr_ratio = 0.0;      // the schedule ends at lr · min_lr_ratio
  int64_t warmup_iterations = 0;  // capped at iterations − 1, so short runs still decay
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95;
  double grad_clip = 1.0;  // global gradient norm, per model
  uint64_t seed = 0;

  // ---- reporting ----
  int64_t sample_every = 10;     // a sample table every N iterations; 0 = never
  int64_t sample_rows = 2;       // responses in each table
  int64_t checkpoint_every = 0;  // iterations between checkpoints; 0 = only at the end

  void validate() const {
    auto positive = [](const char* name, double value) {
      TLCR_CHECK(value > 0 && std::isfinite(value), "PpoConfig: ", name,
                 " must be positive and finite, got ", value);
    };
    auto non_negative = [](const char* name, double value) {
      TLCR_CHECK(value >= 0 && std::isfinite(value), "PpoConfig: ", name,
                 " must be ≥ 0 and finite, got ", value);
    };
    positive("iterations", double(iterations));
    positive("batch_size", double(batch_size));
    positive("minibatch_size", double(minibatch_size));
    positive("epochs", double(epochs));
    positive("max_new_tokens", double(max_new_tokens));
    TLCR_CHECK(minibatch_size <= batch_size && batch_size % minibatch_size == 0,
               "PpoConfig: minibatch_size ", minibatch_size, " must divide batch_size ",
               batch_size);
    TLCR_CHECK(micro_batches >= 1 && micro_batches <= minibatch_size,
               "PpoConfig: micro_batches must be in 1 … minibatch_size (", minibatch_size,
               "), got ", micro_batches);
    non_negative("temperature", temperature);
    TLCR_CHECK(top_k >= 0, "PpoConfig: top_k must be ≥ 0, got ", top_k);
    TLCR_CHECK(top_p > 0 && top_p <= 1, "PpoConfig: top_p must be in (0, 1], got ", top_p);
    non_negative("reward_clip", reward_clip);
    non_negative("missing_eos_penalty", missing_eos_penalty);
    non_negative("kl_coef", kl_coef);
    non_negative("kl_target", kl_target);
    positive("kl_horizon", kl_horizon);
    TLCR_CHECK(gamma >= 0 && gamma <= 1, "PpoConfig: gamma must be in [0, 1], got ", gamma);
    TLCR_CHECK(lambda >= 0 && lambda <= 1, "PpoConfig: lambda must be in [0, 1], got ", lambda);
    positive("clip_ratio", clip_ratio);
    non_negative("clip_value", clip_value);
    non_negative("value_coef", value_coef);
    non_negative("entropy_coef", entropy_coef);
    non_negative("early_stop_kl", early_stop_kl);
    positive("lr", lr);
    positive("critic_lr", critic_lr);
    TLCR_CHECK(min_lr_ratio >= 0 && min_lr_ratio <= 1,
               "PpoConfig: min_lr_ratio must be in [0, 1], got ", min_lr_ratio);
    TLCR_CHECK(warmup_iterations >= 0, "PpoConfig: warmup_iterations must be ≥ 0, got ",
               warmup_iterations);
    non_negative("weight_decay", weight_decay);
    TLCR_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
               "PpoConfig: beta1 and beta2 must be in [0, 1), got ", beta1, ", ", beta2);
    positive("grad_clip", grad_clip);
    TLCR_CHECK(sample_every >= 0 && sample_rows >= 0 && checkpoint_every >= 0,
               "PpoConfig: sample_every, sample_rows and checkpoint_every must be ≥ 0");
  }
};

// The official TLCR settings (the authors' released code), which are also PpoConfig's defaults. Batch sizes are
// ours (the paper's are per GPU).
inline PpoConfig tlcr_ppo_preset() {
  return PpoConfig{};
}

// Settings under which a tiny policy (a few hundred thousand parameters) visibly learns a small
// task within a hundred iterations.
inline PpoConfig small_ppo_preset() {
  PpoConfig c;
  c.iterations = 200;
  c.batch_size = 32;
  c.minibatch_size = 8;
  c.epochs = 4;
  c.max_new_tokens = 64;
  c.top_p = 1.0;
  c.kl_coef = 0.05;
  c.whiten_rewards = true;
  c.whiten_advantages = true;
  c.early_stop_kl = 0.05;
  c.lr = 5e-5;
  c.critic_lr = 1e-4;
  c.min_lr_ratio = 0.1;
  c.warmup_iterations = 5;
  return c;
}

// ---- JSON
// ----------------------------------------------------------------------------------------

// Calls visit(name, member) for every member, in declaration order: one list for both directions.
template <class Config, class Visit>
void visit_ppo_config(Config& c, Visit&& visit) {
  visit("iterations", c.iterations);
  visit("batch_size", c.batch_size);
  visit("minibatch_size", c.minibatch_size);
  visit("micro_batches", c.micro_batches);
  visit("epochs", c.epochs);
  visit("max_new_tokens", c.max_new_tokens);
  visit("temperature", c.temperature);
  visit("top_k", c.top_k);
  visit("top_p", c.top_p);
  visit("reward_clip", c.reward_clip);
  visit("missing_eos_penalty", c.missing_eos_penalty);
  visit("kl_estimator", c.kl_estimator);
  visit("kl_coef", c.kl_coef);
  visit("kl_target", c.kl_target);
  visit("kl_horizon", c.kl_horizon);
  visit("kl_wait_for_target", c.kl_wait_for_target);
  visit("whiten_rewards", c.whiten_rewards);
  visit("gamma", c.gamma);
  visit("lambda", c.lambda);
  visit("whiten_advantages", c.whiten_advantages);
  visit("clip_ratio", c.clip_ratio);
  visit("clip_value", c.clip_value);
  visit("value_coef", c.value_coef);
  visit("entropy_coef", c.entropy_coef);
  visit("early_stop_kl", c.early_stop_kl);
  visit("lr", c.lr);
  visit("critic_lr", c.critic_lr);
  visit("min_lr_ratio", c.min_lr_ratio);
  visit("warmup_iterations", c.warmup_iterations);
  visit("weight_decay", c.weight_decay);
  visit("beta1", c.beta1);
  visit("beta2", c.beta2);
  visit("grad_clip", c.grad_clip);
  visit("seed", c.seed);
  visit("sample_every", c.sample_every);
  visit("sample_rows", c.sample_rows);
  visit("checkpoint_every", c.checkpoint_every);
}

// What each setting does and where it belongs, in visit_ppo_config's order: the source of the
// `tlcr ppo` flags (one per setting, grouped) and of the README's table.
struct PpoSettingInfo {
  const char* name;   // the member / JSON key
  const char* group;  // rollout, reward shaping, KL, optimisation, critic, reporting
  const char* help;
};

inline const std::vector<PpoSettingInfo>& ppo_setting_info() {
  static const std::vector<PpoSettingInfo> info = {
      {"iterations", "rollout", "rollout + update cycles"},
      {"batch_size", "rollout", "prompts per rollout, one response each"},
      {"minibatch_size", "rollout", "responses per gradient step (divides batch_size)"},
      {"micro_batches", "rollout",
       "parts of every rollout and minibatch, each computed alone (shared out over MPI ranks)"},
      {"epochs", "rollout", "passes over each rollout batch"},
      {"max_new_tokens", "rollout", "response length limit"},
      {"temperature", "rollout", "sampling temperature"},
      {"top_k", "rollout", "sample from the k most likely tokens (0 = all)"},
      {"top_p", "rollout", "nucleus probability mass"},
      {"reward_clip", "reward shaping", "clip each r_t to [-c, c] before the KL term (0 = off)"},
      {"missing_eos_penalty", "reward shaping",
       "subtracted from the last r_t of a response cut by the length limit"},
      {"kl_estimator", "KL",
       "per-token KL in the reward: k1, k3 or full (exact, whole vocabulary)"},
      {"kl_coef", "KL", "beta, the KL penalty's weight (the starting value when adaptive)"},
      {"kl_target", "KL", "> 0: adapt beta toward this KL per response (Ziegler et al.)"},
      {"kl_horizon", "KL", "the adaptive controller's horizon, in episodes"},
      {"kl_wait_for_target", "KL",
       "adaptive beta stays at kl_coef until a batch's KL first reaches kl_target"},
      {"whiten_rewards", "reward shaping", "scale a batch's shaped rewards to unit std"},
      {"gamma", "optimisation", "discount of GAE"},
      {"lambda", "optimisation", "lambda of GAE"},
      {"whiten_advantages", "optimisation", "advantages to zero mean, unit std over the batch"},
      {"clip_ratio", "optimisation", "epsilon of the clipped surrogate"},
      {"clip_value", "critic", "values stay within +-clip of the rollout's (0 = unclipped)"},
      {"value_coef", "critic", "value-loss weight when the value head shares the policy trunk"},
      {"entropy_coef", "optimisation", "entropy bonus"},
      {"early_stop_kl", "optimisation",
       "stop an update once a minibatch's approx KL exceeds it (0 = off)"},
      {"lr", "optimisation", "policy learning rate (AdamW, cosine schedule over iterations)"},
      {"critic_lr", "critic", "the separate critic's learning rate"},
      {"min_lr_ratio", "optimisation", "the schedule ends at lr * min_lr_ratio"},
      {"warmup_iterations", "optimisation", "linear warmup (capped at iterations - 1)"},
      {"weight_decay", "optimisation", "AdamW weight decay"},
      {"beta1", "optimisation", "AdamW beta1"},
      {"beta2", "optimisation", "AdamW beta2"},
      {"grad_clip", "optimisation", "global gradient-norm clip, per model"},
      {"seed", "optimisation", "seed of sampling, shuffling and fresh heads"},
      {"sample_every", "reporting", "a sample table every N iterations (0 = never)"},
      {"sample_rows", "reporting", "responses in each sample table"},
      {"checkpoint_every", "reporting", "iterations between checkpoints (0 = only at the end)"},
  };
  return info;
}

inline nlohmann::json to_json(const PpoConfig& config) {
  nlohmann::json j;
  visit_ppo_config(config, [&](const char* name, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, KlEstimator>)
      j[name] = kl_estimator_name(value);
    else
      j[name] = value;
  });
  return j;
}

// Overwrites the members named in `j` (others keep their value in `config`) and validates.
// `where` names the source in messages, e.g. "ppo.json".
inline PpoConfig apply_ppo_config_json(PpoConfig config, const nlohmann::json& j,
                                       std::string_view where) {
  TLCR_CHECK(j.is_object(), where, ": expected a JSON object of PPO settings, found ",
             j.type_name());
  const nlohmann::json known = to_json(config);
  for (const auto& [key, value] : j.items())
    if (!known.contains(key)) detail::fail(where, ": unknown PPO setting '", key, "'");
  visit_ppo_config(config, [&](const char* name, auto& member) {
    if (!j.contains(name)) return;
    const nlohmann::json& value = j[name];
    using Member = std::decay_t<decltype(member)>;
    const std::string field = std::string(where) + ": field '" + name + "'";
    if constexpr (std::is_same_v<Member, KlEstimator>) {
      TLCR_CHECK(value.is_string(), field, ": expected a string, found ", describe_json(value));
      member = kl_estimator_from_name(value.get<std::string>(), field);
    } else if constexpr (std::is_same_v<Member, bool>) {
      TLCR_CHECK(value.is_boolean(), field, ": expected true or false, found ",
                 describe_json(value));
      member = value.get<bool>();
    } else if constexpr (std::is_integral_v<Member>) {
      TLCR_CHECK(value.is_number_integer(), field, ": expected an integer, found ",
                 describe_json(value));
      if constexpr (std::is_unsigned_v<Member>)
        TLCR_CHECK(value.get<int64_t>() >= 0 || value.is_number_unsigned(), field,
                   ": expected a non-negative integer, found ", describe_json(value));
      member = value.get<Member>();
    } else {
      TLCR_CHECK(value.is_number(), field, ": expected a number, found ", describe_json(value));
      member = value.get<Member>();
    }
  });
  config.validate();
  return config;
}

}  // namespace tlcr
