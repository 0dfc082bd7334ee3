// Tests for generate/decode_step.hpp: one greedy decoding step on hand-made logits records each
// unfinished row's token, ends rows at EOS, a stop token or the length limit, leaves finished rows
// alone and prepares the next step's ids, positions and key mask.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("decode_step: greedy step on hand-checked logits") {
  const int64_t B = 4, V = 5, N = 2, P = 3, capacity = P + N;
  // Row argmaxes: 2, 4 (EOS), 1 (a stop token), 3 — row 3 is already finished.
  const Tensor<float> logits =
      Tensor<float>::from({B, V}, {0, 1, 5, 2, 0, 0, 0, 1, 2, 9, 3, 7, 1, 0, 0, 0, 0, 0, 8, 0});
  Tensor<int32_t> tokens = Tensor<int32_t>::full({B, N}, -1);
  Tensor<double> logprobs({B, N});
  Tensor<int32_t> lengths = Tensor<int32_t>::from({B}, {1, 0, 0, 1});  // row 0 sampled once
  Tensor<uint8_t> stopped({B}), finished = Tensor<uint8_t>::from({B}, {0, 0, 0, 1});
  Tensor<uint64_t> rng_states({B, 6});
  Tensor<int32_t> position_count = Tensor<int32_t>::from({B}, {7, 2, 3, 4});
  Tensor<int32_t> next_ids({B}), next_positions({B});
  Tensor<uint8_t> key_mask({B, capacity});
  const Tensor<int32_t> stop_tokens = Tensor<int32_t>::from({1}, {1});
  DecodeStep options{.sampling = {.temperature = 0},
                     .eos_token = 4,
                     .pad_token = 0,
                     .step = 1,
                     .prompt_length = P,
                     .max_new_tokens = N};
  decode_step(tokens, logprobs, lengths, stopped, finished, rng_states, position_count, next_ids,
              next_positions, key_mask, logits, stop_tokens, options);

  CHECK(tokens.to_vector() == std::vector<int32_t>{-1, 2, 4, -1, 1, -1, -1, -1});
  CHECK(lengths.to_vector() == std::vector<int32_t>{2, 1, 1, 1});
  CHECK(stopped.to_vector() == std::vector<uint8_t>{0, 1, 1, 0});
  CHECK(finished.to_vector() == std::vector<uint8_t>{1, 1, 1, 1});  // length, EOS, stop, before
  CHECK(next_ids.to_vector() == std::vector<int32_t>{2, 4, 1, 0});
  CHECK(next_positions.to_vector() == std::vector<int32_t>{7, 2, 3, 0});
  CHECK(position_count.to_vector() == std::vector<int32_t>{8, 3, 4, 4});
  for (int64_t b = 0; b < B; ++b) CHECK(key_mask[b * capacity + P + 1] == (b < 3 ? 1 : 0));
  // Greedy log-probabilities are those of the unmodified softmax.
  double z = 0;
  for (int v = 0; v < V; ++v) z += std::exp(double(logits[v]));
  CHECK(logprobs[1] == doctest::Approx(5.0 - std::log(z)).epsilon(1e-12));
}
