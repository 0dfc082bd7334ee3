// Run under mpiexec with 2 or 3 ranks (ctest mpi/ranks_2, mpi/ranks_3): data-parallel LM training,
// the example loop and PPO give bitwise the weights of one process for any number of ranks, even
// and uneven shards of the micro-batches, with dropout; checkpoints move between rank counts; only
// rank 0 writes.
#define DOCTEST_CONFIG_IMPLEMENT
#include "rlhf/test_ppo_support.hpp"

#include <tlcr/dist/mpi.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/train/lm_trainer.hpp>

#include <fstream>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {
std::vector<int32_t> counting_stream(int64_t length, int64_t period) {
  std::vector<int32_t> stream(length);
  for (int64_t i = 0; i < length; ++i) stream[i] = static_cast<int32_t>(i * 7 % period);
  return stream;
}

// Trains a fresh tiny model (initialised from `init`) with `options` on the ranks of `comm`.
template <class Comm>
Tensor<float> train(const Comm& comm, const LmTrainOptions& options, uint64_t init = 3) {
  Gpt2<float> model(TransformerConfig::gpt2(16, 16, 1, 2, 16), {}, init);
  LmBatcher batches(counting_stream(3000, 13), 3, 10, 4);
  train_language_model(model, batches, {}, options, comm);
  return model.params().values().clone();
}

// A scratch directory with the same path on every rank (named after rank 0's process id).
fs::path shared_dir(const MpiCommunicator& world, const std::string& name) {
  const std::vector<double> mine{double(::getpid())};
  std::vector<double> all(world.size());
  world.all_gather(std::span<const double>(mine), std::span<double>(all));
  return fs::temp_directory_path() /
         ("tlcr_mpi_" + name + "_" + std::to_string(static_cast<int64_t>(all[0])));
}

LmTrainOptions base_options(int64_t grad_accum) {
  return {.steps = 6,
          .grad_accum = grad_accum,
          .lr = 3e-3,
          .warmup_steps = 2,
          .dropout = {.embedding = 0.1, .residual = 0.1, .attention = 0.1},
          .dropout_seed = 5,
          .log_every = 1,
          .eval_every = 0,
          .progress = false};
}
}  // namespace

TEST_CASE("N ranks train bitwise the weights of one process, with even and uneven shards") {
  const MpiCommunicator world;
  REQUIRE(world.size() >= 2);
  // 1: rank 0 alone does the work; 2, 6: even shards on 2 (and on 3: 6); 5: uneven on 2 and 3.
  for (int64_t grad_accum : {1, 2, 5, 6}) {
    CAPTURE(grad_accum);
    const LmTrainOptions options = base_options(grad_accum);
    const Tensor<float> alone = train(SingleProcess{}, options);
    const Tensor<float> together = train(world, options);
    CHECK(testing::max_abs_diff(alone, together) == 0.0);
    if (grad_accum > 1)  // (the check is not vacuous: more micro-batches, other weights)
      CHECK(testing::max_abs_diff(alone, train(SingleProcess{}, base_options(1))) > 0.0);
  }
}

TEST_CASE("a checkpoint of N ranks resumes on one process and one process's on N ranks") {
  const MpiCommunicator world;
  const fs::path dir = shared_dir(world, "resume");
  LmTrainOptions options = base_options(3);
  const Tensor<float> straight = train(SingleProcess{}, options);

  // N ranks → 1: rank 0 writes the checkpoint and the metrics, once per step.
  LmTrainOptions first = options;
  first.stop_after = 2, first.checkpoint_dir = dir / "from_ranks",
  first.metrics_path = dir / "metrics.jsonl";
  train(world, first);
  world.barrier();  // the checkpoint is on disk before anyone reads it
  LmTrainOptions rest = options;
  rest.resume_from = dir / "from_ranks";
  CHECK(testing::max_abs_diff(train(SingleProcess{}, rest, 999), straight) == 0.0);
  if (world.rank() == 0) {
    std::ifstream in(dir / "metrics.jsonl");
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    CHECK(lines == 2);
  }

  // 1 → N ranks.
  world.barrier();
  if (world.rank() == 0) {
    LmTrainOptions alone = options;
    alone.stop_after = 4, alone.checkpoint_dir = dir / "from_one";
    train(SingleProcess{}, alone);
  }
  world.barrier();
  rest.resume_from = dir / "from_one";
  CHECK(testing::max_abs_diff(train(world, rest, 999), straight) == 0.0);
  world.barrier();
  if (world.rank() == 0) fs::remove_all(dir);
}

TEST_CASE("the example loop (Bradley–Terry reward model) on N ranks: one process's weights") {
  const MpiCommunicator world;
  Rng rng(31);
  auto ids = [&](int64_t n) {
    std::vector<int32_t> out(n);
    for (int32_t& id : out) id = int32_t(2 + rng.uniform_int(12));  // never EOS (15) or PAD (14)
    return out;
  };
  std::vector<TokenizedPair> pairs;
  for (int i = 0; i < 14; ++i)  // the chosen responses end in token 1, the rejected in 0
    pairs.push_back({ids(3), ids(2 + i % 3), ids(3 + i % 2)}), pairs.back().chosen.push_back(1),
        pairs.back().rejected.push_back(0);
  const ResponseEnds ends{.eos = 15, .pad = 14};
  for (int64_t micro_batches : {1, 3, 5}) {
    CAPTURE(micro_batches);
    const RewardModelTrainOptions options{.batch_size = 5,
                                          .max_steps = 4,
                                          .micro_batches = micro_batches,
                                          .lr = 3e-3,
                                          .warmup_steps = 1,
                                          .normalize = false,
                                          .progress = false};
    auto train = [&](const auto& comm) {
      Gpt2<float> model(TransformerConfig::gpt2(16, 16, 1, 2, 16),
                        {.lm = false, .sequence_score = true}, 7);
      const std::vector<TokenizedPair> held_out(pairs.begin(), pairs.begin() + 2);
      train_reward_model(model, pairs, held_out, ends, options, comm);
      return model.params().values().clone();
    };
    CHECK(testing::max_abs_diff(train(SingleProcess{}), train(world)) == 0.0);
  }
}

namespace {
struct PpoRun {
  Tensor<float> policy, critic;
  std::vector<nlohmann::json> metrics;  // without the time keys
};

// Tiny PPO (testing::tiny_ppo_settings, 4 iterations) on the ranks of `comm`.
template <class Comm>
PpoRun run_ppo(const Comm& comm, int64_t micro_batches, bool separate_critic,
               const PpoRunOptions& run = {.progress = false, .print_samples = false}) {
  Gpt2<float> policy(testing::tiny_ppo_config(), {.lm = true, .value = !separate_critic}, 5);
  const Gpt2<float> reference = testing::tiny_reference();
  Gpt2<float> critic = testing::tiny_critic();
  PpoConfig config = testing::tiny_ppo_settings();
  config.micro_batches = micro_batches;
  const testing::TokenFiveReward reward;
  PpoTrainer<float, Gpt2Arch, testing::TokenFiveReward, Cpu, Comm> trainer(
      {policy, reference, separate_critic ? &critic : nullptr}, reward, testing::tiny_prompts(20),
      config, {}, comm);
  PpoRun out;
  if (!run.resume_from.empty()) trainer.resume(run.resume_from);
  while (trainer.iteration() < config.iterations) {
    out.metrics.push_back(testing::without_times(trainer.iterate().metrics));
    if (trainer.iteration() == run.stop_after) break;
  }
  if (!run.checkpoint_dir.empty() && comm.rank() == 0) trainer.save(run.checkpoint_dir);
  out.policy = policy.params().values().clone();
  out.critic = critic.params().values().clone();
  return out;
}
}  // namespace

TEST_CASE(
    "PPO on N ranks: one process's run, with a value head or a critic, even or uneven parts") {
  const MpiCommunicator world;
  for (bool separate_critic : {false, true}) {
    // 1: rank 0 alone; 2, 4: even on 2 ranks; 3: uneven on 2, even on 3.
    for (int64_t parts : {1, 2, 3, 4}) {
      CAPTURE(separate_critic);
      CAPTURE(parts);
      const PpoRun alone = run_ppo(SingleProcess{}, parts, separate_critic);
      const PpoRun together = run_ppo(world, parts, separate_critic);
      CHECK(testing::max_abs_diff(alone.policy, together.policy) == 0.0);
      CHECK(testing::max_abs_diff(alone.critic, together.critic) == 0.0);
      CHECK(alone.metrics == together.metrics);
    }
  }
}

TEST_CASE("a PPO checkpoint of N ranks resumes on one process and one process's on N ranks") {
  const MpiCommunicator world;
  const fs::path dir = shared_dir(world, "ppo_resume");
  const PpoRun straight = run_ppo(SingleProcess{}, 3, true);
  const PpoRunOptions quiet{.progress = false, .print_samples = false};

  PpoRunOptions first = quiet;  // N ranks → 1
  first.checkpoint_dir = dir / "from_ranks", first.stop_after = 2;
  run_ppo(world, 3, true, first);
  world.barrier();
  PpoRunOptions rest = quiet;
  rest.resume_from = dir / "from_ranks";
  const PpoRun resumed_alone = run_ppo(SingleProcess{}, 3, true, rest);
  CHECK(testing::max_abs_diff(resumed_alone.policy, straight.policy) == 0.0);
  CHECK(testing::max_abs_diff(resumed_alone.critic, straight.critic) == 0.0);

  world.barrier();  // 1 → N ranks
  if (world.rank() == 0) {
    PpoRunOptions alone = quiet;
    alone.checkpoint_dir = dir / "from_one", alone.stop_after = 1;
    run_ppo(SingleProcess{}, 3, true, alone);
  }
  world.barrier();
  rest.resume_from = dir / "from_one";
  const PpoRun resumed_together = run_ppo(world, 3, true, rest);
  CHECK(testing::max_abs_diff(resumed_together.policy, straight.policy) == 0.0);
  CHECK(resumed_together.metrics.back() == straight.metrics.back());
  world.barrier();
  if (world.rank() == 0) fs::remove_all(dir);
}

TEST_CASE("the gathered buffers arrive in rank order") {
  const MpiCommunicator world;
  const std::vector<float> mine{float(world.rank()), float(10 * world.rank())};
  std::vector<float> all(2 * world.size());
  world.all_gather(std::span<const float>(mine), std::span<float>(all));
  for (int r = 0; r < world.size(); ++r) {
    CHECK(all[2 * r] == float(r));
    CHECK(all[2 * r + 1] == float(10 * r));
  }
  std::vector<float> too_small(mine.size());
  CHECK_THROWS_WITH_AS(world.all_gather(std::span<const float>(mine), std::span<float>(too_small)),
                       doctest::Contains("all_gather: expected a receive buffer of"), Error);
}

int main(int argc, char** argv) {
  MpiSession session(&argc, &argv);
  doctest::Context context(argc, argv);
  return context.run();
}
