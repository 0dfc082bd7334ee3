// Tests for rlhf/sequence_reward.hpp: the Bradley–Terry loss on a hand case and under gradcheck,
// scores read at the last response token (EOS included) whatever the padding, a short training run
// on the built-in task that ranks held-out pairs well above chance, score normalisation, the model
// directory round trip, and SequenceReward's placement (last response token, 0 elsewhere).
#include "support/testing.hpp"

#include <tlcr/rlhf/sequence_reward.hpp>

#include <cmath>

#include "reward_testing.hpp"

using namespace tlcr;
using testing::random_normal;

namespace {
Gpt2<float> tiny_reward_model(int64_t vocab, uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(vocab, 128, 1, 2, 32),
                     {.lm = false, .sequence_score = true}, seed);
}
double softplus(double x) {
  return std::log1p(std::exp(x));
}
}  // namespace

TEST_CASE("Bradley–Terry loss: hand case, gradcheck, extreme margins, shape errors") {
  const auto chosen = constant(Tensor<double>::from({3}, {1.0, 0.0, -2.0}));
  const auto rejected = constant(Tensor<double>::from({3}, {0.0, 0.0, 1.0}));
  // −log σ(d) = softplus(−d) for d = 1, 0, −3.
  const double expected = (softplus(-1.0) + std::log(2.0) + softplus(3.0)) / 3;
  CHECK(bradley_terry_loss(chosen, rejected).value()[0] ==
        doctest::Approx(expected).epsilon(1e-12));

  Rng rng(601);
  for (int trial = 0; trial < 4; ++trial) {
    const int64_t n = testing::random_size(rng, 1, 7);
    auto c = parameter(random_normal<double>({n}, rng, 3.0));
    auto r = parameter(random_normal<double>({n}, rng, 3.0));
    TLCR_CHECK_GRADIENTS([&] { return bradley_terry_loss(c, r); }, {c, r});
  }
  // Huge margins stay finite: ≈ 0 when right, ≈ the margin when wrong.
  const auto big = constant(Tensor<float>::from({2}, {500.f, -500.f}));
  const auto zero = constant(Tensor<float>({2}));
  CHECK(bradley_terry_loss(big, zero).value()[0] == doctest::Approx(250.0));
  CHECK_THROWS_WITH_AS(bradley_terry_loss(chosen, constant(Tensor<double>({2}))),
                       doctest::Contains("expected chosen and rejected scores (N)"), Error);
}

TEST_CASE("scores are read at the last response token, the same whatever the batching") {
  const Gpt2<float> model = tiny_reward_model(40, 3);
  const ResponseEnds ends{.eos = 38, .pad = 39};
  const TokenSequences prompts = {{1, 2, 3}, {4}, {5, 6}};
  const TokenSequences responses = {{10, 11, 38, 39}, {13, 14}, {15, 16, 17, 38}};
  const auto together = sequence_model_scores(model, prompts, responses, ends, 16);
  const auto single = sequence_model_scores(model, prompts, responses, ends, 1);
  // Row 0 is scored as (prompt, 10, 11, EOS): padding after EOS changes nothing.
  const auto unpadded = sequence_model_scores(model, {prompts[0]}, {{10, 11, 38}}, ends);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(together[i] == doctest::Approx(single[i]).epsilon(1e-5));
  CHECK(together[0] == doctest::Approx(unpadded[0]).epsilon(1e-5));
  // A response that is only padding has no score.
  CHECK(std::isnan(sequence_model_scores(model, {{1}}, {{39, 39}}, ends)[0]));
  CHECK_THROWS_WITH_AS(sequence_model_scores(model, {std::vector<int32_t>(127, 1)}, {{2, 3}}, ends),
                       doctest::Contains("more than the model's context of 128"), Error);
}

TEST_CASE("a short training run on the built-in task ranks held-out pairs above chance") {
  // A model this small gains nothing from threads, and a busy machine makes every parallel
  // region wait; one thread keeps the run to a couple of seconds.
  const ThreadCountGuard one_thread(1);
  // Revisions always score the oracle's maximum: (revised ≻ rejected) pairs carry no label noise.
  const testing::SmallTask task = testing::make_small_task(460, 2024);
  std::vector<PreferenceRecord> records;
  for (const RevisionRecord& r : task.data.revisions)
    if (r.revised != r.rejected) records.push_back({r.prompt, r.revised, r.rejected});
  const auto [train_records, held_records] = split_held_out(records, 0.15, 1);
  const auto train = tokenize_preferences(task.tokenizer, {}, train_records);
  const auto held_out = tokenize_preferences(task.tokenizer, {}, held_records);
  REQUIRE(train.front().chosen.back() == task.tokenizer.eos_id());
  const ResponseEnds ends = ResponseEnds::of(task.tokenizer);

  Gpt2<float> model = tiny_reward_model(task.tokenizer.vocab_size(), 5);
  RewardModelTrainOptions options;
  options.epochs = 2;
  options.lr = 3e-3;
  options.min_lr = 3e-4;
  options.warmup_steps = 10;
  options.progress = false;
  const RewardModelReport report = train_reward_model(model, train, held_out, ends, options);
  MESSAGE("before: " << report.before.summary());
  MESSAGE("after:  " << report.after.summary() << " (" << report.seconds << " s, " << report.steps
                     << " steps)");
  CHECK(report.after.pairs >= 50);
  CHECK(report.after.accuracy > 0.62);
  CHECK(report.after.loss < report.before.loss);
  CHECK(report.after.mean_margin > 0);

  // Normalisation: the training responses' scores have mean 0 and deviation 1 once applied.
  REQUIRE(report.normalization.has_value());
  TokenSequences prompts, responses;
  for (const TokenizedPair& pair : train)
    for (const auto* response : {&pair.chosen, &pair.rejected})
      prompts.push_back(pair.prompt), responses.push_back(*response);
  std::vector<double> normalised;
  for (double s : sequence_model_scores(model, prompts, responses, ends))
    normalised.push_back(report.normalization->apply(s));
  const ScoreNormalization check = measure_normalization(normalised);
  CHECK(check.mean == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(check.stddev == doctest::Approx(1.0).epsilon(1e-6));

  // Directory round trip, with the normalisation in config.json.
  testing::ScratchDir dir("reward_model");
  save_reward_model(dir.path / "rm", model, report.normalization, report.after);
  CHECK(reward_model_kind(dir.path / "rm") == "bradley_terry");
  const auto stored = read_score_normalization(dir.path / "rm");
  REQUIRE(stored.has_value());
  CHECK(stored->mean == report.normalization->mean);
  CHECK(stored->stddev == report.normalization->stddev);
  const auto reward = load_sequence_reward<float, Gpt2Arch>(dir.path / "rm", ends);
  const auto raw = load_sequence_reward<float, Gpt2Arch>(dir.path / "rm", ends, false);
  const TokenSequences some_prompts(prompts.begin(), prompts.begin() + 4);
  const TokenSequences some_responses(responses.begin(), responses.begin() + 4);
  const auto normalised_scores = reward.sequence_scores(some_prompts, some_responses);
  const auto raw_scores = raw.sequence_scores(some_prompts, some_responses);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(normalised_scores[i] == doctest::Approx(report.normalization->apply(raw_scores[i])));

  save_reward_model(dir.path / "plain", model, std::nullopt);
  CHECK_FALSE(read_score_normalization(dir.path / "plain").has_value());
  CHECK_THROWS_WITH_AS((load_sequence_reward<float, Gpt2Arch>(dir.path / "plain", ends)),
                       doctest::Contains("no score normalisation stored"), Error);
}

TEST_CASE("SequenceReward: the score on the last response token (EOS if any), 0 elsewhere") {
  auto model = std::make_shared<const Gpt2<float>>(tiny_reward_model(40, 8));
  const ResponseEnds ends{.eos = 38, .pad = 39};
  const SequenceReward<float, Gpt2Arch> reward(model, ends, ScoreNormalization{0.5, 2.0});
  static_assert(TokenRewardModel<SequenceReward<float, Gpt2Arch>>);
  const TokenSequences prompts = {{1, 2}, {3}, {4, 5}, {6}};
  const TokenSequences responses = {{10, 11, 38, 39, 39}, {12, 13, 14}, {38}, {39}};
  const TokenRewards r = reward.score(prompts, responses);
  check_reward_shape(responses, r, "SequenceReward");
  const auto raw = sequence_model_scores(*model, prompts, responses, ends);
  const std::vector<int> placed_at = {2, 2, 0, -1};  // EOS, last token (no EOS), EOS, nothing
  for (std::size_t row = 0; row < responses.size(); ++row)
    for (int i = 0; i < int(responses[row].size()); ++i) {
      CAPTURE(row);
      CAPTURE(i);
      if (i == placed_at[row])
        CHECK(r[row][i] == doctest::Approx((raw[row] - 0.5) / 2.0));
      else
        CHECK(r[row][i] == 0.0f);
    }
  CHECK(reward.name() == "sequence (normalised)");
  const Gpt2<float> discriminator(TransformerConfig::gpt2(40, 16, 1, 2, 8),
                                  {.lm = false, .token_classes = 2});
  CHECK_THROWS_WITH_AS(evaluate_reward_model(discriminator, std::span<const TokenizedPair>(), ends),
                       doctest::Contains("expected a sequence reward model"), Error);
}
