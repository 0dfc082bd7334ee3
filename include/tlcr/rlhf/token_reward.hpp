// tlcr/rlhf/token_reward.hpp — the one interface every reward in tlcr implements.
//
// A TokenRewardModel turns a batch of (prompt tokens, response tokens) into one reward per response
// token. Dense token-level rewards (TLCR's continuous r_t = 2p_t − 1, discrete ±1/0, ablations) fill
// every position; a sequence-level reward model puts its score on the last response token and 0
// elsewhere. PPO (rlhf/ppo.hpp) accepts any of them, so comparing reward kinds changes one type.
// Conventions every implementation keeps: the result has exactly one row per response and one
// value per response token; padding gets 0, and so does EOS for dense rewards (a sequence-level
// score sits on the last response token, which is EOS when there is one); scoring runs under NoGrad.
// Not here: the implementations (rlhf/rewards.hpp, rlhf/sequence_reward.hpp).
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tlcr/config.hpp"

namespace tlcr {

using TokenSequences = std::vector<std::vector<int32_t>>;
using TokenRewards = std::vector<std::vector<float>>;  // [row][response token]

template <class R>
concept TokenRewardModel = requires(const R& model, const TokenSequences& prompts,
                                    const TokenSequences& responses) {
  { model.score(prompts, responses) } -> std::same_as<TokenRewards>;
  { model.name() } -> std::convertible_to<std::string>;
};

// Checks the shape contract of a reward batch: one row per response, one value per token.
inline void check_reward_shape(const TokenSequences& responses, const TokenRewards& rewards,
                               const std::string& who) {
  TLCR_CHECK(rewards.size() == responses.size(), who, ": ", rewards.size(), " reward rows for ",
             responses.size(), " responses");
  for (std::size_t i = 0; i < responses.size(); ++i)
    TLCR_CHECK(rewards[i].size() == responses[i].size(), who, ": row ", i, " has ",
               rewards[i].size(), " rewards for ", responses[i].size(), " response tokens");
}

}  // namespace tlcr
