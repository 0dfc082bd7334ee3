// tlcr/generate/generate.hpp — batched sampling with a KV cache.
//
// Prompts are left-padded to a common length P and run through the model once (the "prefill");
// then each step feeds only the B newest tokens, reusing cached keys and values. Every row has its
// own Rng (split from the caller's in row order), so a row's sample does not depend on which other
// rows share its batch. A row finishes at EOS or a stop token (kept in its output) or after
// max_new_tokens; finished rows keep computing padding that nobody reads, so the batch stays dense.
// On a device the loop's state stays there (generate/decode_step.hpp): per batch, the prompts and
// the per-row Rng states go up once (three uploads), the results come back once (one download),
// and in between only the "all finished?" flags cross, every few steps.
// Returns, per row, the new tokens and their log-probabilities under the model's unmodified
// distribution (what PPO stores as old log-probs).
// Not here: choosing one token from logits (generate/sampler.hpp).
// Shape legend: B = rows, P = padded prompt length, N = max_new_tokens, V = vocabulary.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/autograd/tape.hpp"
#include "tlcr/generate/decode_step.hpp"
#include "tlcr/generate/sampler.hpp"
#include "tlcr/models/transformer.hpp"
#include "tlcr/ops/token_stats.hpp"

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

  // The loop's state goes to the device once: the int32 index data (position counters, stop
  // tokens, prefill ids and positions, last prompt rows) as one upload, viewed in parts.
  const int64_t S = int64_t(options.stop_tokens.size());
  std::vector<int32_t> packed(position_count);
  packed.insert(packed.end(), options.stop_tokens.begin(), options.stop_tokens.end());
  packed.insert(packed.end(), ids.begin(), ids.end());
  packed.insert(packed.end(), positions.begin(), positions.end());
  packed.insert(packed.end(), last_rows.begin(), last_rows.end());
  const auto indices = Tensor<int32_t, D>::from(Shape{int64_t(packed.size())}, packed);
  DecodeState<D> s;
  s.tokens = Tensor<int32_t, D>::full(Shape{B, N}, options.pad_token);
  s.logprobs = Tensor<double, D>::zeros(Shape{B, N});
  s.lengths = Tensor<int32_t, D>::zeros(Shape{B});
  s.stopped = Tensor<uint8_t, D>::zeros(Shape{B});
  s.finished = Tensor<uint8_t, D>::zeros(Shape{B});
  s.rng_states = Tensor<uint64_t, D>::from(Shape{B, 6}, rng_states);
  s.position_count = indices.slice(0, B);
  s.next_ids = Tensor<int32_t, D>::zeros(Shape{B});
  s.next_positions = Tensor<int32_t, D>::zeros(Shape{B});
  s.key_mask = Tensor<uint8_t, D>::from(Shape{B, capacity}, key_mask);
  const Tensor<int32_t, D> stop_tokens = indices.slice(B, B + S);

  KvCache<T, D> cache(config.layers, B, config.heads, capacity, config.head_size());
  const int64_t prefill_at = B + S;
  DeviceTokens<D> prefill{B, P, indices.slice(prefill_at, prefill_at + B * P)};
  prefill.layout = {s.key_mask, indices.slice(prefill_at + B * P, prefill_at + 2 * B * P)};
  const Var<T, D> h = model.hidden(prefill, &cache);
  // Each row's last prompt step: (B·P, C) rows picked → (B, C).
  Var<T, D> last =
      embedding(reshape(h, Shape{B * P, config.width}),
                indices.slice(prefill_at + 2 * B * P, prefill_at + 2 * B * P + B), Shape{B});
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

  // The results cross once, side by side as double (exact for the ids, lengths and flags):
  // tokens (B·N), log-probs (B·N), lengths (B), stop flags (B).
  const std::vector<double> results =
      pack_as_double(s.tokens, s.logprobs, s.lengths, s.stopped).to_vector();
  const double* tokens = results.data();
  const double* logprobs = tokens + B * N;
  const double* lengths = logprobs + B * N;
  const double* stopped = lengths + B;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t length = static_cast<int64_t>(lengths[b]);
    for (int64_t t = 0; t < length; ++t)
      result.tokens[b].push_back(static_cast<int32_t>(tokens[b * N + t]));
    result.logprobs[b].assign(logprobs + b * N, logprobs + b * N + length);
    result.stopped[b] = stopped[b] != 0;
  }
  return result;
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_GENERATE_GENERATE_INSTANCES(extern_, T)                                   \
  extern_ template GenerationResult generate<T, Gpt2Arch, Cpu>(                        \
      const Transformer<T, Gpt2Arch, Cpu>&, const std::vector<std::vector<int32_t>>&,  \
      const GenerationOptions&, Rng&);                                                 \
  extern_ template GenerationResult generate<T, LlamaArch, Cpu>(                       \
      const Transformer<T, LlamaArch, Cpu>&, const std::vector<std::vector<int32_t>>&, \
      const GenerationOptions&, Rng&);
TLCR_DECLARE_INSTANCES(TLCR_GENERATE_GENERATE_INSTANCES)

}  // namespace tlcr
