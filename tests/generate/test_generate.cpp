// Tests for generate/generate.hpp: greedy generation with the cache equals step-by-step greedy
// decoding without it; rows are independent of their batch mates; EOS and stop tokens end rows;
// log-probabilities match the model's distribution; same seed, same samples.
#include "support/testing.hpp"

#include <tlcr/generate/generate.hpp>

using namespace tlcr;

namespace {
Gpt2<float> tiny_model() {
  Gpt2<float> model(TransformerConfig::gpt2(13, 32, 2, 2, 16), {}, 21);
  Rng rng(1);
  for (float& v : model.params().values()) v += 0.3f * float(rng.normal());  // make logits peaky
  return model;
}

// Greedy decoding by full recompute, the obvious way.
std::vector<int32_t> greedy_reference(const Gpt2<float>& model, std::vector<int32_t> tokens,
                                      int steps) {
  NoGrad no_grad;
  std::vector<int32_t> out;
  for (int s = 0; s < steps; ++s) {
    const int64_t T = tokens.size();
    const Tensor<float> logits = model.lm_logits(model.hidden({1, T, tokens, {}, {}})).value();
    const float* last = logits.data() + (T - 1) * 13;
    const int32_t best = static_cast<int32_t>(std::max_element(last, last + 13) - last);
    out.push_back(best);
    tokens.push_back(best);
  }
  return out;
}
}  // namespace

TEST_CASE("cached greedy generation equals full-recompute greedy decoding, with ragged prompts") {
  const Gpt2<float> model = tiny_model();
  const std::vector<std::vector<int32_t>> prompts{{1, 2, 3, 4, 5}, {7}, {3, 9}};
  Rng rng(5);
  const GenerationResult result =
      generate(model, prompts, {.sampling = {.temperature = 0}, .max_new_tokens = 8}, rng);
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    CHECK(result.tokens[b] == greedy_reference(model, prompts[b], 8));
    CHECK_FALSE(result.stopped[b]);
  }
}

TEST_CASE("a row's sample does not depend on its batch mates; same seed, same samples") {
  const Gpt2<float> model = tiny_model();
  const GenerationOptions options{.sampling = {.temperature = 1.0, .top_p = 0.9},
                                  .max_new_tokens = 10};
  Rng a(77), b(77), c(77);
  const auto alone = generate(model, {{4, 5, 6}}, options, a);
  const auto together = generate(model, {{4, 5, 6}, {1}, {2, 2, 2, 2, 2, 2}}, options, b);
  CHECK(alone.tokens[0] == together.tokens[0]);
  const auto again = generate(model, {{4, 5, 6}, {1}, {2, 2, 2, 2, 2, 2}}, options, c);
  CHECK(again.tokens == together.tokens);
  CHECK(again.logprobs == together.logprobs);
}

TEST_CASE("log-probabilities are the model's, and EOS / stop tokens end a row") {
  const Gpt2<float> model = tiny_model();
  Rng rng(3);
  const std::vector<int32_t> prompt{1, 2};
  const auto greedy =
      generate(model, {prompt}, {.sampling = {.temperature = 0}, .max_new_tokens = 6}, rng);
  // Recompute log π(token | prefix) for the first new token.
  {
    NoGrad no_grad;
    const Tensor<float> logits = model.lm_logits(model.hidden({1, 2, prompt, {}, {}})).value();
    const std::span<const float> last(logits.data() + 13, 13);
    CHECK(greedy.logprobs[0][0] ==
          doctest::Approx(token_logprob(last, greedy.tokens[0][0])).epsilon(1e-6));
  }
  const int32_t third = greedy.tokens[0][2];
  const auto stopped =
      generate(model, {prompt},
               {.sampling = {.temperature = 0}, .max_new_tokens = 6, .eos_token = third}, rng);
  CHECK(stopped.tokens[0].size() <= 3);
  CHECK(stopped.tokens[0].back() == third);
  CHECK(stopped.stopped[0]);
  const auto by_stop =
      generate(model, {prompt},
               {.sampling = {.temperature = 0}, .max_new_tokens = 6, .stop_tokens = {third}}, rng);
  CHECK(by_stop.tokens[0] == stopped.tokens[0]);
  CHECK_THROWS_WITH_AS(generate(model, {prompt}, {.max_new_tokens = 40}, rng),
                       doctest::Contains("exceed the context length 32"), Error);
}

TEST_CASE("a negative token budget or an empty prompt is refused before anything is allocated") {
  const Gpt2<float> model = tiny_model();
  Rng rng(4);
  // max_new_tokens = -1 once sized the KV cache at prompt − 1 and wrote past it.
  CHECK_THROWS_WITH_AS(generate(model, {{1, 2}}, {.max_new_tokens = -1}, rng),
                       doctest::Contains("max_new_tokens must be ≥ 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(generate(model, {{1, 2}, {}}, {.max_new_tokens = 2}, rng),
                       doctest::Contains("empty prompt"), Error);
  // Zero new tokens is a valid request: nothing is generated.
  const auto none = generate(model, {{1, 2}}, {.max_new_tokens = 0}, rng);
  CHECK(none.tokens.at(0).empty());
}
