// Tests for rlhf/rewards.hpp and rlhf/any_reward.hpp: every formula on random probabilities
// (ranges, signs, the discrete band), 0 on EOS, padding and after, the shift convention, the
// discriminator reward end to end (shape, range, batching), the seeded random control, the hybrid
// as the sum of its parts, and run-time selection by name from model directories.
#include "support/testing.hpp"

#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/rewards.hpp>

#include <cmath>

#include "reward_testing.hpp"

using namespace tlcr;

namespace {
constexpr int32_t kEos = 38, kPad = 39;
const ResponseEnds ends{.eos = kEos, .pad = kPad};

Gpt2<float> tiny(HeadConfig heads, uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(40, 32, 1, 2, 16), heads, seed);
}
std::shared_ptr<const Gpt2<float>> tiny_discriminator(uint64_t seed) {
  return std::make_shared<const Gpt2<float>>(tiny({.lm = false, .token_classes = 2}, seed));
}
std::shared_ptr<const Gpt2<float>> tiny_sequence_model(uint64_t seed) {
  return std::make_shared<const Gpt2<float>>(tiny({.lm = false, .sequence_score = true}, seed));
}

// Random rows: some end in EOS (and padding), some are cut off, one is empty.
void random_batch(Rng& rng, TokenSequences& prompts, TokenSequences& responses) {
  prompts.clear(), responses.clear();
  for (int row = 0; row < 6; ++row) {
    std::vector<int32_t> prompt, response;
    for (int64_t t = testing::random_size(rng, 1, 5); t > 0; --t)
      prompt.push_back(int32_t(rng.uniform_int(36)));
    for (int64_t t = testing::random_size(rng, 0, 8); t > 0; --t)
      response.push_back(int32_t(rng.uniform_int(36)));
    if (row % 2 == 0) response.push_back(kEos);
    if (row % 3 == 0) response.insert(response.end(), {kPad, kPad});
    prompts.push_back(prompt), responses.push_back(response);
  }
  prompts.push_back({1}), responses.push_back({});
}

// Equal token for token, NaN (not scored) equal to NaN.
bool same(const TokenRewards& a, const TokenRewards& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t row = 0; row < a.size(); ++row) {
    if (a[row].size() != b[row].size()) return false;
    for (std::size_t i = 0; i < a[row].size(); ++i)
      if (!(a[row][i] == b[row][i] || (std::isnan(a[row][i]) && std::isnan(b[row][i]))))
        return false;
  }
  return true;
}

TokenRewardOptions with(TokenRewardFormula formula, RewardSigns signs = RewardSigns::Both) {
  TokenRewardOptions options;
  options.formula = formula;
  options.signs = signs;
  return options;
}
}  // namespace

TEST_CASE("formulas: ranges, signs, the neutral band") {
  Rng rng(701);
  for (int trial = 0; trial < 2000; ++trial) {
    const double p = trial < 3 ? 0.5 * trial : rng.uniform();  // 0, 0.5, 1 included
    const double continuous = reward_from_probability(p, with(TokenRewardFormula::Continuous));
    CHECK(continuous == doctest::Approx(2 * p - 1));
    CHECK(std::abs(continuous) <= 1.0);
    const double tanh = reward_from_probability(p, with(TokenRewardFormula::Tanh));
    CHECK(tanh == doctest::Approx(std::tanh(p - 0.5)));
    CHECK(std::abs(tanh) <= 0.4622);
    TokenRewardOptions band = with(TokenRewardFormula::Thresholded);
    band.threshold = 0.2;
    const double discrete = reward_from_probability(p, band);
    if (std::abs(p - 0.5) < 0.2)
      CHECK(discrete == 0.0);
    else
      CHECK(discrete == (p > 0.5 ? 1.0 : -1.0));
    const double fixed = reward_from_probability(p, with(TokenRewardFormula::Sign));
    CHECK(fixed == (p > 0.5 ? 1.0 : p < 0.5 ? -1.0 : 0.0));
    const double positive =
        reward_from_probability(p, with(TokenRewardFormula::Continuous, RewardSigns::PositiveOnly));
    const double negative =
        reward_from_probability(p, with(TokenRewardFormula::Continuous, RewardSigns::NegativeOnly));
    CHECK(positive == std::max(continuous, 0.0));
    CHECK(negative == std::min(continuous, 0.0));
    CHECK(positive + negative == doctest::Approx(continuous));
  }
  CHECK(std::tanh(0.5) == doctest::Approx(0.4621).epsilon(1e-4));  // the documented bound
  CHECK(token_reward_name(with(TokenRewardFormula::Tanh)) == "tlcr-tanh");
  TokenRewardOptions shifted = with(TokenRewardFormula::Continuous, RewardSigns::NegativeOnly);
  shifted.shift = true;
  CHECK(token_reward_name(shifted) == "tlcr negative-only +shift");
}

TEST_CASE("rewards are 0 on EOS, padding and after; shift moves credit one action later") {
  const TokenSequences responses = {{5, 6, 7, kEos, kPad}, {5, 6, 7}, {kEos}, {}, {5, kPad, 6}};
  TokenRewards p;
  for (const auto& response : responses) {
    std::vector<float> row;
    for (std::size_t i = 0; i < response.size(); ++i) row.push_back(0.1f + 0.2f * float(i));
    p.push_back(row);
  }
  TokenRewardOptions plain, shifted;
  shifted.shift = true;
  const TokenRewards r = rewards_from_probabilities(p, responses, ends, plain);
  const TokenRewards s = rewards_from_probabilities(p, responses, ends, shifted);
  for (std::size_t row = 0; row < responses.size(); ++row) {
    const std::size_t scored = ends.scored_length(responses[row]);
    REQUIRE(r[row].size() == responses[row].size());
    for (std::size_t i = 0; i < responses[row].size(); ++i) {
      if (i >= scored) {
        CHECK(r[row][i] == 0.0f);  // EOS, PAD, and whatever follows them
        CHECK(s[row][i] == 0.0f);
        continue;
      }
      CHECK(r[row][i] == doctest::Approx(2 * p[row][i] - 1));
      CHECK(s[row][i] == (i == 0 ? 0.0f : r[row][i - 1]));  // token i−1's score, on action i
    }
  }
  // Row 0 by hand: p = 0.1, 0.3, 0.5 on tokens 5, 6, 7, then EOS.
  CHECK(r[0] == std::vector<float>{2 * 0.1f - 1, 2 * 0.3f - 1, 2 * 0.5f - 1, 0, 0});
  CHECK(s[0] ==
        std::vector<float>{0, 2 * 0.1f - 1, 2 * 0.3f - 1, 0, 0});  // token 7's score dropped
}

TEST_CASE("DiscriminatorReward: shape, range, zeros, batching does not matter") {
  static_assert(TokenRewardModel<DiscriminatorReward<float, Gpt2Arch>>);
  static_assert(TokenProbabilityModel<DiscriminatorReward<float, Gpt2Arch>>);
  Rng rng(702);
  TokenSequences prompts, responses;
  random_batch(rng, prompts, responses);
  const auto model = tiny_discriminator(4);
  for (auto formula : {TokenRewardFormula::Continuous, TokenRewardFormula::Tanh,
                       TokenRewardFormula::Thresholded, TokenRewardFormula::Sign}) {
    TokenRewardOptions options = with(formula);
    options.threshold = 0.001;  // an untrained model stays near p = 0.5
    options.batch_size = 3;
    const DiscriminatorReward<float, Gpt2Arch> reward(model, ends, options);
    const TokenRewards r = reward.score(prompts, responses);
    const TokenRewards p = reward.probabilities(prompts, responses);
    check_reward_shape(responses, r, reward.name());
    for (std::size_t row = 0; row < responses.size(); ++row) {
      const std::size_t scored = ends.scored_length(responses[row]);
      for (std::size_t i = 0; i < responses[row].size(); ++i) {
        CHECK(std::abs(r[row][i]) <= 1.0f);
        if (i >= scored)
          CHECK(r[row][i] == 0.0f);
        else
          CHECK(r[row][i] == float(reward_from_probability(p[row][i], options)));
      }
    }
    options.batch_size = 64;
    const TokenRewards together =
        DiscriminatorReward<float, Gpt2Arch>(model, ends, options).score(prompts, responses);
    for (std::size_t row = 0; row < responses.size(); ++row)
      for (std::size_t i = 0; i < r[row].size(); ++i)
        CHECK(together[row][i] == doctest::Approx(r[row][i]).epsilon(1e-4));
  }
  CHECK_THROWS_WITH_AS((DiscriminatorReward<float, Gpt2Arch>(tiny_sequence_model(1), ends)),
                       doctest::Contains("expected a token discriminator"), Error);
  // The model's context is 32: a longer row is an error that names it.
  const DiscriminatorReward<float, Gpt2Arch> reward(model, ends);
  CHECK_THROWS_WITH_AS(reward.score({{1, 2}, std::vector<int32_t>(30, 1)}, {{3}, {4, 5, 6}}),
                       doctest::Contains("row 1 has 30 prompt + 3 response tokens"), Error);
}

TEST_CASE("RandomReward: in range, 0 past the end, deterministic per call index") {
  Rng rng(703);
  TokenSequences prompts, responses;
  random_batch(rng, prompts, responses);
  RandomReward a(ends, 42), b(ends, 42), other(ends, 43);
  const TokenRewards a1 = a.score(prompts, responses), a2 = a.score(prompts, responses);
  CHECK(a.calls() == 2);
  CHECK(b.score(prompts, responses) == a1);  // same seed, same call index
  CHECK(b.score(prompts, responses) == a2);
  CHECK(a1 != a2);  // a new call draws new numbers
  CHECK(other.score(prompts, responses) != a1);
  RandomReward resumed(ends, 42);
  resumed.set_calls(1);
  CHECK(resumed.score(prompts, responses) == a2);
  check_reward_shape(responses, a1, "random");
  double sum = 0;
  int64_t count = 0;
  for (std::size_t row = 0; row < responses.size(); ++row)
    for (std::size_t i = 0; i < responses[row].size(); ++i) {
      CHECK(a1[row][i] >= -1.0f);
      CHECK(a1[row][i] < 1.0f);
      if (i >= ends.scored_length(responses[row]))
        CHECK(a1[row][i] == 0.0f);
      else
        sum += a1[row][i], ++count;
    }
  CHECK(count > 5);
  CHECK(std::abs(sum / count) < 0.6);
}

TEST_CASE("HybridReward is the token rewards plus w times the sequence score") {
  Rng rng(704);
  TokenSequences prompts, responses;
  random_batch(rng, prompts, responses);
  const DiscriminatorReward<float, Gpt2Arch> tlcr(tiny_discriminator(5), ends);
  const SequenceReward<float, Gpt2Arch> sequence(tiny_sequence_model(6), ends);
  const HybridReward hybrid(tlcr, sequence, 0.25);
  static_assert(TokenProbabilityModel<decltype(hybrid)>);
  const TokenRewards dense = tlcr.score(prompts, responses);
  const TokenRewards sparse = sequence.score(prompts, responses);
  const TokenRewards total = hybrid.score(prompts, responses);
  check_reward_shape(responses, total, hybrid.name());
  for (std::size_t row = 0; row < responses.size(); ++row)
    for (std::size_t i = 0; i < responses[row].size(); ++i)
      CHECK(total[row][i] == doctest::Approx(dense[row][i] + 0.25f * sparse[row][i]));
  CHECK(same(hybrid.probabilities(prompts, responses), tlcr.probabilities(prompts, responses)));
  CHECK(hybrid.name() == "tlcr + 0.25·sequence");
  // Any two reward models compose, e.g. two random ones.
  const HybridReward twice(RandomReward(ends, 1), RandomReward(ends, 1), 1.0);
  const TokenRewards doubled = twice.score(prompts, responses);
  const TokenRewards single = RandomReward(ends, 1).score(prompts, responses);
  for (std::size_t row = 0; row < responses.size(); ++row)
    for (std::size_t i = 0; i < responses[row].size(); ++i)
      CHECK(doubled[row][i] == doctest::Approx(2 * single[row][i]));
}

TEST_CASE("make_token_reward builds every kind from model directories") {
  testing::ScratchDir dir("any_reward");
  save_discriminator(dir.path / "d", *tiny_discriminator(7), LabelMode::Soft);
  save_reward_model(dir.path / "rm", *tiny_sequence_model(8), ScoreNormalization{0.1, 3.0});
  // A DPO policy: an LM whose config.json records its β and reference.
  save_model(dir.path / "ref", tiny({}, 9));
  save_model(dir.path / "dpo", tiny({}, 10));
  write_reward_metadata(
      dir.path / "dpo",
      {{"kind", "dpo"}, {"beta", 0.5}, {"reference", (dir.path / "ref").string()}});
  Rng rng(705);
  TokenSequences prompts, responses;
  random_batch(rng, prompts, responses);

  RewardSpec spec;
  spec.reward_model = dir.path / "d";
  spec.sequence_model = dir.path / "rm";
  const DiscriminatorReward<float, Gpt2Arch> direct(
      std::make_shared<const Gpt2<float>>(load_discriminator<float, Gpt2Arch>(dir.path / "d")),
      ends);
  for (const std::string& kind : reward_kinds()) {
    CAPTURE(kind);
    spec.kind = kind;
    RewardSpec kind_spec = spec;
    if (kind == "dpo") kind_spec.reward_model = dir.path / "dpo";
    const AnyTokenReward reward = make_token_reward(kind_spec, ends);
    const TokenRewards r = reward.score(prompts, responses);
    check_reward_shape(responses, r, kind);
    CHECK(reward.has_probabilities() ==
          (kind != "random" && kind != "dpo" && !kind.starts_with("sequence")));
    if (kind == "dpo") {  // β = 0.5 and the reference, both as recorded
      const DpoTokenReward<float, Gpt2Arch> direct_dpo(
          std::make_shared<const Gpt2<float>>(tiny({}, 10)),
          std::make_shared<const Gpt2<float>>(tiny({}, 9)), ends, 0.5);
      CHECK(same(r, direct_dpo.score(prompts, responses)));
    }
    if (kind == "tlcr") CHECK(r == direct.score(prompts, responses));
    if (kind.starts_with("sequence")) CHECK(reward.name() == kind + " (normalised)");
  }
  spec.kind = "tlcr";
  spec.shift = true;
  CHECK(make_token_reward(spec, ends).name() == "tlcr +shift");

  spec.kind = "best";
  CHECK_THROWS_WITH_AS(make_token_reward(spec, ends),
                       doctest::Contains("unknown reward 'best' (expected one of: tlcr, tlcr-tanh"),
                       Error);
  spec.kind = "hybrid";
  spec.sequence_model.clear();
  CHECK_THROWS_WITH_AS(make_token_reward(spec, ends),
                       doctest::Contains("reward 'hybrid' needs a reward-model directory"), Error);
  spec.kind = "dpo";  // a discriminator is not a DPO policy
  spec.reward_model = dir.path / "d";
  CHECK_THROWS_WITH_AS(make_token_reward(spec, ends), doctest::Contains("is not a DPO policy"),
                       Error);
  spec.kind = "tlcr";
  spec.reward_model = dir.path / "missing";
  CHECK_THROWS_WITH_AS(make_token_reward(spec, ends),
                       doctest::Contains("is not a model directory (no config.json)"), Error);
}
