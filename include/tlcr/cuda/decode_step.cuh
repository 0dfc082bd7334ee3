// tlcr/cuda/decode_step.cuh — generate/decode_step.hpp's kernel on the Cuda device: every
// unfinished row samples its next token from its logits with its own Rng, records it and prepares
// the next step's inputs, all in device memory.
//
// One thread per row runs the CPU's sample_token arithmetic (generate/sampler.hpp) step for step:
// temperature 0 is the first maximum (ties to the lower id); top-k / top-p sort the candidates by
// logit, descending, ties by id (a stable merge sort in scratch memory, only when a filter needs
// it); the tempered weights and log-probabilities are computed in double; the draw is the Rng's
// categorical on the row's xoshiro256** state. So a row draws as many random numbers as on the
// CPU and picks the same token, unless CUDA's exp and the C library's differ in the last bit
// right at a category boundary. A NaN logit is reported as on the CPU; checking for it costs one
// 8-byte download per step.
// Correctness first: the sort and the sums are sequential per row (fast on a GPU only for small
// vocabularies or batches); a block-parallel sampler is the next step.
// Shape legend: B rows, V vocabulary, N max_new_tokens, K cache capacity.
// Not here: the loop and the model calls (generate/generate.hpp), the CPU kernel.
#pragma once

#include <climits>
#include <cmath>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/generate/decode_step.hpp"

namespace tlcr {

namespace cuda::kernels {
// xoshiro256** on the row's saved state (words 0–3 of Rng::state(); 4–5, the spare normal, are
// left as they are: sampling never draws a normal).
struct DeviceRng {
  uint64_t* s;
  __device__ static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  __device__ uint64_t next_u64() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t shifted = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotl(s[3], 45);
    return result;
  }
  __device__ double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Rng::categorical over weights[0, n) (all finite, sum > 0: the caller's weights always are).
  __device__ int64_t categorical(const double* weights, int64_t n) {
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += weights[i];
    const double target = uniform() * total;
    double running = 0;
    for (int64_t i = 0; i < n; ++i) {
      running += weights[i];
      if (target < running) return i;
    }
    for (int64_t i = n; i-- > 0;)
      if (weights[i] > 0) return i;
    return 0;
  }
};

// log softmax(z)[token] in double, as token_logprob.
template <class T>
__device__ double device_token_logprob(const T* z, int64_t V, int32_t token) {
  double max_logit = double(z[0]);
  for (int64_t i = 1; i < V; ++i) max_logit = fmax(max_logit, double(z[i]));
  double sum = 0;
  for (int64_t i = 0; i < V; ++i) sum += ::exp(double(z[i]) - max_logit);
  return double(z[token]) - max_logit - ::log(sum);
}

// order[0, V) sorted by z descending, equal logits by id (a bottom-up merge sort: stable).
template <class T>
__device__ void sort_by_logit(int32_t* order, int32_t* spare, const T* z, int64_t V) {
  for (int64_t i = 0; i < V; ++i) order[i] = int32_t(i);
  for (int64_t width = 1; width < V; width *= 2) {
    for (int64_t left = 0; left < V; left += 2 * width) {
      const int64_t middle = min(left + width, V), right = min(left + 2 * width, V);
      int64_t a = left, b = middle, out = left;
      while (a < middle && b < right)
        spare[out++] = z[order[b]] > z[order[a]] ? order[b++] : order[a++];
      while (a < middle) spare[out++] = order[a++];
      while (b < right) spare[out++] = order[b++];
    }
    for (int64_t i = 0; i < V; ++i) order[i] = spare[i];
  }
}

template <class T>
__global__ void decode_step_kernel(int32_t* tokens, double* logprobs, int32_t* lengths,
                                   uint8_t* stopped, uint8_t* finished, uint64_t* rng_states,
                                   int32_t* position_count, int32_t* next_ids,
                                   int32_t* next_positions, uint8_t* key_mask, const T* logits,
                                   const int32_t* stop_tokens, int64_t stop_count,
                                   DecodeStep options, int64_t B, int64_t V, int64_t capacity,
                                   int32_t* order, int32_t* spare, double* weights,
                                   unsigned long long* first_nan) {
  const int64_t N = options.max_new_tokens;
  for (int64_t b = grid_index(); b < B; b += grid_stride()) {
    next_ids[b] = options.pad_token;
    next_positions[b] = 0;
    if (finished[b]) continue;
    const T* z = logits + b * V;
    bool has_nan = false;
    for (int64_t i = 0; i < V && !has_nan; ++i)
      if (isnan(double(z[i]))) {
        atomicMin(first_nan, static_cast<unsigned long long>(b * V + i));
        has_nan = true;
      }
    if (has_nan) continue;
    const SamplingOptions& sampling = options.sampling;
    int32_t token = 0;
    const bool greedy = sampling.temperature == 0;
    if (greedy) {  // the first maximum: the lower id wins ties
      for (int64_t i = 1; i < V; ++i)
        if (z[i] > z[token]) token = int32_t(i);
    } else {
      int32_t* row_order = order + b * V;
      const bool needs_sort = sampling.top_k > 0 || sampling.top_p < 1;
      if (needs_sort) sort_by_logit(row_order, spare + b * V, z, V);
      auto candidate = [&](int64_t i) { return needs_sort ? row_order[i] : int32_t(i); };
      int64_t kept = V;
      if (sampling.top_k > 0) kept = min(kept, int64_t(sampling.top_k));
      double max_scaled = double(z[candidate(0)]) / sampling.temperature;
      if (!needs_sort)  // the CPU's order[0] is then token 0 itself
        max_scaled = double(z[0]) / sampling.temperature;
      double* w = weights + b * V;
      double total = 0;
      for (int64_t i = 0; i < kept; ++i) {
        w[i] = ::exp(double(z[candidate(i)]) / sampling.temperature - max_scaled);
        total += w[i];
      }
      if (sampling.top_p < 1) {
        double mass = 0;
        int64_t prefix = 0;
        while (prefix < kept) {
          mass += w[prefix++] / total;
          if (mass >= sampling.top_p) break;
        }
        kept = prefix;
      }
      DeviceRng rng{rng_states + b * 6};
      token = candidate(rng.categorical(w, kept));
    }
    const int64_t column = lengths[b]++;
    tokens[b * N + column] = token;
    logprobs[b * N + column] = device_token_logprob(z, V, token);
    bool stop = token == options.eos_token;
    for (int64_t i = 0; i < stop_count && !stop; ++i) stop = token == stop_tokens[i];
    if (stop) stopped[b] = 1;
    finished[b] = stop || lengths[b] == N;
    next_ids[b] = token;
    next_positions[b] = position_count[b]++;
    key_mask[b * capacity + options.prompt_length + options.step] = 1;
  }
}
}  // namespace cuda::kernels

// One decoding step on the device (generate/decode_step.hpp's contract).
template <class T>
void decode_step(Tensor<int32_t, Cuda>& tokens, Tensor<double, Cuda>& logprobs,
                 Tensor<int32_t, Cuda>& lengths, Tensor<uint8_t, Cuda>& stopped,
                 Tensor<uint8_t, Cuda>& finished, Tensor<uint64_t, Cuda>& rng_states,
                 Tensor<int32_t, Cuda>& position_count, Tensor<int32_t, Cuda>& next_ids,
                 Tensor<int32_t, Cuda>& next_positions, Tensor<uint8_t, Cuda>& key_mask,
                 const Tensor<T, Cuda>& logits, const Tensor<int32_t, Cuda>& stop_tokens,
                 const DecodeStep& options) {
  const int64_t B = finished.numel();
  const int64_t V =
      decode_step_vocabulary(B, logits.shape(), tokens.shape(), key_mask.numel(), options);
  const int64_t capacity = key_mask.numel() / B;
  TLCR_CHECK(V <= INT32_MAX, "decode_step: vocabulary too large");
  const bool needs_scratch = options.sampling.temperature != 0 &&
                             (options.sampling.top_k > 0 || options.sampling.top_p < 1);
  const Shape scratch_shape{needs_scratch ? B * V : 1};
  Tensor<int32_t, Cuda> order = Tensor<int32_t, Cuda>::uninitialized(scratch_shape);
  Tensor<int32_t, Cuda> spare = Tensor<int32_t, Cuda>::uninitialized(scratch_shape);
  Tensor<double, Cuda> weights =
      Tensor<double, Cuda>::uninitialized(Shape{options.sampling.temperature != 0 ? B * V : 1});
  Tensor<unsigned long long, Cuda> first_nan =
      Tensor<unsigned long long, Cuda>::full(Shape{1}, ~0ull);
  cuda::launch("decode_step", cuda::kernels::decode_step_kernel<T>, B, cuda::raw(tokens),
               cuda::raw(logprobs), cuda::raw(lengths), cuda::raw(stopped), cuda::raw(finished),
               cuda::raw(rng_states), cuda::raw(position_count), cuda::raw(next_ids),
               cuda::raw(next_positions), cuda::raw(key_mask),
               static_cast<const T*>(cuda::raw(logits)),
               stop_tokens.numel() > 0 ? static_cast<const int32_t*>(cuda::raw(stop_tokens))
                                       : static_cast<const int32_t*>(nullptr),
               stop_tokens.numel(), options, B, V, capacity, cuda::raw(order), cuda::raw(spare),
               cuda::raw(weights), cuda::raw(first_nan));
  const unsigned long long nan_at = first_nan.item();
  if (nan_at != ~0ull)
    ::tlcr::detail::fail("sample_token: logit ", int64_t(nan_at % uint64_t(V)), " is NaN (row ",
                         int64_t(nan_at / uint64_t(V)), ")");
}

}  // namespace tlcr
