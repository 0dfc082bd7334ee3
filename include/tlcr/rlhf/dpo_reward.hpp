// tlcr/rlhf/dpo_reward.hpp — the implicit token-level reward of a DPO policy (a TokenRewardModel).
//
// A DPO policy π and its reference π_ref define a reward for every response token,
//   r_t = β·(log π(a_t | x, a_<t) − log π_ref(a_t | x, a_<t)),
// whose sum over a response is DPO's implicit sequence reward β·(log π(y|x) − log π_ref(y|x))
// (rlhf/dpo.hpp). RTO (Zhong et al. 2024) trains PPO on this dense reward; here it is one more
// reward any PPO run can take.
// Placement: every token up to and including the first EOS gets its r_t — the EOS too, since the
// decision to stop is part of log π(y|x) (an exception to "EOS gets 0", like the sequence-level
// reward's); tokens from the first PAD, and any after the first EOS, get 0.
// Scoring runs both models under NoGrad, `batch_size` rows per forward pass, one download each.
// Not here: DPO training and the sequence log-probs (rlhf/dpo.hpp), the other rewards
// (rlhf/rewards.hpp, rlhf/sequence_reward.hpp).
// Shape legend: B = rows of a forward pass, K = their response tokens together.
#pragma once

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/rlhf/dpo.hpp"
#include "tlcr/rlhf/token_reward.hpp"

namespace tlcr {

template <class T, class Arch, class D = Cpu>
class DpoTokenReward {
 public:
  DpoTokenReward(std::shared_ptr<const Transformer<T, Arch, D>> policy,
                 std::shared_ptr<const Transformer<T, Arch, D>> reference, ResponseEnds ends,
                 double beta, int64_t batch_size = 16)
      : policy_(std::move(policy)),
        reference_(std::move(reference)),
        ends_(ends),
        beta_(beta),
        batch_size_(batch_size) {
    TLCR_CHECK(policy_ != nullptr && reference_ != nullptr,
               "DpoTokenReward: expected a policy and a reference, got ",
               policy_ ? "no reference" : "no policy");
    detail::check_dpo_beta(beta_, "DpoTokenReward");
    detail::check_dpo_models(*policy_, *reference_, "DpoTokenReward");
    TLCR_CHECK(batch_size_ > 0, "DpoTokenReward: batch_size must be positive, got ", batch_size_);
  }

  // r_t for every response token, one row per response (check_reward_shape's contract).
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    TLCR_CHECK(prompts.size() == responses.size(), "DpoTokenReward: ", prompts.size(),
               " prompts for ", responses.size(), " responses");
    TokenRewards rewards(responses.size());
    std::vector<std::size_t> scored;  // rows with at least one token up to the first EOS
    for (std::size_t row = 0; row < responses.size(); ++row) {
      rewards[row].assign(responses[row].size(), 0.0f);
      if (ends_.length_with_eos(responses[row]) == 0) continue;
      TLCR_CHECK(!prompts[row].empty(), "DpoTokenReward: row ", row,
                 " has an empty prompt (expected at least one token, BOS for a chat prompt)");
      scored.push_back(row);
    }
    NoGrad no_grad;
    const std::size_t step = static_cast<std::size_t>(batch_size_);
    for (std::size_t begin = 0; begin < scored.size(); begin += step) {
      const std::size_t end = std::min(scored.size(), begin + step);
      TokenSequences chunk_prompts, chunk_responses;
      for (std::size_t k = begin; k < end; ++k) {
        chunk_prompts.push_back(prompts[scored[k]]);
        chunk_responses.push_back(responses[scored[k]]);
      }
      const SequenceLogProbRows rows =
          make_sequence_log_prob_rows(chunk_prompts, chunk_responses, ends_,
                                      policy_->config().context_length, "DpoTokenReward");
      const DeviceSequenceRows<D> up = upload_sequence_rows(*policy_, rows);
      const Var<T, D> log_ratio = sub(response_token_log_probs(*policy_, up.responses),
                                      response_token_log_probs(*reference_, up.responses));
      const std::vector<T> values = scale(log_ratio, T(beta_)).value().to_vector();  // (K)
      const std::vector<int64_t>& offsets = rows.responses.offsets;
      for (std::size_t k = begin; k < end; ++k) {
        const std::size_t b = k - begin;
        std::vector<float>& row = rewards[scored[k]];
        for (int64_t t = offsets[b]; t < offsets[b + 1]; ++t)
          row[static_cast<std::size_t>(t - offsets[b])] = static_cast<float>(values[t]);
      }
    }
    return rewards;
  }

  std::string name() const {
    std::ostringstream text;
    text << "dpo (beta " << beta_ << ")";
    return text.str();
  }
  double beta() const { return beta_; }

 private:
  std::shared_ptr<const Transformer<T, Arch, D>> policy_, reference_;
  ResponseEnds ends_;
  double beta_;
  int64_t batch_size_;
};

// The implicit reward of the DPO policy in `policy_dir` against the reference in `reference_dir`
// (read_dpo_policy_info gives the β and reference a `tlcr dpo` run recorded).
template <class T, class Arch, class D = Cpu>
DpoTokenReward<T, Arch, D> load_dpo_token_reward(const std::filesystem::path& policy_dir,
                                                 const std::filesystem::path& reference_dir,
                                                 const ResponseEnds& ends, double beta,
                                                 int64_t batch_size = 16) {
  return DpoTokenReward<T, Arch, D>(
      std::make_shared<const Transformer<T, Arch, D>>(load_model<T, Arch, D>(policy_dir)),
      std::make_shared<const Transformer<T, Arch, D>>(load_model<T, Arch, D>(reference_dir)), ends,
      beta, batch_size);
}

}  // namespace tlcr
