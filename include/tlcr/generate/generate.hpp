// tlcr/generate/generate.hpp — batched sampling with a KV cache.
//
// Prompts are left-padded to a common length P and run through the model once (the "prefill");
// then each step feeds only the B newest tokens, reusing cached keys and values. Every row has its
// own Rng (split from the caller's in row order), so a row's sample does not depend on which other
// rows share its batch. A row finishes at EOS or a stop token (kept in its output) or after
// max_new_tokens; finished rows keep computing padding that nobody reads, so the batch stays dense.
// Returns, per row, the new tokens and their log-probabilities under the model's unmodified
// distribution (what PPO stores as old log-probs).
// Not here: choosing one token from logits (generate/sampler.hpp).
// Shape legend: B = rows, P = padded prompt length, N = max_new_tokens, V = vocabulary.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "tlcr/autograd/tape.hpp"
#include "tlcr/generate/sampler.hpp"
#include "tlcr/models/transformer.hpp"

namespace tlcr {

struct GenerationOptions {
  SamplingOptions sampling;
  int64_t max_new_tokens = 64;
  int32_t eos_token = -1;            // -1: none
  std::vector<int32_t> stop_tokens;  // also end a row
  int32_t pad_token = 0;             // fed to finished rows and used for left padding
};

struct GenerationResult {
  std::vector<std::vector<int32_t>> tokens;   // per row: the new tokens (stop token included)
  std::vector<std::vector<double>> logprobs;  // per row: log π(token | prefix) of each new token
  std::vector<bool> stopped;                  // per row: ended by EOS / stop token (not length)
};

template <class T, class Arch>
GenerationResult generate(const Transformer<T, Arch>& model,
                          const std::vector<std::vector<int32_t>>& prompts,
                          const GenerationOptions& options, Rng& rng) {
  options.sampling.validate();
  TLCR_CHECK(!prompts.empty(), "generate: no prompts");
  NoGrad no_grad;
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t P = 0;
  for (const auto& prompt : prompts) {
    TLCR_CHECK(!prompt.empty(), "generate: empty prompt (give at least a BOS token)");
    P = std::max<int64_t>(P, prompt.size());
  }
  const int64_t capacity = P + options.max_new_tokens;
  const TransformerConfig& config = model.config();
  if (Arch::kLearnedPositions)
    TLCR_CHECK(capacity <= config.context_length, "generate: prompt length ", P, " + ",
               options.max_new_tokens, " new tokens exceed the context length ", config.context_length);

  std::vector<Rng> row_rngs;
  for (int64_t b = 0; b < B; ++b) row_rngs.push_back(rng.split());

  // Prefill inputs: left padding, key mask over the whole cache, positions counting real tokens.
  std::vector<int32_t> ids(B * P, options.pad_token), positions(B * P, 0), next_position(B, 0);
  std::vector<uint8_t> key_mask(B * capacity, 0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t pad = P - static_cast<int64_t>(prompts[b].size());
    for (int64_t t = pad; t < P; ++t) {
      ids[b * P + t] = prompts[b][t - pad];
      positions[b * P + t] = next_position[b]++;
      key_mask[b * capacity + t] = 1;
    }
  }

  KvCache<T> cache(config.layers, B, config.heads, capacity, config.head_size());
  GenerationResult result;
  result.tokens.resize(B), result.logprobs.resize(B), result.stopped.assign(B, false);
  std::vector<bool> finished(B, false);
  const int64_t C = config.width, V = config.vocab_size;

  Var<T> h = model.hidden({B, P, ids, key_mask, positions}, &cache);
  int64_t step_time = P;  // time steps in h
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    // Logits of each row's last step only: (B,1,C) → (B,1,V).
    Tensor<T> last(Shape{B, 1, C});
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(h.value().data() + (b * step_time + step_time - 1) * C, C, last.data() + b * C);
    const Var<T> logits = model.lm_logits(constant(last));

    std::vector<int32_t> next_ids(B, options.pad_token), next_positions(B, 0);
    bool all_finished = true;
    for (int64_t b = 0; b < B; ++b) {
      if (finished[b]) continue;
      const std::span<const T> row(logits.value().data() + b * V, V);
      const SampledToken sampled = sample_token(row, options.sampling, row_rngs[b]);
      result.tokens[b].push_back(sampled.token);
      result.logprobs[b].push_back(sampled.logprob);
      const bool stop = sampled.token == options.eos_token ||
                        std::find(options.stop_tokens.begin(), options.stop_tokens.end(),
                                  sampled.token) != options.stop_tokens.end();
      if (stop) result.stopped[b] = true;
      finished[b] = stop || static_cast<int64_t>(result.tokens[b].size()) == options.max_new_tokens;
      next_ids[b] = sampled.token;
      next_positions[b] = next_position[b]++;
      key_mask[b * capacity + P + step] = 1;
      all_finished = all_finished && finished[b];
    }
    if (all_finished || step + 1 == options.max_new_tokens) break;
    h = model.hidden({B, 1, next_ids, key_mask, next_positions}, &cache);
    step_time = 1;
  }
  return result;
}

}  // namespace tlcr
