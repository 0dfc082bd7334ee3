// Tests for rlhf/ppo/trainer.hpp and critic.hpp as contracts: the same seed gives identical metrics
// and weights; N iterations straight equal k iterations + checkpoint + resume + N − k, bit for bit
// (weights, optimizer-driven updates, RNG streams, KL controller, metrics), with the value head on
// the policy and with a separate critic; a NaN stops the run and the last good checkpoint
// survives; a resume under different settings is refused; a critic starts from a trunk.
#include "rlhf/test_ppo_support.hpp"

using namespace tlcr;
using namespace tlcr::testing;
namespace fs = std::filesystem;

namespace {

struct RunOutcome {
  Tensor<float> policy, critic;
  std::vector<nlohmann::json> metrics;
  PpoReport report;
};

// A run from fresh tiny models (`policy_seed` matters only when nothing is resumed).
RunOutcome run_ppo(const PpoConfig& config, bool separate_critic, PpoRunOptions run,
                   uint64_t policy_seed = 5) {
  Gpt2<float> policy = separate_critic ? tiny_reference(policy_seed) : tiny_policy(policy_seed);
  const Gpt2<float> reference = tiny_reference();
  Gpt2<float> critic = tiny_critic(policy_seed + 1);
  run.progress = false;
  run.print_samples = false;
  const TokenFiveReward reward;
  RunOutcome out;
  out.report = train_ppo<float, Gpt2Arch>({policy, reference, separate_critic ? &critic : nullptr},
                                          reward, tiny_prompts(20), config, run);
  out.policy = policy.params().values().clone();
  out.critic = critic.params().values().clone();
  if (!run.metrics_path.empty()) out.metrics = read_metrics(run.metrics_path);
  return out;
}

// Settings that exercise every stream of state: several minibatches and epochs (shuffle RNG),
// an adaptive KL controller, an entropy bonus, whitening.
PpoConfig resume_settings() {
  PpoConfig c = tiny_ppo_settings();
  c.iterations = 5;
  c.kl_target = 0.05;
  c.kl_horizon = 100;
  c.entropy_coef = 0.01;
  c.warmup_iterations = 1;
  return c;
}

}  // namespace

TEST_CASE("the same seed gives identical metrics and weights; another seed does not") {
  const fs::path dir = fresh_ppo_dir("determinism");
  PpoConfig config = resume_settings();
  config.iterations = 3;
  const RunOutcome a = run_ppo(config, false, {.metrics_path = dir / "a.jsonl"});
  const RunOutcome b = run_ppo(config, false, {.metrics_path = dir / "b.jsonl"});
  REQUIRE(a.metrics.size() == 3);
  CHECK(a.metrics == b.metrics);
  CHECK(max_abs_diff(a.policy, b.policy) == 0.0);
  config.seed += 1;
  const RunOutcome c = run_ppo(config, false, {.metrics_path = dir / "c.jsonl"});
  CHECK(c.metrics != a.metrics);
  CHECK(max_abs_diff(c.policy, a.policy) > 0.0);
  fs::remove_all(dir);
}

TEST_CASE("k iterations + checkpoint + resume + N − k equals N straight, bitwise") {
  for (const bool separate_critic : {false, true}) {
    CAPTURE(separate_critic);
    const fs::path dir = fresh_ppo_dir(separate_critic ? "resume_critic" : "resume_head");
    const PpoConfig config = resume_settings();
    const RunOutcome straight =
        run_ppo(config, separate_critic, {.metrics_path = dir / "straight.jsonl"});

    const RunOutcome head = run_ppo(
        config, separate_critic,
        {.checkpoint_dir = dir / "ckpt", .metrics_path = dir / "parts.jsonl", .stop_after = 2});
    CHECK(head.report.iterations == 2);
    CHECK(fs::exists(dir / "ckpt" / "trainer_state.json"));
    CHECK(fs::exists(dir / "ckpt" / "policy" / "optimizer.safetensors"));
    CHECK(fs::exists(dir / "ckpt" / "critic") == separate_critic);
    CHECK_FALSE(fs::exists(dir / "ckpt.tmp"));
    CHECK(max_abs_diff(head.policy, straight.policy) > 0.0);

    // A fresh process: other initial weights; everything must come from the checkpoint.
    const RunOutcome tail = run_ppo(config, separate_critic,
                                    {.checkpoint_dir = dir / "ckpt",
                                     .metrics_path = dir / "parts.jsonl",
                                     .resume_from = dir / "ckpt"},
                                    /*policy_seed=*/99);
    CHECK(tail.report.iterations == config.iterations);
    CHECK(max_abs_diff(tail.policy, straight.policy) == 0.0);
    if (separate_critic) CHECK(max_abs_diff(tail.critic, straight.critic) == 0.0);
    REQUIRE(tail.metrics.size() == straight.metrics.size());
    for (std::size_t i = 0; i < tail.metrics.size(); ++i) {
      CAPTURE(i);
      CHECK(tail.metrics[i] == straight.metrics[i]);
    }
    // The controller moved β, and the resumed run continued from the saved value.
    CHECK(straight.metrics.back()["objective/kl_coef"] !=
          straight.metrics.front()["objective/kl_coef"]);
    // The checkpoint's policy is a model directory on its own.
    const Gpt2<float> saved = load_model<float, Gpt2Arch>(dir / "ckpt" / "policy");
    CHECK(max_abs_diff(saved.params().values(), straight.policy) == 0.0);
    fs::remove_all(dir);
  }
}

TEST_CASE(
    "β waiting for its KL target: fixed until reached, then adaptive; resume keeps the wait") {
  const fs::path dir = fresh_ppo_dir("kl_wait");
  PpoConfig fixed = resume_settings();
  fixed.kl_target = 0;
  const RunOutcome reference_run = run_ppo(fixed, true, {.metrics_path = dir / "fixed.jsonl"});
  REQUIRE(reference_run.metrics.size() == 5);
  auto kl_of = [](const RunOutcome& r, std::size_t i) {
    return r.metrics[i]["objective/kl"].get<double>();
  };
  // A target the first two batches stay below and a later one reaches.
  const double target = std::max(kl_of(reference_run, 0), kl_of(reference_run, 1)) * 1.0001 + 1e-12;
  std::size_t reached = 2;
  while (reached < 5 && kl_of(reference_run, reached) < target) ++reached;
  REQUIRE(reached < 4);  // at least one batch uses the moved β

  PpoConfig waiting = resume_settings();
  waiting.kl_target = target;
  waiting.kl_wait_for_target = true;
  const RunOutcome straight = run_ppo(waiting, true, {.metrics_path = dir / "waiting.jsonl"});
  REQUIRE(straight.metrics.size() == 5);
  for (std::size_t i = 0; i <= reached; ++i) {  // β of batch i is set after batch i − 1
    CAPTURE(i);
    CHECK(straight.metrics[i]["objective/kl_coef"].get<double>() == waiting.kl_coef);
    CHECK(straight.metrics[i] == reference_run.metrics[i]);  // the same run as fixed β, so far
  }
  CHECK(straight.metrics[reached + 1]["objective/kl_coef"].get<double>() > waiting.kl_coef);

  // Stopped while still waiting, resumed in a fresh process: the same run, bit for bit.
  run_ppo(waiting, true, {.checkpoint_dir = dir / "ckpt", .stop_after = 2});
  CHECK(read_json_file(dir / "ckpt" / "trainer_state.json").at("kl_waiting") == true);
  const RunOutcome tail =
      run_ppo(waiting, true, {.checkpoint_dir = dir / "ckpt", .resume_from = dir / "ckpt"}, 99);
  CHECK(max_abs_diff(tail.policy, straight.policy) == 0.0);
  CHECK(max_abs_diff(tail.critic, straight.critic) == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("a NaN stops the run with a report; the last good checkpoint survives") {
  const fs::path dir = fresh_ppo_dir("nan");
  PpoConfig config = tiny_ppo_settings();
  config.iterations = 2;
  run_ppo(config, false, {.checkpoint_dir = dir});
  const auto saved_bytes = fs::file_size(dir / "policy" / "model.safetensors");
  const std::string saved_state = read_json_file(dir / "trainer_state.json").dump();

  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  const NanReward reward;
  config.iterations = 4;
  const auto resume_into_nan = [&] {
    train_ppo<float, Gpt2Arch>(
        {policy, reference}, reward, tiny_prompts(20), config,
        {.checkpoint_dir = dir, .resume_from = dir, .progress = false, .print_samples = false});
  };
  CHECK_THROWS_WITH_AS(
      resume_into_nan(),
      doctest::Contains(
          "ppo iteration 3: first non-finite value: reward-model score = nan at row 1"),
      Error);
  CHECK(fs::file_size(dir / "policy" / "model.safetensors") == saved_bytes);
  CHECK(read_json_file(dir / "trainer_state.json").dump() == saved_state);
  fs::remove_all(dir);
}

TEST_CASE("resuming under different settings or models is refused, naming the difference") {
  const fs::path dir = fresh_ppo_dir("mismatch");
  PpoConfig config = tiny_ppo_settings();
  config.iterations = 1;
  run_ppo(config, false, {.checkpoint_dir = dir});

  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  const TokenFiveReward reward;
  PpoConfig other = config;
  other.iterations = 3;  // allowed: a longer run
  other.lr = 1e-4;       // not allowed
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> trainer({policy, reference}, reward,
                                                       tiny_prompts(20), other);
  CHECK_THROWS_WITH_AS(trainer.resume(dir),
                       doctest::Contains("setting 'lr' was 0.003, this run has 0.0001"), Error);

  Gpt2<float> critic = tiny_critic();
  Gpt2<float> bare_policy = tiny_reference();
  PpoTrainer<float, Gpt2Arch, TokenFiveReward> with_critic({bare_policy, reference, &critic},
                                                           reward, tiny_prompts(20), config);
  CHECK_THROWS_WITH_AS(with_critic.resume(dir), doctest::Contains("holds no critic/"), Error);

  PpoTrainer<float, Gpt2Arch, TokenFiveReward> fewer_prompts({policy, reference}, reward,
                                                             tiny_prompts(7), config);
  CHECK_THROWS_WITH_AS(fewer_prompts.resume(dir),
                       doctest::Contains("the saved order has 20 prompts, this run has 7"), Error);
  fs::remove_all(dir);
}

TEST_CASE("make_critic copies a trunk, ignores the stored heads and adds a fresh value head") {
  const fs::path dir = fresh_ppo_dir("critic");
  // A discriminator-like model: trunk + a 2-logit token classifier, no LM head.
  const Gpt2<float> discriminator(tiny_ppo_config(), HeadConfig{.lm = false, .token_classes = 2},
                                  8);
  save_model(dir, discriminator);
  const Gpt2<float> critic = make_critic<float, Gpt2Arch>(dir, /*seed=*/3);
  CHECK(critic.heads().value);
  CHECK_FALSE(critic.heads().lm);
  for (const auto& p : critic.params().parameters()) {
    CAPTURE(p.name);
    if (p.name.starts_with("v_head.")) continue;
    CHECK(max_abs_diff(p.var.value(), discriminator.params().get(p.name).value()) == 0.0);
  }
  CHECK(critic.params().get("v_head.weight").value()[0] != 0.0f);  // freshly initialised
  CHECK_THROWS_WITH_AS((make_critic<float, LlamaArch>(dir)),
                       doctest::Contains("describes a GPT-2 model"), Error);
  fs::remove_all(dir);
}
