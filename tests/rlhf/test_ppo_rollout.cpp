// Tests for rlhf/ppo/rollout.hpp and samples.hpp, and one PpoTrainer iteration at a time: the
// response batch covers exactly the response tokens; at the first iteration the policy equals the
// reference, so every KL is 0; with one epoch and one minibatch the ratio is 1 and nothing is
// clipped; the rollout keeps returns = advantages + values; a sequence-level reward is accounted
// where it lands; sample tables carry the per-token view; a NaN is reported by quantity, row and
// token.
#include "rlhf/test_ppo_support.hpp"

using namespace tlcr;
using namespace tlcr::testing;

TEST_CASE(
    "make_response_batch: targets cover exactly the response tokens, at their predicting states") {
  const TokenSequences prompts{{1, 2, 3}, {4}, {6, 7}};
  const TokenSequences responses{{5, 11}, {8, 9, 10}, {2}};
  const std::vector<int64_t> rows{2, 0, 1};
  const ResponseBatch rb = make_response_batch(prompts, responses, rows, /*pad=*/0);
  CHECK(rb.batch.batch == 3);
  CHECK(rb.batch.time == 5);  // the longest row: 3 + 2
  CHECK(rb.offsets == std::vector<int64_t>{0, 1, 3, 6});
  CHECK(rb.tokens == std::vector<int32_t>{2, 5, 11, 8, 9, 10});
  // Row 0 of the batch is rollout row 2: prompt {6, 7}, its token 2 is predicted at position 1.
  CHECK(rb.predict_at ==
        std::vector<int32_t>{0 * 5 + 1, 1 * 5 + 2, 1 * 5 + 3, 2 * 5 + 0, 2 * 5 + 1, 2 * 5 + 2});
  for (std::size_t i = 0; i < rb.tokens.size(); ++i)
    CHECK(rb.batch.targets[rb.predict_at[i]] == rb.tokens[i]);
  CHECK(rb.batch.target_count() == 6);

  CHECK_THROWS_WITH_AS(make_response_batch(prompts, TokenSequences{{5}, {}, {2}}, rows, 0),
                       doctest::Contains("row 1 has 1 prompt and 0 response tokens"), Error);
  CHECK_THROWS_WITH_AS(make_response_batch(prompts, responses, std::vector<int64_t>{3}, 0),
                       doctest::Contains("row 3 of 3"), Error);
}

TEST_CASE("response_hidden gathers the states a full forward computes at those positions") {
  const Gpt2<float> policy = tiny_policy();
  const TokenSequences prompts{{1, 2}, {3}}, responses{{4, 5, 6}, {7}};
  const std::vector<int64_t> rows{0, 1};
  const ResponseBatch rb = make_response_batch(prompts, responses, rows, 0);
  NoGrad no_grad;
  const Var<float> picked = response_logits(policy, response_hidden(policy, rb));  // (N, V)
  // Row 0 alone, unpadded: logits at positions 1, 2, 3 predict its response tokens.
  const std::vector<int32_t> row0{1, 2, 4, 5, 6};
  const Var<float> full = policy.lm_logits(policy.hidden({1, 5, row0, {}, {}}));
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t v = 0; v < 12; ++v)
      CHECK(picked.value()[t * 12 + v] ==
            doctest::Approx(full.value()[(1 + t) * 12 + v]).epsilon(1e-5));
}

TEST_CASE("one epoch, one minibatch: ratio exactly 1, no clipping; the first rollout has zero KL") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  PpoConfig config = tiny_ppo_settings();
  config.minibatch_size = config.batch_size;
  config.epochs = 1;
  const TokenFiveReward reward;
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> trainer({policy, reference}, reward,
                                                       tiny_prompts(20), config);
  for (int iteration = 1; iteration <= 3; ++iteration) {
    const PpoIteration it = trainer.iterate();
    const nlohmann::json& m = it.metrics;
    CAPTURE(m.dump());
    CHECK(it.iteration == iteration);
    CHECK(m["val/ratio"].get<double>() == 1.0);
    CHECK(m["val/ratio_var"].get<double>() == 0.0);
    CHECK(m["policy/clipfrac_avg"].get<double>() == 0.0);
    CHECK(m["policy/approxkl_avg"].get<double>() == 0.0);
    CHECK(m["policy/updates"].get<int64_t>() == 1);
    // The sampler's KV-cache log-probs agree with the batched forward.
    CHECK(m["policy/sampler_logprob_gap"].get<double>() < 1e-4);
    if (iteration == 1) {  // policy == reference
      CHECK(m["objective/kl_full"].get<double>() == 0.0);
      CHECK(m["objective/kl_k1"].get<double>() == 0.0);
      CHECK(m["objective/kl_k3"].get<double>() == 0.0);
      CHECK(m["objective/non_score_reward"].get<double>() == 0.0);
    } else {
      CHECK(m["objective/kl_full"].get<double>() > 0.0);
    }
  }
}

TEST_CASE("a rollout keeps its invariants and accounts rewards, KL and lengths consistently") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  PpoConfig config = tiny_ppo_settings();
  config.whiten_rewards = false;
  config.kl_estimator = KlEstimator::K1;
  const TokenFiveReward reward;
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> trainer({policy, reference}, reward,
                                                       tiny_prompts(20), config);
  trainer.iterate();
  const PpoIteration it = trainer.iterate();  // the policy has moved: KL ≠ 0
  const Rollout& r = trainer.last_rollout();
  REQUIRE(r.rows() == config.batch_size);
  double scores = 0, kl = 0, lengths = 0;
  int64_t ended = 0;
  for (int64_t b = 0; b < r.rows(); ++b) {
    CHECK(r.row_length(b) == static_cast<int64_t>(r.responses[b].size()));
    CHECK(r.row_length(b) <= config.max_new_tokens);
    const bool has_eos = !r.responses[b].empty() && r.responses[b].back() == kTinyEos;
    CHECK(bool(r.ended[b]) == has_eos);
    ended += has_eos;
    lengths += r.row_length(b);
    for (int64_t t = 0; t < r.row_length(b); ++t) {
      const int64_t i = r.offsets[b] + t;
      const int32_t token = r.responses[b][t];
      CHECK(r.scores[i] == (token == 5 ? 1.0 : token == 7 ? -1.0 : 0.0));
      CHECK(r.kl[i] == r.logprobs[i] - r.ref_logprobs[i]);
      CHECK(r.rewards[i] == doctest::Approx(r.scores[i] - r.kl_coef * r.kl[i]));
      CHECK(r.returns[i] == doctest::Approx(r.advantages[i] + r.values[i]).epsilon(1e-12));
      CHECK(r.kl_full[i] >= -1e-6);
      scores += r.scores[i];
      kl += r.kl[i];
    }
  }
  const nlohmann::json& m = it.metrics;
  CHECK(m["objective/scores"].get<double>() == doctest::Approx(scores / r.rows()));
  CHECK(m["objective/kl"].get<double>() == doctest::Approx(kl / r.rows()));
  CHECK(m["objective/kl"].get<double>() == m["objective/kl_k1"].get<double>());
  CHECK(m["objective/rlhf_reward"].get<double>() ==
        doctest::Approx(m["objective/scores"].get<double>() +
                        m["objective/non_score_reward"].get<double>()));
  CHECK(m["tokens/responses_len_mean"].get<double>() == doctest::Approx(lengths / r.rows()));
  CHECK(m["val/num_eos_tokens"].get<int64_t>() == ended);
  CHECK(m["objective/kl_coef"].get<double>() == config.kl_coef);
  CHECK(m["episode"].get<int64_t>() == 2 * config.batch_size);
  CHECK(m["policy/updates"].get<int64_t>() ==
        config.epochs * config.batch_size / config.minibatch_size);
  for (const char* key : {"objective/entropy", "loss/policy_avg", "loss/value_avg",
                          "val/clipfrac_avg", "val/var_explained", "policy/grad_norm",
                          "time/generate", "time/forward", "time/reward", "time/update", "eps"})
    CHECK_MESSAGE(m.contains(key), key);
  // Without whitening, the GAE of the last token of a response is rew − V.
  const int64_t last = r.offsets[1] - 1;
  CHECK(r.advantages[last] == doctest::Approx(r.rewards[last] - r.values[last]));
}

TEST_CASE("a sequence-level reward on the last token; the missing-EOS penalty on cut responses") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  PpoConfig config = tiny_ppo_settings();
  config.max_new_tokens = 3;  // short: some responses get cut
  config.missing_eos_penalty = 2.0;
  config.kl_coef = 0;
  const CountFivesAtEnd reward;
  PpoTrainer<float, Gpt2Arch, CountFivesAtEnd> trainer({policy, reference}, reward,
                                                       tiny_prompts(20), config);
  const PpoIteration it = trainer.iterate();
  const Rollout& r = trainer.last_rollout();
  double expected = 0;
  int64_t cut = 0;
  for (int64_t b = 0; b < r.rows(); ++b) {
    const auto& response = r.responses[b];
    const double fives = static_cast<double>(std::count(response.begin(), response.end(), 5));
    expected += fives;
    const int64_t last = r.offsets[b + 1] - 1;
    CHECK(r.scores[last] == fives);
    CHECK(r.rewards[last] == fives - (r.ended[b] ? 0.0 : 2.0));
    cut += !r.ended[b];
  }
  CHECK(cut > 0);
  CHECK(it.metrics["objective/scores"].get<double>() == doctest::Approx(expected / r.rows()));
  CHECK(it.metrics["objective/rlhf_reward"].get<double>() ==
        doctest::Approx((expected - 2.0 * cut) / r.rows()));
}

TEST_CASE("sample tables: due iterations, per-token rows, JSON and terminal text") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  PpoConfig config = tiny_ppo_settings();
  config.sample_every = 2;
  config.sample_rows = 3;
  const TokenFiveReward reward;
  const TokenDecoder decode = [](std::span<const int32_t> ids) {
    std::string text;
    for (int32_t id : ids) text.append("<").append(std::to_string(id)).append(">");
    return text;
  };
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> trainer({policy, reference}, reward,
                                                       tiny_prompts(20), config, decode);
  const PpoIteration first = trainer.iterate(), second = trainer.iterate(),
                     third = trainer.iterate();
  CHECK(first.samples.has_value());  // the first iteration always shows its samples
  CHECK(second.samples.has_value());
  CHECK_FALSE(third.samples.has_value());
  const SampleTable& table = *second.samples;
  const Rollout& r =
      trainer.last_rollout();  // the third rollout; check the table's own consistency
  CHECK(table.iteration == 2);
  REQUIRE(table.samples.size() == 3);
  for (const RolloutSample& s : table.samples) {
    double score = 0;
    for (const SampleToken& t : s.tokens) {
      CHECK(t.text == std::string("<").append(std::to_string(t.id)).append(">"));
      CHECK(t.ret == doctest::Approx(t.advantage + t.value).epsilon(1e-12));
      score += t.score;
    }
    CHECK(s.score == score);
    CHECK(s.prompt.starts_with("<"));
  }
  const std::string text = format_sample_table(table);
  CHECK(text.find("sample 0 · iteration 2") != std::string::npos);
  CHECK(text.find("r_t") != std::string::npos);
  const nlohmann::json j = to_json(table);
  CHECK(j["samples"].size() == 3);
  CHECK(j["samples"][0]["tokens"][0].contains("advantage"));
  // Without a decoder tokens print as ids.
  const SampleTable plain = make_sample_table(r, 1, 3);
  CHECK(plain.samples[0].tokens[0].text ==
        std::string("#").append(std::to_string(r.responses[0][0])));
}

TEST_CASE("the first non-finite value stops the iteration, naming the quantity, row and token") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  const NanReward nan_reward;
  PpoTrainer<float, Gpt2Arch, NanReward> bad_reward({policy, reference}, nan_reward,
                                                    tiny_prompts(20), tiny_ppo_settings());
  CHECK_THROWS_WITH_AS(bad_reward.iterate(),
                       doctest::Contains("ppo iteration 1: first non-finite value: reward-model "
                                         "score = nan at row 1, response token 0 (id"),
                       Error);

  // A NaN in the value head: sampling is unaffected, the rollout's values are not.
  Gpt2<float> broken = tiny_policy();
  broken.params().get("v_head.weight").value()[0] = NAN;
  const TokenFiveReward reward;
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> bad_values({broken, reference}, reward,
                                                          tiny_prompts(20), tiny_ppo_settings());
  CHECK_THROWS_WITH_AS(
      bad_values.iterate(),
      doctest::Contains("first non-finite value: value = nan at row 0, response token 0"), Error);
}

TEST_CASE("the trainer refuses models it cannot train") {
  Gpt2<float> no_value_head = tiny_reference();
  const Gpt2<float> reference = tiny_reference();
  const TokenFiveReward reward;
  using Trainer = PpoTrainer<float, Gpt2Arch, TokenFiveReward>;
  CHECK_THROWS_WITH_AS(
      Trainer({no_value_head, reference}, reward, tiny_prompts(4), tiny_ppo_settings()),
      doctest::Contains("without a separate critic the policy needs a value head"), Error);
  Gpt2<float> policy = tiny_policy();
  Gpt2<float> lm_only_critic = tiny_reference();
  CHECK_THROWS_WITH_AS(
      Trainer({policy, reference, &lm_only_critic}, reward, tiny_prompts(4), tiny_ppo_settings()),
      doctest::Contains("the critic needs a value head"), Error);
  const Gpt2<float> other_vocab(TransformerConfig::gpt2(13, 32, 1, 2, 16), {}, 1);
  CHECK_THROWS_WITH_AS(Trainer({policy, other_vocab}, reward, tiny_prompts(4), tiny_ppo_settings()),
                       doctest::Contains("the reference has 13 tokens, the policy 12"), Error);
  CHECK_THROWS_WITH_AS(
      Trainer({policy, reference}, reward, TokenSequences{{1}, {}}, tiny_ppo_settings()),
      doctest::Contains("prompt 1 has no tokens"), Error);
  PpoConfig bad = tiny_ppo_settings();
  bad.minibatch_size = 3;
  CHECK_THROWS_WITH_AS(Trainer({policy, reference}, reward, tiny_prompts(4), bad),
                       doctest::Contains("minibatch_size 3 must divide batch_size 8"), Error);
}
