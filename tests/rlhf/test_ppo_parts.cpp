// Tests for rlhf/ppo/rollout_parts.hpp and PPO with micro-batches on one process: a scored part
// crosses the wire and back unchanged; a rollout collected in any number of parts draws the same
// per-row random streams as one whole-batch call and joins to the same rollout; PPO cut into
// micro-batches follows the one-part run up to rounding (double precision), with a value head or
// a separate critic, and repeats bitwise. The same runs on several MPI ranks: tests/mpi/.
#include "rlhf/test_ppo_support.hpp"

using namespace tlcr;
using namespace tlcr::testing;

namespace {
// A scored rollout of the given response lengths, every per-token field a fresh random number.
Rollout random_scored_rollout(const std::vector<int64_t>& lengths, Rng& rng) {
  Rollout r;
  r.offsets.push_back(0);
  for (int64_t length : lengths) {
    r.prompts.push_back({int32_t(rng.uniform_int(10)), 3});
    std::vector<int32_t>& response = r.responses.emplace_back();
    for (int64_t t = 0; t < length; ++t) response.push_back(int32_t(rng.uniform_int(70000)));
    r.ended.push_back(uint8_t(rng.uniform_int(2)));
    r.offsets.push_back(r.offsets.back() + length);
  }
  for (std::vector<double>* field : detail::scored_fields(r))
    for (int64_t i = 0; i < r.tokens(); ++i) field->push_back(rng.normal() * 3.0);
  return r;
}

void check_same_scored_rollout(const Rollout& a, const Rollout& b) {
  CHECK(a.prompts == b.prompts);
  CHECK(a.responses == b.responses);
  CHECK(a.ended == b.ended);
  CHECK(a.offsets == b.offsets);
  const auto fa = detail::scored_fields(a);
  const auto fb = detail::scored_fields(b);
  for (std::size_t f = 0; f < fa.size(); ++f) CHECK(*fa[f] == *fb[f]);
}
}  // namespace

TEST_CASE("encode_rollout_part / decode_rollout_part: a scored part crosses unchanged") {
  Rng rng(70);
  const Rollout first = random_scored_rollout({3, 1, 5}, rng);
  const Rollout second = random_scored_rollout({2}, rng);
  std::vector<double> wire;
  encode_rollout_part(first, wire);
  encode_rollout_part(second, wire);
  std::size_t at = 0;
  check_same_scored_rollout(decode_rollout_part(wire, at, first.prompts), first);
  check_same_scored_rollout(decode_rollout_part(wire, at, second.prompts), second);
  CHECK(at == wire.size());

  at = 0;
  CHECK_THROWS_WITH_AS(
      decode_rollout_part(std::span<const double>(wire).first(10), at, first.prompts),
      doctest::Contains("the part ends early, at entry 10"), Error);
  at = 0;
  CHECK_THROWS_WITH_AS(decode_rollout_part(wire, at, second.prompts),
                       doctest::Contains("3 rows for 1 prompts"), Error);
  Rollout unscored = first;
  unscored.scores.clear();
  CHECK_THROWS_WITH_AS(encode_rollout_part(unscored, wire),
                       doctest::Contains("score the part first"), Error);
}

TEST_CASE("collect_rollout: any number of parts draws the rows' whole-batch streams") {
  // A stand-in for phases 1–3: each row draws its response and numbers from its own split of the
  // part's Rng, as generate() does.
  auto compute_part = [](TokenSequences prompts, Rng& rng) {
    Rollout r;
    r.offsets.push_back(0);
    for (const auto& prompt : prompts) {
      Rng row_rng = rng.split();
      const int64_t length = 1 + int64_t(row_rng.uniform_int(4));
      std::vector<int32_t>& response = r.responses.emplace_back();
      for (int64_t t = 0; t < length; ++t) response.push_back(prompt[0] + int32_t(t));
      r.ended.push_back(uint8_t(row_rng.uniform_int(2)));
      r.offsets.push_back(r.offsets.back() + length);
      for (std::vector<double>* field : detail::scored_fields(r))
        for (int64_t t = 0; t < length; ++t) field->push_back(row_rng.normal());
    }
    r.prompts = std::move(prompts);
    return r;
  };
  const TokenSequences prompts = tiny_prompts(7, 3);
  Rng whole_rng(11);
  const Rollout whole = collect_rollout(prompts, 1, whole_rng, SingleProcess{}, compute_part);
  CHECK(whole.rows() == 7);
  CHECK(whole.prompts == prompts);
  for (int64_t parts : {2, 3, 7}) {
    CAPTURE(parts);
    Rng rng(11);
    const Rollout joined = collect_rollout(prompts, parts, rng, SingleProcess{}, compute_part);
    check_same_scored_rollout(joined, whole);
    CHECK(rng.state() == whole_rng.state());  // the caller's Rng ends 7 splits on either way
  }
  Rng rng(11);
  CHECK_THROWS_WITH_AS(collect_rollout(prompts, 8, rng, SingleProcess{}, compute_part),
                       doctest::Contains("8 parts for 7 prompts"), Error);
}

namespace {
struct PartsRun {
  std::vector<TokenSequences> responses;  // each iteration's
  std::vector<nlohmann::json> metrics;
  Tensor<double> policy, critic;
};

// Three PPO iterations of tiny double-precision models cut into `micro_batches` parts.
PartsRun run_in_parts(int64_t micro_batches, bool separate_critic) {
  Gpt2<double> policy(tiny_ppo_config(), HeadConfig{.lm = true, .value = !separate_critic}, 5);
  const Gpt2<double> reference(tiny_ppo_config(), {}, 5);
  Gpt2<double> critic(tiny_ppo_config(), HeadConfig{.lm = false, .value = true}, 6);
  PpoConfig config = tiny_ppo_settings();
  config.iterations = 3;
  config.micro_batches = micro_batches;
  const TokenFiveReward reward;
  PpoTrainer<double, Gpt2Arch, TokenFiveReward> trainer(
      {policy, reference, separate_critic ? &critic : nullptr}, reward, tiny_prompts(20), config);
  PartsRun run;
  for (int i = 0; i < 3; ++i) {
    run.metrics.push_back(without_times(trainer.iterate().metrics));
    run.responses.push_back(trainer.last_rollout().responses);
  }
  run.policy = policy.params().values().clone();
  run.critic = critic.params().values().clone();
  return run;
}
}  // namespace

TEST_CASE("PPO in micro-batches: the one-part run up to rounding, and repeatable bit for bit") {
  for (bool separate_critic : {false, true}) {
    CAPTURE(separate_critic);
    const PartsRun one = run_in_parts(1, separate_critic);
    // Minibatches of 4 rows: 2 parts of 2 rows, 3 uneven parts (1, 1, 2), 4 parts of 1 row.
    for (int64_t parts : {2, 3, 4}) {
      CAPTURE(parts);
      const PartsRun cut = run_in_parts(parts, separate_critic);
      CHECK(cut.responses == one.responses);  // the same samples: the rows' own streams
      for (std::size_t i = 0; i < one.metrics.size(); ++i)
        for (const char* key :
             {"objective/scores", "objective/kl", "loss/policy_avg", "loss/value_avg",
              "policy/approxkl_avg", "val/ratio", "policy/grad_norm"}) {
          CAPTURE(key);
          CHECK(cut.metrics[i][key].get<double>() ==
                doctest::Approx(one.metrics[i][key].get<double>()).epsilon(1e-9));
        }
      const double policy_gap = max_abs_diff(cut.policy, one.policy);
      CHECK(policy_gap < 1e-10);
      CHECK(max_abs_diff(cut.critic, one.critic) < 1e-10);
      if (parts == 3) {  // repeatable bit for bit, and the parts are really used
        const PartsRun again = run_in_parts(parts, separate_critic);
        CHECK(max_abs_diff(again.policy, cut.policy) == 0.0);
        CHECK(max_abs_diff(again.critic, cut.critic) == 0.0);
        CHECK(again.metrics == cut.metrics);
        CHECK(policy_gap > 0.0);
      }
    }
  }
  PpoConfig bad = tiny_ppo_settings();
  bad.micro_batches = 5;  // minibatches of 4 rows
  CHECK_THROWS_WITH_AS(bad.validate(),
                       doctest::Contains("micro_batches must be in 1 … minibatch_size (4), got 5"),
                       Error);
}
