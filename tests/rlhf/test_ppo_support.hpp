// tests/rlhf/test_ppo_support.hpp — pieces the PPO tests share: a tiny policy and reference,
// prompts, and small reward models written for the tests (any TokenRewardModel works with PPO).
#pragma once

#include "support/testing.hpp"

#include <tlcr/rlhf/ppo.hpp>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace tlcr::testing {

inline constexpr int32_t kTinyEos = 11;

// GPT-2, vocabulary 12 (token 11 = EOS), width 16, one block.
inline TransformerConfig tiny_ppo_config() {
  TransformerConfig c = TransformerConfig::gpt2(12, 32, 1, 2, 16);
  c.eos_token = kTinyEos;
  return c;
}
// A policy with a value head; the reference built from the same seed has the same trunk and LM
// head.
inline Gpt2<float> tiny_policy(uint64_t seed = 5) {
  return Gpt2<float>(tiny_ppo_config(), HeadConfig{.lm = true, .value = true}, seed);
}
inline Gpt2<float> tiny_reference(uint64_t seed = 5) {
  return Gpt2<float>(tiny_ppo_config(), {}, seed);
}
inline Gpt2<float> tiny_critic(uint64_t seed = 6) {
  return Gpt2<float>(tiny_ppo_config(), HeadConfig{.lm = false, .value = true}, seed);
}

// `count` prompts of 1–4 tokens from 0 … 9.
inline TokenSequences tiny_prompts(int64_t count, uint64_t seed = 1) {
  Rng rng(seed);
  TokenSequences prompts(count);
  for (auto& prompt : prompts) {
    const int64_t length = random_size(rng, 1, 4);
    for (int64_t i = 0; i < length; ++i)
      prompt.push_back(static_cast<int32_t>(rng.uniform_int(10)));
  }
  return prompts;
}

// +1 for emitting token 5, −1 for token 7, 0 otherwise (EOS included).
struct TokenFiveReward {
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    TokenRewards rewards;
    for (const auto& response : responses) {
      std::vector<float>& row = rewards.emplace_back();
      for (int32_t token : response) row.push_back(token == 5 ? 1.f : token == 7 ? -1.f : 0.f);
    }
    return rewards;
  }
  std::string name() const { return "token-five"; }
};

// A sequence-level reward: the number of 5s in the response, placed on its last token.
struct CountFivesAtEnd {
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    TokenRewards rewards;
    for (const auto& response : responses) {
      std::vector<float>& row = rewards.emplace_back(response.size(), 0.f);
      row.back() = static_cast<float>(std::count(response.begin(), response.end(), 5));
    }
    return rewards;
  }
  std::string name() const { return "count-fives"; }
};

// Like TokenFiveReward, but NaN on the first token of row 1.
struct NanReward {
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    TokenRewards rewards = TokenFiveReward{}.score(prompts, responses);
    rewards[1][0] = std::numeric_limits<float>::quiet_NaN();
    return rewards;
  }
  std::string name() const { return "nan"; }
};

// A small configuration for quick runs.
inline PpoConfig tiny_ppo_settings() {
  PpoConfig c = small_ppo_preset();
  c.iterations = 4;
  c.batch_size = 8;
  c.minibatch_size = 4;
  c.epochs = 2;
  c.max_new_tokens = 6;
  c.lr = 3e-3;
  c.critic_lr = 3e-3;
  c.warmup_iterations = 0;
  c.early_stop_kl = 0;
  c.sample_every = 2;
  c.seed = 42;
  return c;
}

// The metrics without the keys that measure time.
inline nlohmann::json without_times(nlohmann::json metrics) {
  for (auto it = metrics.begin(); it != metrics.end();)
    it = it.key().starts_with("time/") || it.key() == "eps" ? metrics.erase(it) : std::next(it);
  return metrics;
}

inline std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    lines.push_back(without_times(nlohmann::json::parse(line)));
  return lines;
}

inline std::filesystem::path fresh_ppo_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tlcr_ppo_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace tlcr::testing
