// tlcr/generate/decode_step.hpp — one step of batched decoding as a kernel: sample every unfinished
// row's next token from its logits, record it, and prepare the next step's inputs in place.
//
// Everything a decoding loop changes between steps lives on the model's device: the tokens and
// log-probabilities so far, each row's length, finished and stopped flags, its Rng state, the next
// step's ids and positions and the key mask over the cache. So a step moves nothing between host
// and device, and generate() reads the results once at the end. The sampling itself is
// sample_token (generate/sampler.hpp), applied to each row with that row's own Rng.
// A finished row is fed the pad token at position 0 and changes nothing more.
// Not here: the loop and the model calls (generate/generate.hpp).
// Shape legend: B = rows, V = vocabulary, N = max_new_tokens, K = cache capacity (P + N).
#pragma once

#include <algorithm>
#include <span>

#include "tlcr/core/rng.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/generate/sampler.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

struct DecodeStep {
  SamplingOptions sampling;
  int32_t eos_token = -1;  // -1: none
  int32_t pad_token = 0;
  int64_t step = 0;            // 0-based index of this step
  int64_t prompt_length = 0;   // P: the padded prompt length (the cache's first new column)
  int64_t max_new_tokens = 0;  // N
};

// The per-row state of a decoding loop, all (B, …) tensors on device D.
template <class D>
struct DecodeState {
  Tensor<int32_t, D> tokens;          // (B, N) new tokens; pad after a row's end
  Tensor<double, D> logprobs;         // (B, N) log π(token | prefix) of each new token
  Tensor<int32_t, D> lengths;         // (B) new tokens so far
  Tensor<uint8_t, D> stopped;         // (B) 1 = ended by EOS or a stop token
  Tensor<uint8_t, D> finished;        // (B) 1 = ended (stop token or length)
  Tensor<uint64_t, D> rng_states;     // (B, 6) each row's Rng (Rng::state())
  Tensor<int32_t, D> position_count;  // (B) the position the row's next token takes
  Tensor<int32_t, D> next_ids;        // (B) fed to the next step
  Tensor<int32_t, D> next_positions;  // (B) their positions
  Tensor<uint8_t, D> key_mask;        // (B, K) 1 = a real token in that cache column
};

// Checks one decoding step's sizes — B rows, logits (B, …, V), tokens (B, N), a key mask of B
// cache rows with room for this step's column — and returns V. Every device's decode_step calls
// it first.
inline int64_t decode_step_vocabulary(int64_t B, const Shape& logits, const Shape& tokens,
                                      int64_t key_mask_numel, const DecodeStep& options) {
  const int64_t N = options.max_new_tokens;
  const int64_t capacity = key_mask_numel / std::max<int64_t>(B, 1);
  TLCR_CHECK(B > 0 && logits.numel() % B == 0 && tokens.numel() == B * N && options.step < N &&
                 options.prompt_length + options.step < capacity,
             "decode_step: ", B, " rows, logits ", logits.str(), ", tokens ", tokens.str(),
             ", step ", options.step, " of ", N, ", cache of ", capacity);
  return logits.numel() / B;
}

// Logits (B, …, V) hold one row of V per batch row (its last step).
template <class T>
void decode_step(Tensor<int32_t>& tokens, Tensor<double>& logprobs, Tensor<int32_t>& lengths,
                 Tensor<uint8_t>& stopped, Tensor<uint8_t>& finished, Tensor<uint64_t>& rng_states,
                 Tensor<int32_t>& position_count, Tensor<int32_t>& next_ids,
                 Tensor<int32_t>& next_positions, Tensor<uint8_t>& key_mask,
                 const Tensor<T>& logits, const Tensor<int32_t>& stop_tokens,
                 const DecodeStep& options) {
  const int64_t B = finished.numel();
  const int64_t V =
      decode_step_vocabulary(B, logits.shape(), tokens.shape(), key_mask.numel(), options);
  const int64_t N = options.max_new_tokens, capacity = key_mask.numel() / B;
  const std::span<const int32_t> stops(stop_tokens.data(), stop_tokens.numel());
  for (int64_t b = 0; b < B; ++b) {
    next_ids[b] = options.pad_token;
    next_positions[b] = 0;
    if (finished[b]) continue;
    std::array<uint64_t, 6> state;
    std::copy_n(rng_states.data() + b * 6, 6, state.begin());
    Rng rng;
    rng.set_state(state);
    const SampledToken sampled =
        sample_token(std::span<const T>(logits.data() + b * V, V), options.sampling, rng);
    state = rng.state();
    std::copy_n(state.begin(), 6, rng_states.data() + b * 6);
    const int64_t column = lengths[b]++;
    tokens[b * N + column] = sampled.token;
    logprobs[b * N + column] = sampled.logprob;
    const bool stop = sampled.token == options.eos_token ||
                      std::find(stops.begin(), stops.end(), sampled.token) != stops.end();
    if (stop) stopped[b] = 1;
    finished[b] = stop || lengths[b] == N;
    next_ids[b] = sampled.token;
    next_positions[b] = position_count[b]++;
    key_mask[b * capacity + options.prompt_length + options.step] = 1;
  }
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(decode_step)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_GENERATE_DECODE_STEP_INSTANCES(extern_, T)                                          \
  extern_ template void decode_step<T>(                                                          \
      Tensor<int32_t>&, Tensor<double>&, Tensor<int32_t>&, Tensor<uint8_t>&, Tensor<uint8_t>&,   \
      Tensor<uint64_t>&, Tensor<int32_t>&, Tensor<int32_t>&, Tensor<int32_t>&, Tensor<uint8_t>&, \
      const Tensor<T>&, const Tensor<int32_t>&, const DecodeStep&);
TLCR_DECLARE_INSTANCES(TLCR_GENERATE_DECODE_STEP_INSTANCES)

}  // namespace tlcr
