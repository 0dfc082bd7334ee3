// Tests for rlhf/spread_reward.hpp: the sequence score spread over the response's tokens. On
// hand-checked examples, uniform spreading gives s/L to each of the L scored tokens, and attention
// credit with a zeroed query projection (every key equally attended) gives the same; on random
// models and rows, both sum to the sequence score on every response, put nothing after the L-th
// token, and attention credit equals the last layer's attention of each row computed alone.
#include "support/testing.hpp"

#include <tlcr/rlhf/spread_reward.hpp>

using namespace tlcr;

namespace spread_reward_test {
constexpr int32_t kEos = 38, kPad = 39;
const ResponseEnds ends{.eos = kEos, .pad = kPad};

// A 2-block sequence model with large random weights, so that attention is far from flat.
std::shared_ptr<Gpt2<float>> tiny_sequence_model(uint64_t seed, bool flat_attention = false) {
  auto model = std::make_shared<Gpt2<float>>(TransformerConfig::gpt2(40, 32, 2, 2, 16),
                                             HeadConfig{.lm = false, .sequence_score = true}, seed);
  Rng rng(seed);
  model->params().values().copy_from(testing::random_normal<float>({model->params().numel()}, rng));
  if (flat_attention) {  // the last block's queries are 0: every visible key weighs the same
    Tensor<float> w = model->params().get("h.1.attn.c_attn.weight").value();  // (C, 3C)
    Tensor<float> b = model->params().get("h.1.attn.c_attn.bias").value();    // (3C)
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j) w.data()[i * 48 + j] = 0.0f;
    for (int64_t j = 0; j < 16; ++j) b.data()[j] = 0.0f;
  }
  return model;
}
SequenceReward<float, Gpt2Arch> tiny_sequence_reward(uint64_t seed, bool flat_attention = false) {
  return SequenceReward<float, Gpt2Arch>(tiny_sequence_model(seed, flat_attention), ends,
                                         ScoreNormalization{0.5, 2.0});
}

// EOS then padding, cut off, EOS alone, nothing scored.
const TokenSequences hand_prompts = {{1, 2}, {3}, {4, 5}, {6}};
const TokenSequences hand_responses = {
    {10, 11, kEos, kPad, kPad}, {12, 13, 14, 15}, {kEos}, {kPad}};
const std::vector<std::size_t> hand_lengths = {3, 4, 1, 0};

void check_spread_evenly(const SpreadSequenceReward<float, Gpt2Arch>& spread,
                         const SequenceReward<float, Gpt2Arch>& sequence) {
  const TokenRewards r = spread.score(hand_prompts, hand_responses);
  check_reward_shape(hand_responses, r, spread.name());
  const std::vector<double> s = sequence.sequence_scores(hand_prompts, hand_responses);
  for (std::size_t b = 0; b < hand_responses.size(); ++b)
    for (std::size_t t = 0; t < hand_responses[b].size(); ++t) {
      CAPTURE(b);
      CAPTURE(t);
      if (t < hand_lengths[b])
        CHECK(r[b][t] == doctest::Approx(s[b] / double(hand_lengths[b])).epsilon(1e-5));
      else
        CHECK(r[b][t] == 0.0f);
    }
}

TEST_CASE(
    "hand-checked: uniform gives s/L per scored token; flat attention credit gives the same") {
  const SequenceReward<float, Gpt2Arch> sequence = tiny_sequence_reward(3);
  const SpreadSequenceReward<float, Gpt2Arch> uniform(sequence, SpreadRule::Uniform);
  check_spread_evenly(uniform, sequence);
  CHECK(uniform.name() == "sequence-uniform (normalised)");
  // The weights alone: 1/3, 1/3, 1/3, 0, 0 for a response of 2 tokens + EOS + padding.
  const TokenRewards w = uniform.weights(hand_prompts, hand_responses);
  CHECK(w[0] == std::vector<float>{1 / 3.f, 1 / 3.f, 1 / 3.f, 0.f, 0.f});
  CHECK(w[2] == std::vector<float>{1.f});
  CHECK(w[3] == std::vector<float>{0.f});

  const SequenceReward<float, Gpt2Arch> flat = tiny_sequence_reward(3, /*flat_attention=*/true);
  const SpreadSequenceReward<float, Gpt2Arch> attention(flat, SpreadRule::Attention);
  check_spread_evenly(attention, flat);
  CHECK(attention.name() == "sequence-attention (normalised)");
}

TEST_CASE("random rows: both spreads sum to the sequence score; attention = each row's own") {
  Rng rng(4200);
  TokenSequences prompts, responses;
  for (int row = 0; row < 9; ++row) {  // B = 9 > batch 4: three forward passes with padding
    std::vector<int32_t> prompt, response;
    for (int64_t t = testing::random_size(rng, 1, 6); t > 0; --t)
      prompt.push_back(int32_t(rng.uniform_int(36)));
    for (int64_t t = testing::random_size(rng, 1, 9); t > 0; --t)
      response.push_back(int32_t(rng.uniform_int(36)));
    if (row % 2 == 0) response.push_back(kEos);
    if (row % 3 == 0) response.insert(response.end(), {kPad, kPad});
    prompts.push_back(prompt), responses.push_back(response);
  }
  const std::shared_ptr<Gpt2<float>> model = tiny_sequence_model(5);
  const SequenceReward<float, Gpt2Arch> sequence(model, ends, ScoreNormalization{0.5, 2.0},
                                                 /*batch_size=*/4);
  const std::vector<double> s = sequence.sequence_scores(prompts, responses);
  for (SpreadRule rule : {SpreadRule::Uniform, SpreadRule::Attention}) {
    const SpreadSequenceReward<float, Gpt2Arch> spread(sequence, rule);
    const TokenRewards r = spread.score(prompts, responses);
    const TokenRewards w = spread.weights(prompts, responses);
    check_reward_shape(responses, r, spread.name());
    for (std::size_t b = 0; b < responses.size(); ++b) {
      CAPTURE(b);
      const std::size_t L = ends.length_with_eos(responses[b]);
      double total = 0, weight = 0;
      for (std::size_t t = 0; t < responses[b].size(); ++t) {
        total += r[b][t], weight += w[b][t];
        CHECK(w[b][t] >= 0.0f);
        if (t >= L) CHECK(r[b][t] == 0.0f);
      }
      CHECK(weight == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(total == doctest::Approx(s[b]).epsilon(1e-5));
    }
    if (rule != SpreadRule::Attention) continue;
    // Attention credit is far from uniform on this model, and each row's equals its last-layer
    // attention computed alone (no padding): from the scoring position, head mean, renormalised.
    double largest_gap = 0;
    for (std::size_t b = 0; b < responses.size(); ++b) {
      const std::size_t L = ends.length_with_eos(responses[b]), P = prompts[b].size();
      std::vector<int32_t> ids = prompts[b];
      ids.insert(ids.end(), responses[b].begin(), responses[b].begin() + L);
      const int64_t T = int64_t(ids.size());
      const Tensor<float> probs = model->attention_probabilities({1, T, ids, {}, {}}, 1);
      std::vector<double> credit(L, 0.0);
      double sum = 0;
      for (std::size_t t = 0; t < L; ++t) {
        for (int64_t h = 0; h < 2; ++h) credit[t] += probs.data()[(h * T + T - 1) * T + P + t];
        sum += credit[t];
      }
      for (std::size_t t = 0; t < L; ++t) {
        CHECK(w[b][t] == doctest::Approx(credit[t] / sum).epsilon(1e-4));
        largest_gap = std::max(largest_gap, std::abs(double(w[b][t]) - 1.0 / double(L)));
      }
    }
    CHECK(largest_gap > 0.05);
  }
}

}  // namespace spread_reward_test
