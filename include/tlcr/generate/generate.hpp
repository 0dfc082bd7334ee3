// tlcr/generate/generate.hpp — batched sampling with a KV cache.
//
// Prompts are left-padded to a common length P and run through the model once (the "prefill");
// then each step feeds only the B newest tokens, reusing cached keys and values. Every row has its
// own Rng (split from the caller's in row order), so a row's sample does not depend on which other
// rows share its batch. A row finishes at EOS or a stop token (kept in its output) or after
// max_new_tokens; finished rows keep computing padding that nobody reads, so the batch stays dense.
// On a device the loop's state stays there (generate/decode_step.hpp): per batch, the prompts and
// the per-row Rng states go up once, the results come back once, and in between only the
// "all finished?" flags cross, every few steps.
// Returns, per row, the new tokens and their log-probabilities under the model's unmodified
// distribution (what PPO stores as old log-probs).
// Not here: choosing one token from logits (generate/sampler.hpp).
// Shape legend: B = rows, P = padded prompt length, N = max_new_tokens, V = vocabulary.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "tlcr/autograd/tape.hpp"
#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/generate/decode_step.hpp"
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

template <class T, class Arch, class D>
GenerationResult generate(const Transformer<T, Arch, D>& model,
                          const std::vector<std::vector<int32_t>>& prompts,
                          const GenerationOptions& options, Rng& rng) {
  options.sampling.validate();
  TLCR_CHECK(!prompts.empty(), "generate: no prompts");
  TLCR_CHECK(options.max_new_tokens >= 0, "generate: max_new_tokens must be ≥ 0, got ",
             options.max_new_tokens);
  NoGrad no_grad;
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t P = 0;
  for (const auto& prompt : prompts) {
    TLCR_CHECK(!prompt.empty(), "generate: empty prompt (give at least a BOS token)");
    P = std::max<int64_t>(P, prompt.size());
  }
  const int64_t N = options.max_new_tokens, capacity = P + N;
  const TransformerConfig& config = model.config();
  if (Arch::kLearnedPositions)
    TLCR_CHECK(capacity <= config.context_length, "generate: prompt length ", P, " + ", N,
               " new tokens exceed the context length ", config.context_length);
  GenerationResult result;
  result.tokens.resize(B), result.logprobs.resize(B), result.stopped.assign(B, false);
  if (N == 0) return result;

  // Prefill inputs: left padding, key mask over the whole cache, positions counting real tokens.
  std::vector<int32_t> ids(B * P, options.pad_token), positions(B * P, 0), position_count(B, 0);
  std::vector<uint8_t> key_mask(B * capacity, 0);
  std::vector<uint64_t> rng_states;
  std::vector<int32_t> last_rows(B);  // row of each prompt's last token in the (B·P) prefill
  for (int64_t b = 0; b < B; ++b) {
    const int64_t pad = P - static_cast<int64_t>(prompts[b].size());
    for (int64_t t = pad; t < P; ++t) {
      ids[b * P + t] = prompts[b][t - pad];
      positions[b * P + t] = position_count[b]++;
      key_mask[b * capacity + t] = 1;
    }
    last_rows[b] = static_cast<int32_t>(b * P + P - 1);
    // Every row has its own Rng (split from the caller's in row order), so a row's sample does
    // not depend on which other rows share its batch.
    const auto state = rng.split().state();
    rng_states.insert(rng_states.end(), state.begin(), state.end());
  }

  // The loop's state goes to the device once.
  DecodeState<D> s;
  s.tokens = Tensor<int32_t, D>::full(Shape{B, N}, options.pad_token);
  s.logprobs = Tensor<double, D>::zeros(Shape{B, N});
  s.lengths = Tensor<int32_t, D>::zeros(Shape{B});
  s.stopped = Tensor<uint8_t, D>::zeros(Shape{B});
  s.finished = Tensor<uint8_t, D>::zeros(Shape{B});
  s.rng_states = Tensor<uint64_t, D>::from(Shape{B, 6}, rng_states);
  s.position_count = Tensor<int32_t, D>::from(Shape{B}, position_count);
  s.next_ids = Tensor<int32_t, D>::zeros(Shape{B});
  s.next_positions = Tensor<int32_t, D>::zeros(Shape{B});
  s.key_mask = Tensor<uint8_t, D>::from(Shape{B, capacity}, key_mask);
  const auto stop_tokens = Tensor<int32_t, D>::from(
      Shape{int64_t(options.stop_tokens.size())}, options.stop_tokens);

  KvCache<T, D> cache(config.layers, B, config.heads, capacity, config.head_size());
  DeviceTokens<D> prefill{B, P, Tensor<int32_t, D>::from(Shape{B * P}, ids)};
  prefill.layout = {s.key_mask, Tensor<int32_t, D>::from(Shape{B * P}, positions)};
  const Var<T, D> h = model.hidden(prefill, &cache);
  // Each row's last prompt step: (B·P, C) rows picked → (B, C).
  Var<T, D> last = embedding(reshape(h, Shape{B * P, config.width}),
                             Tensor<int32_t, D>::from(Shape{B}, last_rows), Shape{B});
  // A host-readable device answers "all finished?" for free after every step; elsewhere the
  // flags cross every kFinishCheck steps, which may run a few steps for rows that ended.
  constexpr int64_t kFinishCheck = HostAccessible<D> ? 1 : 8;
  DecodeStep step_options{options.sampling, options.eos_token, options.pad_token, 0, P, N};
  for (int64_t step = 0; step < N; ++step) {
    step_options.step = step;
    const Var<T, D> logits = model.lm_logits(last);
    decode_step(s.tokens, s.logprobs, s.lengths, s.stopped, s.finished, s.rng_states,
                s.position_count, s.next_ids, s.next_positions, s.key_mask, logits.value(),
                stop_tokens, step_options);
    if (step + 1 == N) break;
    if ((step + 1) % kFinishCheck == 0) {
      const std::vector<uint8_t> finished = s.finished.to_vector();
      if (std::all_of(finished.begin(), finished.end(), [](uint8_t f) { return f != 0; })) break;
    }
    const DeviceTokens<D> next{B, 1, s.next_ids, {s.key_mask, s.next_positions}};
    last = reshape(model.hidden(next, &cache), Shape{B, config.width});
  }

  // The results cross once.
  const std::vector<int32_t> tokens = s.tokens.to_vector(), lengths = s.lengths.to_vector();
  const std::vector<double> logprobs = s.logprobs.to_vector();
  const std::vector<uint8_t> stopped = s.stopped.to_vector();
  for (int64_t b = 0; b < B; ++b) {
    result.tokens[b].assign(tokens.begin() + b * N, tokens.begin() + b * N + lengths[b]);
    result.logprobs[b].assign(logprobs.begin() + b * N, logprobs.begin() + b * N + lengths[b]);
    result.stopped[b] = stopped[b] != 0;
  }
  return result;
}

}  // namespace tlcr
