// Tests for the device seam in the RLHF stack: on Cpu and on SealedCpu (host memory, CPU kernels,
// no element access from generic code) a discriminator training run, a Bradley–Terry reward-model
// run, PPO iterations with every reward kind, and checkpoint resumes give bitwise the same numbers;
// the host↔device transfers per PPO iteration, per generated batch and per discriminator and
// Bradley–Terry training step are a handful and do not grow with the number of tokens.
#include "support/testing.hpp"

#include <tlcr/train/lm_trainer.hpp>

#include <string>
#include <vector>

#include "device_runs.hpp"

using namespace tlcr;

using namespace tlcr::testing::device_runs;

TEST_CASE("a discriminator training run is bitwise the same on Cpu and SealedCpu") {
  const DiscriminatorRun cpu = train_tiny_discriminator<Cpu>();
  const DiscriminatorRun sealed = train_tiny_discriminator<SealedCpu>();
  CHECK(cpu.report.steps == 4);
  CHECK(cpu.report.last_loss == sealed.report.last_loss);
  CHECK(cpu.report.before.to_json() == sealed.report.before.to_json());
  CHECK(cpu.report.after.to_json() == sealed.report.after.to_json());
  CHECK(cpu.report.after.loss != cpu.report.before.loss);  // it trained
  CHECK(cpu.weights == sealed.weights);
  CHECK(cpu.probabilities == sealed.probabilities);
}

TEST_CASE("a Bradley–Terry reward-model run is bitwise the same on Cpu and SealedCpu") {
  const RewardModelRun cpu = train_tiny_reward_model<Cpu>();
  const RewardModelRun sealed = train_tiny_reward_model<SealedCpu>();
  CHECK(cpu.report.steps == 4);
  CHECK(cpu.report.last_loss == sealed.report.last_loss);
  CHECK(cpu.report.before.to_json() == sealed.report.before.to_json());
  CHECK(cpu.report.after.to_json() == sealed.report.after.to_json());
  REQUIRE(cpu.report.normalization.has_value());
  REQUIRE(sealed.report.normalization.has_value());
  CHECK(cpu.report.normalization->mean == sealed.report.normalization->mean);
  CHECK(cpu.report.normalization->stddev == sealed.report.normalization->stddev);
  CHECK(cpu.weights == sealed.weights);
  CHECK(cpu.scores == sealed.scores);
}

TEST_CASE("PPO with every reward kind is bitwise the same on Cpu and SealedCpu") {
  const ThreadCountGuard two_threads(2);
  const RewardDirs dirs;
  for (const std::string& kind : reward_kinds()) {
    CAPTURE(kind);
    // The hybrid run also takes the separate critic and the k3 estimator.
    const bool separate_critic = kind == "hybrid";
    PpoConfig config = device_ppo_settings();
    if (kind == "hybrid") config.kl_estimator = KlEstimator::K3;
    const PpoRun cpu = run_ppo<Cpu>(spec_for(kind, dirs), separate_critic, config);
    const PpoRun sealed = run_ppo<SealedCpu>(spec_for(kind, dirs), separate_critic, config);
    REQUIRE(cpu.metrics.size() == 2);
    CHECK(cpu.metrics == sealed.metrics);
    CHECK(cpu.policy == sealed.policy);
    CHECK(cpu.critic == sealed.critic);
    CHECK(cpu.metrics[1]["policy/updates"].get<int64_t>() == 2);
    CHECK(cpu.metrics[1]["objective/kl_full"].get<double>() > 0);  // the policy moved
  }
}

TEST_CASE("checkpoint resume on SealedCpu equals an uninterrupted Cpu run") {
  testing::ScratchDir scratch("rlhf_devices_resume");
  SUBCASE("language-model training") {
    const LmResume run = lm_resume<Cpu, SealedCpu>(scratch.path / "lm");
    CHECK(run.finished.steps == 5);
    CHECK(run.finished.last_loss == run.uninterrupted.last_loss);
    CHECK(run.resumed == run.whole);
  }
  SUBCASE("PPO") {
    const PpoConfig config = [] {
      PpoConfig c = device_ppo_settings();
      c.iterations = 3;
      return c;
    }();
    const testing::TokenFiveReward reward;
    const TokenSequences prompts = testing::tiny_prompts(8);
    auto trainer_on = [&](auto& policy, const auto& reference) {
      using D = typename std::remove_cvref_t<decltype(policy.params().values())>::device_type;
      return PpoTrainer<float, Gpt2Arch, testing::TokenFiveReward, D>(
          PpoModels<float, Gpt2Arch, D>{policy, reference}, reward, prompts, config);
    };
    const PpoRunOptions quiet{.progress = false, .print_samples = false};

    Model<Cpu> policy(testing::tiny_ppo_config(), {.lm = true, .value = true}, 5);
    const Model<Cpu> reference(testing::tiny_ppo_config(), {}, 5);
    auto whole = trainer_on(policy, reference);
    const PpoReport uninterrupted = whole.train(quiet);

    Model<SealedCpu> sealed_policy(testing::tiny_ppo_config(), {.lm = true, .value = true}, 5);
    const Model<SealedCpu> sealed_reference(testing::tiny_ppo_config(), {}, 5);
    PpoRunOptions stop = quiet;
    stop.checkpoint_dir = scratch.path / "ppo";
    stop.stop_after = 1;
    auto first = trainer_on(sealed_policy, sealed_reference);
    first.train(stop);
    Model<SealedCpu> resumed_policy(testing::tiny_ppo_config(), {.lm = true, .value = true}, 77);
    PpoRunOptions resume = quiet;
    resume.resume_from = stop.checkpoint_dir;
    auto second = trainer_on(resumed_policy, sealed_reference);
    const PpoReport finished = second.train(resume);
    CHECK(finished.iterations == 3);
    CHECK(testing::without_times(finished.last_metrics) ==
          testing::without_times(uninterrupted.last_metrics));
    CHECK(weights(resumed_policy) == weights(policy));
  }
}

TEST_CASE("SealedCpu transfers per PPO iteration and per generated batch do not grow with tokens") {
  const RewardDirs dirs;
  const ResponseEnds ends{.eos = testing::kTinyEos};
  const AnyTokenReward reward = make_token_reward<SealedCpu>(spec_for("hybrid", dirs), ends);

  // Transfers of one PPO iteration (the second, past any first-use set-up) with responses of up
  // to `max_new_tokens` tokens.
  struct Measured {
    TransferCounts counts;
    int64_t tokens = 0;
  };
  auto iteration = [&](int64_t max_new_tokens) {
    PpoConfig config = device_ppo_settings();
    config.max_new_tokens = max_new_tokens;
    config.early_stop_kl = 0;
    Model<SealedCpu> policy(testing::tiny_ppo_config(), {.lm = true, .value = true}, 5);
    const Model<SealedCpu> reference(testing::tiny_ppo_config(), {}, 5);
    Model<SealedCpu> critic(testing::tiny_ppo_config(), {.lm = false, .value = true}, 6);
    PpoTrainer<float, Gpt2Arch, AnyTokenReward, SealedCpu> trainer(
        PpoModels<float, Gpt2Arch, SealedCpu>{policy, reference, &critic}, reward,
        testing::tiny_prompts(8), config);
    trainer.iterate();
    reset_transfer_counts<SealedCpu>();
    trainer.iterate();
    return Measured{transfer_counts<SealedCpu>(), trainer.last_rollout().tokens()};
  };
  const Measured short_responses = iteration(2), long_responses = iteration(8);
  MESSAGE(
      "SealedCpu transfers per PPO iteration (4 responses, 2 minibatches, separate critic, "
      "hybrid reward): "
      << short_responses.counts.to_device << " uploads + " << short_responses.counts.to_host
      << " downloads for " << short_responses.tokens << " response tokens; "
      << long_responses.counts.to_device << " + " << long_responses.counts.to_host << " for "
      << long_responses.tokens << " tokens ("
      << long_responses.counts.bytes_to_device + long_responses.counts.bytes_to_host << " bytes)");
  CHECK(long_responses.tokens > short_responses.tokens);
  CHECK(long_responses.counts.to_device == short_responses.counts.to_device);
  CHECK(long_responses.counts.to_host == short_responses.counts.to_host);
  // By phase: generation 3 up / 1 down; scoring 2 / 1 per chunk of rows (the index data once for
  // the three models, one table back); the hybrid reward 2 / 1 per forward pass (2 discriminator,
  // 2 sequence-model passes); the update 3 / 3 per minibatch (index data, key mask, constants;
  // the packed scalars, one Σ g² per model).
  CHECK(short_responses.counts.to_device == 3 + 2 * 2 + 4 * 2 + 2 * 3);
  CHECK(short_responses.counts.to_host == 1 + 2 * 1 + 4 * 1 + 2 * 3);

  // One generated batch: the prompts, the state and the results cross once; the finished flags
  // every 8 steps.
  auto generated = [&](int64_t rows, int64_t max_new_tokens) {
    const Model<SealedCpu> policy(testing::tiny_ppo_config(), {}, 5);
    GenerationOptions options;
    options.max_new_tokens = max_new_tokens;
    options.eos_token = -1;  // every row runs to the limit
    Rng rng(1);
    const TokenSequences prompts = testing::tiny_prompts(rows);
    reset_transfer_counts<SealedCpu>();
    generate(policy, prompts, options, rng);
    return transfer_counts<SealedCpu>();
  };
  const TransferCounts small = generated(2, 4), wide = generated(16, 4), long_run = generated(2, 8),
                       longer = generated(2, 24);
  MESSAGE("SealedCpu transfers per generated batch: "
          << small.to_device << " uploads + " << small.to_host << " downloads (2 rows × 4 tokens), "
          << wide.total() << " in all for 16 rows × 4 tokens, " << long_run.total()
          << " for 2 × 8, " << longer.total() << " for 2 × 24");
  CHECK(wide.total() == small.total());
  CHECK(long_run.total() == small.total());
  CHECK(longer.total() <= small.total() + 24 / 8);
}

TEST_CASE("SealedCpu transfers per discriminator and Bradley–Terry training step") {
  // One step is the difference between runs of 2 and 1 steps (the evaluations are the same).
  const TransferCounts discriminator = [] {
    const TransferCounts two = train_tiny_discriminator<SealedCpu>(2).transfers,
                         one = train_tiny_discriminator<SealedCpu>(1).transfers;
    return TransferCounts{two.to_device - one.to_device, two.to_host - one.to_host,
                          two.bytes_to_device - one.bytes_to_device,
                          two.bytes_to_host - one.bytes_to_host};
  }();
  const TransferCounts bradley_terry = [] {
    const TransferCounts two = train_tiny_reward_model<SealedCpu>(2).transfers,
                         one = train_tiny_reward_model<SealedCpu>(1).transfers;
    return TransferCounts{two.to_device - one.to_device, two.to_host - one.to_host,
                          two.bytes_to_device - one.bytes_to_device,
                          two.bytes_to_host - one.bytes_to_host};
  }();
  MESSAGE("SealedCpu transfers per training step: discriminator "
          << discriminator.to_device << " uploads + " << discriminator.to_host
          << " downloads, Bradley–Terry " << bradley_terry.to_device << " + "
          << bradley_terry.to_host);
  // Up: ids with positions, the key mask (and the discriminator's targets with weights; the BT
  // model's gather rows ride with the ids). Down: the loss and Σ g² (and the BT batch's scores,
  // for its accuracy).
  CHECK(discriminator.to_device == 3);
  CHECK(discriminator.to_host == 2);
  CHECK(bradley_terry.to_device == 2);
  CHECK(bradley_terry.to_host == 3);
}
