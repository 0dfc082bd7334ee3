// tests/rlhf/device_runs.hpp — small training runs of the RLHF stack on any device, for the tests
// that compare devices (tests/rlhf/test_devices.cpp: Cpu and SealedCpu, bitwise; tests/cuda/
// test_pipeline.cu: Cpu and Cuda, within tolerances): a discriminator run, a Bradley–Terry run,
// reward-model directories for PPO and PPO iterations with a named reward kind. Each run reports
// the transfers of device D it made (none on Cpu).
#pragma once

#include "support/testing.hpp"

#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/ppo.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/train/lm_trainer.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "test_ppo_support.hpp"

namespace tlcr::testing::device_runs {

template <class D>
using Model = Transformer<float, Gpt2Arch, D>;

template <class M>
std::vector<float> weights(const M& model) {
  return model.params().values().to_vector();
}

inline constexpr int32_t kVocab = 20, kEos = 19;

inline std::vector<int32_t> random_tokens(Rng& rng, int64_t min_length, int64_t max_length,
                                          int32_t below) {
  std::vector<int32_t> tokens(random_size(rng, min_length, max_length));
  for (int32_t& t : tokens) t = int32_t(rng.uniform_int(below));
  return tokens;
}

// Triples with labels of the right signs; no token ends a response (ResponseEnds{}).
inline std::vector<DiscriminatorExample> random_triples(Rng& rng, int64_t n) {
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
inline std::vector<TokenizedPair> random_pairs(Rng& rng, int64_t n) {
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
  TransferCounts transfers;  // of the training call, on D
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
  reset_transfer_counts<D>();
  run.report = train_discriminator(model, train, held_out, ResponseEnds{}, options);
  run.transfers = transfer_counts<D>();
  run.weights = weights(model);
  TokenSequences prompts, responses;
  for (const auto& e : held_out) prompts.push_back(e.prompt), responses.push_back(e.rejected);
  run.probabilities = discriminator_probabilities(model, prompts, responses, ResponseEnds{}, 2);
  return run;
}

struct RewardModelRun {
  TransferCounts transfers;  // of the training call, on D
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
  reset_transfer_counts<D>();
  run.report = train_reward_model(model, train, held_out, ends, options);
  run.transfers = transfer_counts<D>();
  run.weights = weights(model);
  TokenSequences prompts, responses;
  for (const auto& p : held_out) prompts.push_back(p.prompt), responses.push_back(p.chosen);
  run.scores = sequence_model_scores(model, prompts, responses, ends, 2);
  return run;
}

// Reward-model directories over the tiny PPO vocabulary: a discriminator, a BT model, and a DPO
// policy (its implicit token reward: the "dpo" kind) with the reference it records.
struct RewardDirs {
  ScratchDir scratch{"rlhf_device_runs"};
  std::filesystem::path discriminator = scratch.path / "discriminator";
  std::filesystem::path sequence = scratch.path / "sequence";
  std::filesystem::path dpo = scratch.path / "dpo", dpo_reference = scratch.path / "reference";
  RewardDirs() {
    save_model(dpo_reference, tiny_reference());
    save_model(dpo, tiny_reference(11));
    write_reward_metadata(dpo, {{"kind", "dpo"}, {"beta", 0.5}, {"reference", dpo_reference}});
    save_discriminator(discriminator,
                       Gpt2<float>(tiny_ppo_config(), {.lm = false, .token_classes = 2}, 7),
                       LabelMode::Soft);
    save_reward_model(sequence,
                      Gpt2<float>(tiny_ppo_config(), {.lm = false, .sequence_score = true}, 8),
                      std::nullopt);
  }
};

inline RewardSpec spec_for(const std::string& kind, const RewardDirs& dirs) {
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

inline PpoConfig device_ppo_settings() {
  PpoConfig c = tiny_ppo_settings();
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
  std::vector<nlohmann::json> metrics;    // of each iteration, without the timings
  std::vector<TokenSequences> responses;  // of each iteration
  std::vector<float> policy, critic;
};

// `config.iterations` PPO iterations on device D with the reward `spec` names (with a separate
// critic when `separate_critic`).
template <class D>
PpoRun run_ppo(const RewardSpec& spec, bool separate_critic, const PpoConfig& config) {
  const ResponseEnds ends{.eos = kTinyEos};
  const AnyTokenReward reward = make_token_reward<D>(spec, ends);
  const HeadConfig policy_heads{.lm = true, .value = !separate_critic};
  Model<D> policy(tiny_ppo_config(), policy_heads, 5);
  const Model<D> reference(tiny_ppo_config(), {}, 5);
  Model<D> critic(tiny_ppo_config(), {.lm = false, .value = true}, 6);
  PpoTrainer<float, Gpt2Arch, AnyTokenReward, D> trainer(
      PpoModels<float, Gpt2Arch, D>{policy, reference, separate_critic ? &critic : nullptr}, reward,
      tiny_prompts(8), config);
  PpoRun run;
  for (int64_t i = 0; i < config.iterations; ++i) {
    run.metrics.push_back(without_times(trainer.iterate().metrics));
    run.responses.push_back(trainer.last_rollout().responses);
  }
  run.policy = weights(policy);
  if (separate_critic) run.critic = weights(critic);
  return run;
}

struct LmResume {
  LmTrainReport uninterrupted, finished;
  std::vector<float> whole, resumed;  // the final weights of each
};

// A 5-step LM run on device Whole without a break, and the same run on device Interrupted
// stopped after step 2 (checkpoint in `dir`) and resumed by a model whose every weight must come
// from the checkpoint.
template <class Whole, class Interrupted>
LmResume lm_resume(const std::filesystem::path& dir) {
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
  LmResume run;
  Model<Whole> whole(config, {}, 3);
  LmBatcher whole_batches(stream, 3, 8, 1);
  run.uninterrupted = train_language_model(whole, whole_batches, {}, options);
  run.whole = weights(whole);

  LmTrainOptions first = options, second = options;
  first.checkpoint_dir = dir;
  first.stop_after = 2;
  Model<Interrupted> interrupted(config, {}, 3);
  LmBatcher first_batches(stream, 3, 8, 1);
  train_language_model(interrupted, first_batches, {}, first);
  second.resume_from = dir;
  Model<Interrupted> resumed(config, {}, 99);
  LmBatcher second_batches(stream, 3, 8, 1);
  run.finished = train_language_model(resumed, second_batches, {}, second);
  run.resumed = weights(resumed);
  return run;
}

}  // namespace tlcr::testing::device_runs
