// GPU tests of cuda/decode_step.cuh against the CPU kernel: a few decoding steps of 5 rows over a
// tiny and a GPT-2-sized vocabulary, greedy and sampled (temperature, top-k, top-p, both), with an
// EOS stop, a row that reaches the length limit and rows already finished. Tokens, lengths, flags,
// the next step's inputs, the key mask and every row's Rng state must be the CPU's bits; the
// log-probabilities agree within 1e-12 (CUDA's exp and log against the C library's). A NaN logit
// is reported like the CPU's.
#include "cuda_testing.cuh"

#include <cmath>

#include <tlcr/cuda/decode_step.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_decode_test {
template <class D>
struct State {
  Tensor<int32_t, D> tokens, lengths, position_count, next_ids, next_positions;
  Tensor<double, D> logprobs;
  Tensor<uint8_t, D> stopped, finished, key_mask;
  Tensor<uint64_t, D> rng_states;
};

State<Cpu> fresh_state(int64_t B, int64_t N, int64_t capacity) {
  State<Cpu> s{Tensor<int32_t>(Shape{B, N}),        Tensor<int32_t>(Shape{B}),
               Tensor<int32_t>(Shape{B}),           Tensor<int32_t>(Shape{B}),
               Tensor<int32_t>(Shape{B}),           Tensor<double>(Shape{B, N}),
               Tensor<uint8_t>(Shape{B}),           Tensor<uint8_t>(Shape{B}),
               Tensor<uint8_t>(Shape{B, capacity}), Tensor<uint64_t>(Shape{B, 6})};
  for (int64_t b = 0; b < B; ++b) {
    const auto words = Rng(1000 + b).state();
    for (int i = 0; i < 6; ++i) s.rng_states[b * 6 + i] = words[i];
    s.position_count[b] = int32_t(3 + b);
  }
  s.finished[4] = 1;  // a row that ended before these steps
  return s;
}

State<Cuda> upload(const State<Cpu>& s) {
  return {on_gpu(s.tokens),    on_gpu(s.lengths),        on_gpu(s.position_count),
          on_gpu(s.next_ids),  on_gpu(s.next_positions), on_gpu(s.logprobs),
          on_gpu(s.stopped),   on_gpu(s.finished),       on_gpu(s.key_mask),
          on_gpu(s.rng_states)};
}

template <class T>
void step(State<Cpu>& s, const Tensor<T>& logits, const Tensor<int32_t>& stops,
          const DecodeStep& o) {
  decode_step(s.tokens, s.logprobs, s.lengths, s.stopped, s.finished, s.rng_states,
              s.position_count, s.next_ids, s.next_positions, s.key_mask, logits, stops, o);
}
template <class T>
void step(State<Cuda>& s, const Tensor<T, Cuda>& logits, const Tensor<int32_t, Cuda>& stops,
          const DecodeStep& o) {
  decode_step(s.tokens, s.logprobs, s.lengths, s.stopped, s.finished, s.rng_states,
              s.position_count, s.next_ids, s.next_positions, s.key_mask, logits, stops, o);
}

void check_same(const State<Cuda>& gpu, const State<Cpu>& cpu) {
  CHECK(same_bits(gpu.tokens, cpu.tokens));
  CHECK(same_bits(gpu.lengths, cpu.lengths));
  CHECK(same_bits(gpu.stopped, cpu.stopped));
  CHECK(same_bits(gpu.finished, cpu.finished));
  CHECK(same_bits(gpu.next_ids, cpu.next_ids));
  CHECK(same_bits(gpu.next_positions, cpu.next_positions));
  CHECK(same_bits(gpu.position_count, cpu.position_count));
  CHECK(same_bits(gpu.key_mask, cpu.key_mask));
  CHECK(same_bits(gpu.rng_states, cpu.rng_states));
  CHECK(scaled_difference(gpu.logprobs, cpu.logprobs) <= 1e-12);
}
}  // namespace cuda_decode_test

TEST_CASE("a decoding step on the GPU samples the CPU's tokens with the same random draws") {
  using namespace cuda_decode_test;
  const int64_t B = 5, N = 3, prompt = 4, capacity = prompt + N;
  const SamplingOptions samplings[] = {{0.0, 0, 1.0}, {1.0, 0, 1.0}, {0.8, 0, 1.0},
                                       {1.0, 5, 1.0}, {1.0, 0, 0.9}, {0.7, 20, 0.8}};
  for (const int64_t V : {int64_t(7), int64_t(50257)})
    for (const SamplingOptions& sampling : samplings) {
      CAPTURE(V);
      CAPTURE(sampling.temperature);
      CAPTURE(sampling.top_k);
      CAPTURE(sampling.top_p);
      Rng rng(5);
      State<Cpu> cpu = fresh_state(B, N, capacity);
      State<Cuda> gpu = upload(cpu);
      const Tensor<int32_t> stops = Tensor<int32_t>::from(Shape{1}, {2});
      const Tensor<int32_t, Cuda> stops_gpu = on_gpu(stops);
      for (int64_t t = 0; t < N; ++t) {
        Tensor<float> logits = random_normal<float>(Shape{B, 1, V}, rng, 2.0);
        logits[0 * V + 1] = 50.0f;  // row 0: EOS (id 1) wins whenever it is a candidate
        logits[1 * V + 3] = logits[1 * V + 4] = 60.0f;  // row 1: a tie, the lower id first
        const DecodeStep options{sampling, 1, 0, t, prompt, N};
        step(cpu, logits, stops, options);
        step(gpu, on_gpu(logits), stops_gpu, options);
        check_same(gpu, cpu);
      }
    }
}

TEST_CASE("a NaN logit on the GPU is reported like the CPU's") {
  using namespace cuda_decode_test;
  State<Cpu> cpu = fresh_state(5, 2, 6);
  State<Cuda> gpu = upload(cpu);
  Tensor<float> logits(Shape{5, 9});
  logits[2 * 9 + 4] = std::nanf("");
  const DecodeStep options{{1.0, 0, 1.0}, -1, 0, 0, 4, 2};
  CHECK_THROWS_WITH_AS(step(gpu, on_gpu(logits), on_gpu(Tensor<int32_t>(Shape{0})), options),
                       doctest::Contains("logit 4 is NaN"), Error);
}
