// Tests for the device seam in the RLHF stack: on Cpu and on SealedCpu (host memory, CPU kernels,
// no element access from generic code) a discriminator training run, a Bradley–Terry reward-model
// run, PPO iterations with every reward kind, and checkpoint resumes give bitwise the same numbers;
// the host↔device transfers per PPO iteration, per generated batch and per discriminator and
// Bradley–Terry training step are a handful and do not grow with the number of tokens.
#include "support/testing.hpp"

#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/ppo.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/train/lm_trainer.hpp>

#include <optional>
#include <string>
#include <vector>

#include "test_ppo_support.hpp"

using namespace tlcr;

namespace {

template <class D>
using Model = Transformer<float, Gpt2Arch, D>;

template <class M>
std::vector<float> weights(const M& model) {
  return model.params().values().to_vector();
}

constexpr int32_t kVocab = 20, kEos = 19;

std::vector<int32_t> random_tokens(Rng& rng, int64_t min_length, int64_t max_length,
                                   int32_t below) {
  std::vector<int32_t> tokens(testing::random_size(rng, min_length, max_length));
  for (int32_t& t : tokens) t = int32_t(rng.uniform_int(below));
  return tokens;
}

// Triples with labels of the right signs; no token ends a response (ResponseEnds{}).
std::vector<DiscriminatorExample> random_triples(Rng& rng, int64_t n) {
  std::vector<DiscriminatorExample> examples;
  for (int64_t i = 0; i < n; ++i) {
    DiscriminatorExample e;
    e.prompt = random_tokens(rng, 1, 4, kVocab);
    e.rejected = random_tokens(rng, 1, 6, kVocab);
    e.revised = random_tokens(rng, 1, 6, kVocab);
    for (std::size_t t = 0; t < e.rejected.size(); ++t)
      e.rejected_labels.push_back(rng.uniform() < 0.4 ? -1 : 0);
    for (std::size_t t = 0; t < e.revised.size(); ++t)
      e.revised_labels.push_back(rng.uniform() < 0.4 ? 1 : 0);
    e.chosen = e.revised;
    examples.push_back(std::move(e));
  }
  return examples;
}

// Pairs whose responses end with EOS.
std::vector<TokenizedPair> random_pairs(Rng& rng, int64_t n) {
  std::vector<TokenizedPair> pairs;
  for (int64_t i = 0; i < n; ++i) {
    TokenizedPair p{random_tokens(rng, 1, 3, kEos), random_tokens(rng, 1, 5, kEos),
                    random_tokens(rng, 1, 5, kEos)};
    p.chosen.push_back(kEos), p.rejected.push_back(kEos);
    pairs.push_back(std::move(p));
  }
  return pairs;
}

struct DiscriminatorRun {
  TransferCounts transfers;  // of the training call (SealedCpu)
  DiscriminatorReport report;
  std::vector<float> weights;
  TokenRewards probabilities;
};

template <class D>
DiscriminatorRun train_tiny_discriminator(int64_t steps = 4) {
  Rng rng(3);
  const auto train = random_triples(rng, 12), held_out = random_triples(rng, 5);
  Model<D> model(TransformerConfig::gpt2(kVocab, 32, 1, 2, 16), {.lm = false, .token_classes = 2},
                 5);
  DiscriminatorTrainOptions options;
  options.max_steps = steps;
  options.batch_size = 4;
  options.eval_batch_size = 4;
  options.lr = 3e-3;
  options.warmup_steps = 1;
  options.progress = false;
  DiscriminatorRun run;
  reset_transfer_counts<SealedCpu>();
  run.report = train_discriminator(model, train, held_out, ResponseEnds{}, options);
  run.transfers = transfer_counts<SealedCpu>();
  run.weights = weights(model);
  TokenSequences prompts, responses;
  for (const auto& e : held_out) prompts.push_back(e.prompt), responses.push_back(e.rejected);
  run.probabilities = discriminator_probabilities(model, prompts, responses, ResponseEnds{}, 2);
  return run;
}

struct RewardModelRun {
  TransferCounts transfers;  // of the training call (SealedCpu)
  RewardModelReport report;
  std::vector<float> weights;
  std::vector<double> scores;
};

template <class D>
RewardModelRun train_tiny_reward_model(int64_t steps = 4) {
  Rng rng(4);
  const auto train = random_pairs(rng, 12), held_out = random_pairs(rng, 5);
  const ResponseEnds ends{.eos = kEos};
  Model<D> model(TransformerConfig::gpt2(kVocab, 32, 1, 2, 16),
                 {.lm = false, .sequence_score = true}, 6);
  RewardModelTrainOptions options;
  options.max_steps = steps;
  options.batch_size = 4;
  options.lr = 3e-3;
  options.warmup_steps = 1;
  options.progress = false;
  RewardModelRun run;
  reset_transfer_counts<SealedCpu>();
  run.report = train_reward_model(model, train, held_out, ends, options);
  run.transfers = transfer_counts<SealedCpu>();
  run.weights = weights(model);
  TokenSequences prompts, responses;
  for (const auto& p : held_out) prompts.push_back(p.prompt), responses.push_back(p.chosen);
  run.scores = sequence_model_scores(model, prompts, responses, ends, 2);
  return run;
}

// Reward-model directories over the tiny PPO vocabulary: a discriminator and a BT model.
struct RewardDirs {
  testing::ScratchDir scratch{"rlhf_devices"};
  std::filesystem::path discriminator = scratch.path / "discriminator";
  std::filesystem::path sequence = scratch.path / "sequence";
  std::filesystem::path dpo = scratch.path / "dpo", dpo_reference = scratch.path / "reference";
  RewardDirs() {
    // A DPO policy (its implicit token reward: the "dpo" kind) and the reference it records.
    save_model(dpo_reference, testing::tiny_reference());
    save_model(dpo, testing::tiny_reference(11));
    write_reward_metadata(dpo, {{"kind", "dpo"}, {"beta", 0.5}, {"reference", dpo_reference}});
    save_discriminator(
        discriminator,
        Gpt2<float>(testing::tiny_ppo_config(), {.lm = false, .token_classes = 2}, 7),
        LabelMode::Soft);
    save_reward_model(
        sequence, Gpt2<float>(testing::tiny_ppo_config(), {.lm = false, .sequence_score = true}, 8),
        std::nullopt);
  }
};

RewardSpec spec_for(const std::string& kind, const RewardDirs& dirs) {
  RewardSpec spec;
  spec.kind = kind;
  spec.reward_model = kind == "sequence" ? dirs.sequence
                      : kind == "dpo"    ? dirs.dpo
                                         : dirs.discriminator;
  spec.sequence_model = dirs.sequence;
  spec.seed = 9;
  spec.batch_size = 3;  // two reward forward passes per batch of four
  return spec;
}

PpoConfig device_ppo_settings() {
  PpoConfig c = testing::tiny_ppo_settings();
  c.iterations = 2;
  c.batch_size = 4;
  c.minibatch_size = 2;
  c.epochs = 1;
  c.max_new_tokens = 5;
  c.entropy_coef = 0.01;
  c.sample_every = 0;
  return c;
}

struct PpoRun {
  std::vector<nlohmann::json> metrics;
  std::vector<float> policy, critic;
};

// `iterations` PPO iterations on device D with the reward `spec` names (with a separate critic
// when `separate_critic`).
template <class D>
PpoRun run_ppo(const RewardSpec& spec, bool separate_critic, const PpoConfig& config) {
  const ResponseEnds ends{.eos = testing::kTinyEos};
  const AnyTokenReward reward = make_token_reward<D>(spec, ends);
  const HeadConfig policy_heads{.lm = true, .value = !separate_critic};
  Model<D> policy(testing::tiny_ppo_config(), policy_heads, 5);
  const Model<D> reference(testing::tiny_ppo_config(), {}, 5);
  Model<D> critic(testing::tiny_ppo_config(), {.lm = false, .value = true}, 6);
  PpoTrainer<float, Gpt2Arch, AnyTokenReward, D> trainer(
      PpoModels<float, Gpt2Arch, D>{policy, reference, separate_critic ? &critic : nullptr}, reward,
      testing::tiny_prompts(8), config);
  PpoRun run;
  for (int64_t i = 0; i < config.iterations; ++i)
    run.metrics.push_back(testing::without_times(trainer.iterate().metrics));
  run.policy = weights(policy);
  if (separate_critic) run.critic = weights(critic);
  return run;
}

}  // namespace

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
    const TransformerConfig config = TransformerConfig::gpt2(kVocab, 16, 1, 2, 16);
    Rng rng(12);
    std::vector<int32_t> stream(400);
    for (int32_t& t : stream) t = int32_t(rng.uniform_int(kVocab));
    LmTrainOptions options;
    options.steps = 5;
    options.lr = 3e-3;
    options.warmup_steps = 1;
    options.eval_every = 0;
    options.progress = false;

    Model<Cpu> whole(config, {}, 3);
    LmBatcher whole_batches(stream, 3, 8, 1);
    const LmTrainReport uninterrupted = train_language_model(whole, whole_batches, {}, options);

    LmTrainOptions first = options, second = options;
    first.checkpoint_dir = scratch.path / "lm";
    first.stop_after = 2;
    Model<SealedCpu> interrupted(config, {}, 3);
    LmBatcher first_batches(stream, 3, 8, 1);
    train_language_model(interrupted, first_batches, {}, first);
    second.resume_from = first.checkpoint_dir;
    Model<SealedCpu> resumed(config, {}, 99);  // every weight comes from the checkpoint
    LmBatcher second_batches(stream, 3, 8, 1);
    const LmTrainReport finished = train_language_model(resumed, second_batches, {}, second);
    CHECK(finished.steps == 5);
    CHECK(finished.last_loss == uninterrupted.last_loss);
    CHECK(weights(resumed) == weights(whole));
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
