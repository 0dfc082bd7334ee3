// tlcr/rlhf/spread_reward.hpp — the Bradley–Terry sequence score spread over the response's
// tokens: two dense rewards that only redistribute the sequence score, baselines beside TLCR.
//
// For a response with score s (SequenceReward: normalised when the model stores a normalisation)
// and L = length_with_eos tokens (the ones the score read), token t gets r_t = s·w_t with
// Σ_{t<L} w_t = 1, and tokens after L get 0, so Σ_t r_t = s on every response:
//   Uniform    w_t = 1/L.
//   Attention  attention-based credit (Chan et al., ICML 2024, "Dense Reward for Free in RLHF"):
//              w_t ∝ the reward model's last-layer attention from the position its score is read
//              at (the last response token) to response token t, averaged over the heads and
//              renormalised over the L response tokens.
// Beside them: SequenceReward puts s on the last token (w = one-hot at L − 1), and the TLCR
// discriminator gives every token its own reward. A response with no token to read a score at
// (empty, or an end token first) gets zeros, as SequenceReward gives it.
// Not here: the sequence model and its score (sequence_reward.hpp), attention probabilities
// (nn/attention.hpp, SelfAttention::probabilities).
// Shape legend: B = rows, H = heads, T = padded prompt + response length, L = scored length.
#pragma once

#include <string>
#include <vector>

#include "tlcr/rlhf/sequence_reward.hpp"

namespace tlcr {

enum class SpreadRule { Uniform, Attention };

template <class T, class Arch, class D = Cpu>
class SpreadSequenceReward {
 public:
  SpreadSequenceReward(SequenceReward<T, Arch, D> sequence, SpreadRule rule)
      : sequence_(std::move(sequence)), rule_(rule) {}

  // r_t = s·w_t, one value per response token (the shape check_reward_shape expects).
  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    const std::vector<double> scores = sequence_.sequence_scores(prompts, responses);
    TokenRewards rewards = weights(prompts, responses);
    for (std::size_t b = 0; b < rewards.size(); ++b)
      for (float& r : rewards[b]) r = std::isnan(scores[b]) ? 0.0f : float(double(r) * scores[b]);
    return rewards;
  }

  // w_t: each row sums to 1 over its first L tokens and is 0 after them (all 0 when L = 0).
  TokenRewards weights(const TokenSequences& prompts, const TokenSequences& responses) const {
    TLCR_CHECK(prompts.size() == responses.size(), "SpreadSequenceReward: ", prompts.size(),
               " prompts for ", responses.size(), " responses");
    const ResponseEnds& ends = sequence_.ends();
    TokenRewards w(responses.size());
    std::vector<std::size_t> scored_rows;  // rows with L > 0
    for (std::size_t b = 0; b < responses.size(); ++b) {
      w[b].assign(responses[b].size(), 0.0f);
      const std::size_t L = ends.length_with_eos(responses[b]);
      if (L == 0) continue;
      if (rule_ == SpreadRule::Uniform)
        for (std::size_t t = 0; t < L; ++t) w[b][t] = float(1.0 / double(L));
      else
        scored_rows.push_back(b);
    }
    const int64_t batch = sequence_.batch_size();
    for (std::size_t begin = 0; begin < scored_rows.size(); begin += std::size_t(batch)) {
      const std::size_t end = std::min(scored_rows.size(), begin + std::size_t(batch));
      const std::vector<std::size_t> rows(scored_rows.begin() + begin, scored_rows.begin() + end);
      attention_weights(prompts, responses, rows, w);
    }
    return w;
  }

  std::string name() const {
    return std::string(rule_ == SpreadRule::Uniform ? "sequence-uniform" : "sequence-attention") +
           (sequence_.normalization() ? " (normalised)" : "");
  }

 private:
  // Attention credit for `rows` (each with L > 0), written into w: one forward of those rows.
  void attention_weights(const TokenSequences& prompts, const TokenSequences& responses,
                         const std::vector<std::size_t>& rows, TokenRewards& w) const {
    const Transformer<T, Arch, D>& model = sequence_.model();
    TokenSequences chunk_prompts, chunk_responses;
    for (std::size_t b : rows) {
      chunk_prompts.push_back(prompts[b]);
      chunk_responses.push_back(responses[b]);
    }
    const ScoredRows scored =
        make_scored_rows(chunk_prompts, chunk_responses, sequence_.ends(),
                         model.config().context_length, "attention-based credit");
    const TokenBatch& tokens = scored.rows.tokens;
    const Tensor<T> probs =  // (B,H,T,T), the last block's
        model.attention_probabilities(ModelInput::from(tokens), model.config().layers - 1)
            .to_host();
    const int64_t H = probs.shape()[1], T_ = tokens.time;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const int64_t query = scored.last_index[k], start = scored.rows.response_start[k];
      const int64_t L = scored.rows.response_length[k];
      std::vector<double> credit(L, 0.0);
      double total = 0;
      for (int64_t t = 0; t < L; ++t) {
        for (int64_t h = 0; h < H; ++h)
          credit[t] += double(probs.data()[((int64_t(k) * H + h) * T_ + query) * T_ + start + t]);
        total += credit[t];
      }
      // The score's own position attends to itself, so total > 0; guard anyway.
      for (int64_t t = 0; t < L; ++t)
        w[rows[k]][t] = float(total > 0 ? credit[t] / total : 1.0 / double(L));
    }
  }

  SequenceReward<T, Arch, D> sequence_;
  SpreadRule rule_;
};

}  // namespace tlcr
