// tlcr/rlhf/ppo/rollout.hpp — one PPO rollout batch: sampled responses and everything PPO computes
// about each of their tokens, packed.
//
// A rollout goes through four phases (the trainer times each):
//   1. sample        generate() from the policy under NoGrad (KV cache, per-row RNG streams)
//   2. score_models  one batched forward per model under NoGrad: the policy's log-probs and
//                    entropy, the reference's log-probs and full KL, the critic's values
//   3. score_reward  r_t from any TokenRewardModel
//   4. shape         rew_t = clip(r_t) − β·KL_t, GAE, returns, whitening
// then check_rollout verifies the invariants and stops at the first non-finite value, naming it.
//
// Packing: row b's response tokens are entries [offsets[b], offsets[b+1]) of every per-token
// vector, so a whole batch is one flat array (N = total response tokens) that the losses read
// directly. Token t of a response is predicted from the hidden state at position
// prompt_length + t − 1 of "prompt + response"; ResponseBatch records those positions, and
// DeviceResponseBatch holds them on the device with the rest of the batch's index data.
// Log-probs of the rollout are recomputed with the same batched forward the update uses (not taken
// from the sampler), so with one epoch and one minibatch the update's ratio is exactly 1; the
// sampler's own log-probs are kept to measure how far the KV-cache path drifts from it.
// Not here: the update (trainer.hpp), the reward models (rlhf/rewards.hpp and friends).
// Shape legend: B = rows, T = padded prompt + response length, C = width, V = vocabulary,
//               N = response tokens in the batch.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/generate/generate.hpp"
#include "tlcr/rlhf/ppo/config.hpp"
#include "tlcr/rlhf/ppo/gae.hpp"
#include "tlcr/rlhf/ppo/kl.hpp"
#include "tlcr/rlhf/token_reward.hpp"
#include "tlcr/train/batches.hpp"

namespace tlcr {

// ---- the batched forward over (prompt, response) rows ------------------------------------------

struct ResponseBatch {
  TokenBatch batch;                 // right-padded prompt + response rows, targets on the responses
  std::vector<int32_t> predict_at;  // (N) flat index in B·T of the state that predicts each token
  std::vector<int32_t> tokens;      // (N) the response tokens, packed
  std::vector<int64_t> offsets;     // (B+1) row b's tokens are [offsets[b], offsets[b+1])

  int64_t token_count() const { return static_cast<int64_t>(tokens.size()); }
};

// Packs rows `rows` of (prompts, responses), in that order. Checks that the loss targets cover
// exactly the response tokens: every response token is a target at its predicting position, over
// real (unmasked) tokens, and nothing else is a target.
inline ResponseBatch make_response_batch(const TokenSequences& prompts,
                                         const TokenSequences& responses,
                                         std::span<const int64_t> rows, int32_t pad_token) {
  TLCR_CHECK(prompts.size() == responses.size(), "make_response_batch: ", prompts.size(),
             " prompts for ", responses.size(), " responses");
  TLCR_CHECK(!rows.empty(), "make_response_batch: no rows");
  std::vector<SequenceRow> sequences;
  ResponseBatch out;
  out.offsets.push_back(0);
  for (int64_t r : rows) {
    TLCR_CHECK(r >= 0 && r < static_cast<int64_t>(prompts.size()), "make_response_batch: row ", r,
               " of ", prompts.size());
    const auto& prompt = prompts[r];
    const auto& response = responses[r];
    TLCR_CHECK(!prompt.empty() && !response.empty(), "make_response_batch: row ", r, " has ",
               prompt.size(), " prompt and ", response.size(), " response tokens (need ≥ 1 each)");
    SequenceRow row{prompt, static_cast<int64_t>(prompt.size())};
    row.tokens.insert(row.tokens.end(), response.begin(), response.end());
    sequences.push_back(std::move(row));
    out.offsets.push_back(out.offsets.back() + static_cast<int64_t>(response.size()));
  }
  int64_t longest = 0;
  for (const auto& s : sequences) longest = std::max<int64_t>(longest, s.tokens.size());
  out.batch = make_sequence_batch(std::span<const SequenceRow>(sequences), longest, pad_token);

  const TokenBatch& b = out.batch;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& prompt = prompts[rows[k]];
    const auto& response = responses[rows[k]];
    for (std::size_t t = 0; t < response.size(); ++t) {
      const int64_t at =
          static_cast<int64_t>(k) * b.time + static_cast<int64_t>(prompt.size() + t) - 1;
      TLCR_CHECK(b.targets[at] == response[t] && b.key_mask[at] && b.key_mask[at + 1],
                 "make_response_batch: the loss mask misses response token ", t, " of row ",
                 rows[k]);
      out.predict_at.push_back(static_cast<int32_t>(at));
      out.tokens.push_back(response[t]);
    }
  }
  TLCR_CHECK(b.target_count() == out.token_count(), "make_response_batch: ", b.target_count(),
             " loss targets for ", out.token_count(), " response tokens");
  return out;
}

// A ResponseBatch's index data on device D: the models' tokens, the predicting positions and the
// response tokens, in two uploads (Transformer::upload) that every model reading the batch shares.
template <class D>
struct DeviceResponseBatch {
  DeviceTokens<D> tokens;
  Tensor<int32_t, D> predict_at, response_tokens;  // (N) each
  int64_t rows = 0, time = 0;
};

// Uploads rb's index data, checked against `model` (the others must share its context length).
template <class T, class Arch, class D>
DeviceResponseBatch<D> upload_response_batch(const Transformer<T, Arch, D>& model,
                                             const ResponseBatch& rb) {
  DeviceBatch<D> up = model.upload(ModelInput::from(rb.batch), {rb.predict_at, rb.tokens});
  return {std::move(up.tokens), up.indices[0], up.indices[1], rb.batch.batch, rb.batch.time};
}

// Hidden states at the positions that predict the response tokens: (1, N, C), differentiable.
template <class T, class Arch, class D>
Var<T, D> response_hidden(const Transformer<T, Arch, D>& model, const DeviceResponseBatch<D>& rb) {
  const Var<T, D> h = model.hidden(rb.tokens);  // (B, T, C)
  const int64_t C = h.shape()[2], N = rb.predict_at.numel();
  const Var<T, D> picked =
      embedding(reshape(h, Shape{rb.rows * rb.time, C}), rb.predict_at, Shape{N});  // (N, C)
  return reshape(picked, Shape{1, N, C});
}
template <class T, class Arch, class D>
Var<T, D> response_hidden(const Transformer<T, Arch, D>& model, const ResponseBatch& rb) {
  return response_hidden(model, upload_response_batch(model, rb));
}

// Next-token logits (N, V) from response_hidden's (1, N, C).
template <class T, class Arch, class D>
Var<T, D> response_logits(const Transformer<T, Arch, D>& model, const Var<T, D>& h) {
  return reshape(model.lm_logits(h), Shape{h.shape()[1], model.config().vocab_size});
}

// Values (N) from response_hidden's (1, N, C).
template <class T, class Arch, class D>
Var<T, D> response_values(const Transformer<T, Arch, D>& model, const Var<T, D>& h) {
  return reshape(model.values(h), Shape{h.shape()[1]});
}

// ---- the rollout -------------------------------------------------------------------------------

struct Rollout {
  TokenSequences prompts, responses;
  std::vector<uint8_t> ended;  // (B) 1 = ended by EOS or a stop token, 0 = cut by the length limit
  std::vector<int64_t> offsets;  // (B+1)

  // One entry per response token, packed (N):
  std::vector<double> sampler_logprobs;  // log π(a_t) as the KV-cache sampler computed it
  std::vector<double> logprobs;          // log π_old(a_t), from the batched forward
  std::vector<double> ref_logprobs;      // log π_ref(a_t)
  std::vector<double> values;            // V_old,t
  std::vector<double> entropy;           // −Σ_v π log π at t
  std::vector<double> kl_full;           // Σ_v π (log π − log π_ref) at t
  std::vector<double> kl;                // KL_t as the reward uses it (the configured estimator)
  std::vector<double> scores;            // r_t from the reward model, as returned
  std::vector<double> rewards;           // rew_t = clip(r_t) − β·KL_t (− missing-EOS penalty)
  std::vector<double> advantages;        // GAE A_t (of the whitened rewards when whiten_rewards)
  std::vector<double> returns;           // R_t = A_t + V_old,t
  std::vector<double> train_advantages;  // what the surrogate uses: A_t, whitened if configured
  double kl_coef = 0;                    // β used for this batch

  int64_t rows() const { return static_cast<int64_t>(responses.size()); }
  int64_t tokens() const { return offsets.empty() ? 0 : offsets.back(); }
  int64_t row_length(int64_t b) const { return offsets[b + 1] - offsets[b]; }
  // Row b's entries of a packed per-token vector.
  template <class Vector>
  auto row(Vector& per_token, int64_t b) const {
    return std::span(per_token).subspan(offsets[b], row_length(b));
  }
  // Entries `rows` of a packed per-token vector, concatenated in that order.
  std::vector<double> gather(const std::vector<double>& per_token,
                             std::span<const int64_t> rows) const {
    std::vector<double> out;
    for (int64_t b : rows) {
      const auto part = row(per_token, b);
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }
};

// Phase 1: the rollout of freshly sampled responses.
inline Rollout start_rollout(TokenSequences prompts, const GenerationResult& generated) {
  TLCR_CHECK(prompts.size() == generated.tokens.size(), "start_rollout: ", prompts.size(),
             " prompts, ", generated.tokens.size(), " responses");
  Rollout r;
  r.prompts = std::move(prompts);
  r.responses = generated.tokens;
  r.offsets.push_back(0);
  for (std::size_t b = 0; b < r.responses.size(); ++b) {
    r.ended.push_back(generated.stopped[b] ? 1 : 0);
    r.offsets.push_back(r.offsets.back() + static_cast<int64_t>(r.responses[b].size()));
    r.sampler_logprobs.insert(r.sampler_logprobs.end(), generated.logprobs[b].begin(),
                              generated.logprobs[b].end());
  }
  return r;
}

// Samples one response per prompt from the policy and starts the rollout.
template <class T, class Arch, class D>
Rollout sample_rollout(const Transformer<T, Arch, D>& policy, TokenSequences prompts,
                       const GenerationOptions& options, Rng& rng) {
  const GenerationResult generated = generate(policy, prompts, options, rng);
  return start_rollout(std::move(prompts), generated);
}

// Phase 2: log-probs, entropy and full KL from the policy and the reference, values from the
// critic (nullptr: the policy's own value head). Rows go through in chunks of `chunk_rows`; each
// chunk's index data goes up once for all three models (two uploads) and its per-token numbers
// come to the host as one (N, 5) table (ops/token_stats.hpp).
template <class T, class Arch, class D>
void score_with_models(Rollout& r, const Transformer<T, Arch, D>& policy,
                       const Transformer<T, Arch, D>& reference,
                       const Transformer<T, Arch, D>* critic, int64_t chunk_rows,
                       int32_t pad_token) {
  TLCR_CHECK(chunk_rows > 0, "score_with_models: chunk_rows must be positive");
  TLCR_CHECK(reference.config().vocab_size == policy.config().vocab_size,
             "score_with_models: the reference has ", reference.config().vocab_size,
             " tokens, the policy ", policy.config().vocab_size);
  NoGrad no_grad;
  const int64_t N = r.tokens();
  r.logprobs.assign(N, 0), r.ref_logprobs.assign(N, 0), r.values.assign(N, 0);
  r.entropy.assign(N, 0), r.kl_full.assign(N, 0);
  for (int64_t first = 0; first < r.rows(); first += chunk_rows) {
    std::vector<int64_t> rows;
    for (int64_t b = first; b < std::min(r.rows(), first + chunk_rows); ++b) rows.push_back(b);
    const ResponseBatch host_rb = make_response_batch(r.prompts, r.responses, rows, pad_token);
    const DeviceResponseBatch<D> rb = upload_response_batch(policy, host_rb);

    const Var<T, D> h = response_hidden(policy, rb);
    const Var<T, D> logits = response_logits(policy, h);
    const Var<T, D> ref_logits = response_logits(reference, response_hidden(reference, rb));
    const Var<T, D> logprobs = token_log_probs(logits, rb.response_tokens);
    const Var<T, D> ref_logprobs = token_log_probs(ref_logits, rb.response_tokens);
    const Var<T, D> values = critic ? response_values(*critic, response_hidden(*critic, rb))
                                    : response_values(policy, h);
    const std::vector<double> stats =  // (n, 5), the chunk's one download
        rollout_token_stats(logits.value(), ref_logits.value(), logprobs.value(),
                            ref_logprobs.value(), values.value())
            .to_vector();
    const int64_t base = r.offsets[first];  // the chunk's rows are consecutive
    for (int64_t i = 0; i < host_rb.token_count(); ++i) {
      const double* row = stats.data() + i * 5;
      r.logprobs[base + i] = row[0];
      r.ref_logprobs[base + i] = row[1];
      r.values[base + i] = row[2];
      r.entropy[base + i] = row[3];
      r.kl_full[base + i] = row[4];
    }
  }
}

// Phase 3: r_t from the reward model.
template <TokenRewardModel Reward>
void score_with_reward(Rollout& r, const Reward& reward) {
  const TokenRewards scores = reward.score(r.prompts, r.responses);
  check_reward_shape(r.responses, scores, std::string("reward model '") + reward.name() + "'");
  r.scores.clear();
  for (const auto& row : scores) r.scores.insert(r.scores.end(), row.begin(), row.end());
}

// Phase 4: shaped rewards, GAE, returns and the advantages the surrogate uses.
inline void shape_rewards(Rollout& r, const PpoConfig& config, double kl_coef) {
  const int64_t N = r.tokens();
  TLCR_CHECK(
      static_cast<int64_t>(r.scores.size()) == N && static_cast<int64_t>(r.kl_full.size()) == N,
      "shape_rewards: score the rollout first (", r.scores.size(), " scores, ", r.kl_full.size(),
      " KL values for ", N, " tokens)");
  r.kl_coef = kl_coef;
  r.kl.assign(N, 0), r.rewards.assign(N, 0);
  for (int64_t i = 0; i < N; ++i) {
    r.kl[i] = kl_for_reward(config.kl_estimator, r.logprobs[i], r.ref_logprobs[i], r.kl_full[i]);
    const double score = config.reward_clip > 0
                             ? std::clamp(r.scores[i], -config.reward_clip, config.reward_clip)
                             : r.scores[i];
    r.rewards[i] = score - kl_coef * r.kl[i];
  }
  for (int64_t b = 0; b < r.rows(); ++b)
    if (!r.ended[b] && r.row_length(b) > 0)
      r.rewards[r.offsets[b + 1] - 1] -= config.missing_eos_penalty;

  std::vector<double> gae_rewards = r.rewards;
  if (config.whiten_rewards) whiten(gae_rewards, /*keep_mean=*/true);
  r.advantages.assign(N, 0), r.returns.assign(N, 0);
  for (int64_t b = 0; b < r.rows(); ++b)
    generalized_advantages(r.row(gae_rewards, b), r.row(r.values, b), config.gamma, config.lambda,
                           r.row(r.advantages, b), r.row(r.returns, b));
  r.train_advantages = r.advantages;
  if (config.whiten_advantages) whiten(r.train_advantages);
}

// ---- invariants --------------------------------------------------------------------------------

namespace detail {
inline std::string token_place(const Rollout& r, int64_t i) {
  const int64_t b = std::upper_bound(r.offsets.begin(), r.offsets.end(), i) - r.offsets.begin() - 1;
  return "row " + std::to_string(b) + ", response token " + std::to_string(i - r.offsets[b]) +
         " (id " + std::to_string(r.responses[b][i - r.offsets[b]]) + ")";
}
}  // namespace detail

// Throws tlcr::Error (prefixed with `where`) at the first violation, in this order: a non-finite
// value (naming the quantity, the row and the token), returns ≠ advantages + values, a full KL
// below −1e-6, per-token vectors of the wrong length.
inline void check_rollout(const Rollout& r, const std::string& where) {
  const int64_t N = r.tokens();
  const std::pair<const char*, const std::vector<double>*> quantities[] = {
      {"policy log-prob", &r.logprobs},
      {"reference log-prob", &r.ref_logprobs},
      {"value", &r.values},
      {"entropy", &r.entropy},
      {"full KL", &r.kl_full},
      {"reward-model score", &r.scores},
      {"KL in the reward", &r.kl},
      {"shaped reward", &r.rewards},
      {"advantage", &r.advantages},
      {"return", &r.returns},
      {"training advantage", &r.train_advantages}};
  for (const auto& [name, values] : quantities) {
    TLCR_CHECK(static_cast<int64_t>(values->size()) == N, where, ": ", values->size(), " ", name,
               " entries for ", N, " response tokens");
    for (int64_t i = 0; i < N; ++i)
      if (!std::isfinite((*values)[i]))
        detail::fail(where, ": first non-finite value: ", name, " = ", (*values)[i], " at ",
                     detail::token_place(r, i));
  }
  for (int64_t i = 0; i < N; ++i) {
    const double expected = r.advantages[i] + r.values[i];
    if (std::abs(r.returns[i] - expected) > 1e-9 * std::max(1.0, std::abs(expected)))
      detail::fail(where, ": return ", r.returns[i], " ≠ advantage + value ", expected, " at ",
                   detail::token_place(r, i));
    if (r.kl_full[i] < -1e-6)
      detail::fail(where, ": full KL ", r.kl_full[i], " < 0 at ", detail::token_place(r, i));
  }
}

}  // namespace tlcr
