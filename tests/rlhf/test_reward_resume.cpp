// Tests for train/example_loop.hpp, the loop both reward trainers run (rlhf/discriminator.hpp,
// rlhf/sequence_reward.hpp): the shuffled order's batches and saved state; for each trainer, k
// steps + checkpoint + resume in a freshly initialised model ends bit for bit where the straight
// run ends, with the metrics file appended to the same bytes; a resume from a missing or corrupt
// checkpoint, or with other settings, is refused with an error naming what was expected and
// found; a NaN loss stops the run naming the last good checkpoint, which survives.
#include "support/testing.hpp"

#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/train/example_loop.hpp>

#include <algorithm>
#include <cmath>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {
// Token ids 0…21 are content; 22 is EOS and 23 padding.
constexpr int64_t kResumeVocab = 24;
const ResponseEnds kResumeEnds{.eos = 22, .pad = 23};

std::vector<int32_t> resume_random_tokens(Rng& rng, int64_t low, int64_t high) {
  std::vector<int32_t> tokens(static_cast<std::size_t>(testing::random_size(rng, low, high)));
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.uniform_int(22));
  return tokens;
}

std::vector<DiscriminatorExample> resume_random_triples(Rng& rng, int64_t n) {
  std::vector<DiscriminatorExample> triples(static_cast<std::size_t>(n));
  for (DiscriminatorExample& e : triples) {
    e.prompt = resume_random_tokens(rng, 1, 4);
    e.rejected = resume_random_tokens(rng, 1, 6);
    e.revised = resume_random_tokens(rng, 1, 6);
    for (std::size_t i = 0; i < e.rejected.size(); ++i)
      e.rejected_labels.push_back(rng.uniform() < 0.4 ? -1 : 0);
    for (std::size_t i = 0; i < e.revised.size(); ++i)
      e.revised_labels.push_back(rng.uniform() < 0.4 ? 1 : 0);
    e.chosen = e.revised;
  }
  return triples;
}

// Responses end with EOS, as tokenize_preferences writes them.
std::vector<TokenizedPair> resume_random_pairs(Rng& rng, int64_t n) {
  std::vector<TokenizedPair> pairs(static_cast<std::size_t>(n));
  for (TokenizedPair& p : pairs) {
    p.prompt = resume_random_tokens(rng, 1, 4);
    p.chosen = resume_random_tokens(rng, 1, 6);
    p.rejected = resume_random_tokens(rng, 1, 6);
    p.chosen.push_back(kResumeEnds.eos);
    p.rejected.push_back(kResumeEnds.eos);
  }
  return pairs;
}

Gpt2<float> resume_tiny_discriminator(uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(kResumeVocab, 16, 1, 2, 16),
                     {.lm = false, .token_classes = 2}, seed);
}
Gpt2<float> resume_tiny_reward_model(uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(kResumeVocab, 16, 1, 2, 16),
                     {.lm = false, .sequence_score = true}, seed);
}

// Runs `train(model, options)` straight through from `make_model(5)`; then stopped after 5 steps
// with checkpoints, and resumed in `make_model(999)`: the two must end bit for bit alike, and the
// metrics file written in two parts must equal the one written at once.
template <class MakeModel, class Train, class Options>
void check_exact_resume(const std::string& name, MakeModel make_model, Train train,
                        const Options& base) {
  const testing::ScratchDir dir(name);
  auto straight = make_model(5);
  Options whole = base;
  whole.metrics_path = dir.path / "straight.jsonl";
  const auto straight_report = train(straight, whole);

  auto interrupted = make_model(5);
  Options head = base;
  head.stop_after = 5;
  head.checkpoint_every = 2;
  head.checkpoint_dir = dir.path / "ckpt";
  head.metrics_path = dir.path / "resumed.jsonl";
  const auto head_report = train(interrupted, head);
  CHECK(head_report.steps == 5);
  CHECK(fs::exists(dir.path / "ckpt" / "trainer_state.json"));
  CHECK_FALSE(fs::exists(dir.path / "ckpt.tmp"));
  CHECK(read_json_file(dir.path / "ckpt" / "trainer_state.json").at("step") == 5);
  CHECK(testing::max_abs_diff(interrupted.params().values(), straight.params().values()) > 0.0);

  // Everything comes from the checkpoint, not from the fresh model's initialisation.
  auto resumed = make_model(999);
  Options tail = base;
  tail.resume_from = dir.path / "ckpt";
  tail.checkpoint_dir = dir.path / "ckpt_after";
  tail.metrics_path = dir.path / "resumed.jsonl";
  const auto tail_report = train(resumed, tail);
  CHECK(testing::max_abs_diff(resumed.params().values(), straight.params().values()) == 0.0);
  CHECK(tail_report.steps == straight_report.steps);
  CHECK(tail_report.last_loss == straight_report.last_loss);
  CHECK(tail_report.before.to_json() == straight_report.before.to_json());
  CHECK(tail_report.after.to_json() == straight_report.after.to_json());
  CHECK(read_json_file(dir.path / "ckpt_after" / "trainer_state.json").at("step") ==
        straight_report.steps);
  CHECK(testing::read_file(dir.path / "resumed.jsonl") ==
        testing::read_file(dir.path / "straight.jsonl"));

  // Same seed, same run.
  auto again = make_model(5);
  train(again, base);
  CHECK(testing::max_abs_diff(again.params().values(), straight.params().values()) == 0.0);
}

DiscriminatorTrainOptions resume_discriminator_options() {
  DiscriminatorTrainOptions o;
  o.epochs = 3;
  o.batch_size = 4;  // 13 triples: batches of 4, 4, 4, 1 per epoch
  o.lr = 3e-3;
  o.min_lr = 3e-4;
  o.warmup_steps = 3;
  o.log_every = 1;
  o.eval_every = 4;
  o.eval_batch_size = 4;
  o.seed = 7;
  o.progress = false;
  return o;
}

RewardModelTrainOptions resume_reward_model_options() {
  RewardModelTrainOptions o;
  o.epochs = 3;
  o.batch_size = 3;  // 10 pairs: batches of 3, 3, 3, 1 per epoch
  o.lr = 3e-3;
  o.min_lr = 3e-4;
  o.warmup_steps = 3;
  o.log_every = 2;
  o.eval_every = 3;
  o.eval_batch_size = 4;
  o.seed = 7;
  o.progress = false;
  return o;
}
}  // namespace

TEST_CASE("ShuffledOrder: batches stop at an epoch's end, each epoch a permutation, exact state") {
  ShuffledOrder order(10, Rng(3, 11), "examples", "examples");
  std::vector<std::size_t> sizes;
  std::vector<int64_t> epoch;
  for (int step = 0; step < 3; ++step) {
    const std::vector<int64_t> batch = order.next_in_pass(4);
    sizes.push_back(batch.size());
    epoch.insert(epoch.end(), batch.begin(), batch.end());
  }
  CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
  std::sort(epoch.begin(), epoch.end());
  CHECK(epoch == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  // A copy restored from the saved state continues exactly as the original does.
  const BatcherState saved = batcher_state_from_json(to_json(order.state()));
  ShuffledOrder restored(10, Rng(12345), "examples", "examples");
  restored.set_state(saved);
  for (int step = 0; step < 7; ++step) CHECK(restored.next_in_pass(4) == order.next_in_pass(4));

  BatcherState bad = saved;
  bad.order[0] = bad.order[1];
  CHECK_THROWS_WITH_AS(restored.set_state(bad), doctest::Contains("not a permutation"), Error);
  bad = saved;
  bad.order.pop_back();
  CHECK_THROWS_WITH_AS(restored.set_state(bad),
                       doctest::Contains("the saved order has 9 examples, this run has 10"), Error);
}

TEST_CASE("discriminator: k steps, checkpoint, resume equals the straight run, bitwise") {
  const ThreadCountGuard one_thread(1);
  Rng rng(71);
  const auto train = resume_random_triples(rng, 13);
  const auto held_out = resume_random_triples(rng, 5);
  check_exact_resume(
      "resume_discriminator", resume_tiny_discriminator,
      [&](Gpt2<float>& model, const DiscriminatorTrainOptions& options) {
        return train_discriminator(model, train, held_out, kResumeEnds, options);
      },
      resume_discriminator_options());
}

TEST_CASE("reward model: k steps, checkpoint, resume equals the straight run, bitwise") {
  const ThreadCountGuard one_thread(1);
  Rng rng(72);
  const auto train = resume_random_pairs(rng, 10);
  const auto held_out = resume_random_pairs(rng, 4);
  check_exact_resume(
      "resume_reward_model", resume_tiny_reward_model,
      [&](Gpt2<float>& model, const RewardModelTrainOptions& options) {
        return train_reward_model(model, train, held_out, kResumeEnds, options);
      },
      resume_reward_model_options());
}

TEST_CASE("a resume from a missing or corrupt checkpoint, or with other settings, is refused") {
  const ThreadCountGuard one_thread(1);
  const testing::ScratchDir dir("resume_errors");
  Rng rng(73);
  const auto triples = resume_random_triples(rng, 6);
  const auto pairs = resume_random_pairs(rng, 6);
  auto train_d = [&](const DiscriminatorTrainOptions& options) {
    Gpt2<float> model = resume_tiny_discriminator(5);
    return train_discriminator(model, triples, {}, kResumeEnds, options);
  };
  auto train_rm = [&](const RewardModelTrainOptions& options) {
    Gpt2<float> model = resume_tiny_reward_model(5);
    return train_reward_model(model, pairs, {}, kResumeEnds, options);
  };
  DiscriminatorTrainOptions d = resume_discriminator_options();
  RewardModelTrainOptions rm = resume_reward_model_options();
  d.checkpoint_dir = dir.path / "d";
  rm.checkpoint_dir = dir.path / "rm";
  d.stop_after = rm.stop_after = 2;
  train_d(d);
  train_rm(rm);
  d.checkpoint_dir.clear(), rm.checkpoint_dir.clear();
  d.stop_after = rm.stop_after = 0;

  SUBCASE("nothing there") {
    d.resume_from = dir.path / "nowhere";
    CHECK_THROWS_WITH_AS(train_d(d),
                         doctest::Contains("nowhere': expected a checkpoint directory, found "
                                           "nothing"),
                         Error);
    fs::create_directories(dir.path / "empty");
    rm.resume_from = dir.path / "empty";
    CHECK_THROWS_WITH_AS(train_rm(rm),
                         doctest::Contains("empty': expected a checkpoint, but it holds no "
                                           "trainer_state.json"),
                         Error);
  }
  SUBCASE("trainer_state.json is not JSON, or lacks a field") {
    dir.write("d/trainer_state.json", "{\"step\": 2, \"order\": ");
    d.resume_from = dir.path / "d";
    CHECK_THROWS_WITH_AS(train_d(d), doctest::Contains("trainer_state.json: invalid JSON"), Error);
    nlohmann::json state = read_json_file(dir.path / "rm" / "trainer_state.json");
    state.erase("order");
    dir.write("rm/trainer_state.json", state.dump());
    rm.resume_from = dir.path / "rm";
    CHECK_THROWS_WITH_AS(train_rm(rm),
                         doctest::Contains("trainer_state.json: field 'order': expected an "
                                           "object, found nothing"),
                         Error);
  }
  SUBCASE("the saved order is not a permutation of the training data") {
    nlohmann::json state = read_json_file(dir.path / "d" / "trainer_state.json");
    state["order"]["order"][0] = 17;
    dir.write("d/trainer_state.json", state.dump());
    d.resume_from = dir.path / "d";
    CHECK_THROWS_WITH_AS(train_d(d),
                         doctest::Contains("trainer_state.json: discriminator: the saved order "
                                           "is not a permutation of 0…5 (found 17)"),
                         Error);
  }
  SUBCASE("the weights file is cut short") {
    const fs::path weights = dir.path / "rm" / "model.safetensors";
    const std::string bytes = testing::read_file(weights);
    dir.write("rm/model.safetensors", bytes.substr(0, bytes.size() / 2));
    rm.resume_from = dir.path / "rm";
    CHECK_THROWS_WITH_AS(train_rm(rm), doctest::Contains("model.safetensors"), Error);
  }
  SUBCASE("other settings than the checkpoint's") {
    d.resume_from = dir.path / "d";
    d.lr = 1e-3;
    CHECK_THROWS_WITH_AS(train_d(d),
                         doctest::Contains("setting 'lr' was 0.003, this run has 0.001"), Error);
    d.lr = resume_discriminator_options().lr;
    d.labels = LabelMode::Hard;
    CHECK_THROWS_WITH_AS(train_d(d),
                         doctest::Contains("setting 'label_mode' was \"soft\", this run has "
                                           "\"hard\""),
                         Error);
    rm.resume_from = dir.path / "rm";
    rm.epochs = 4;
    CHECK_THROWS_WITH_AS(train_rm(rm),
                         doctest::Contains("setting 'total_steps' was 6, this run has 8"), Error);
  }
}

TEST_CASE("a NaN loss stops the run naming the last good checkpoint, which survives") {
  const ThreadCountGuard one_thread(1);
  const testing::ScratchDir dir("resume_nan");
  Rng rng(74);
  const auto pairs = resume_random_pairs(rng, 8);
  RewardModelTrainOptions options = resume_reward_model_options();
  options.checkpoint_dir = dir.path / "ckpt";
  options.checkpoint_every = 1;

  SUBCASE("a weight turned NaN: the first step fails, before any checkpoint") {
    Gpt2<float> model = resume_tiny_reward_model(5);
    model.params().get("h.0.mlp.c_fc.weight").value()[3] = NAN;
    CHECK_THROWS_WITH_AS(train_reward_model(model, pairs, {}, kResumeEnds, options),
                         // the sign of a NaN is not specified: "nan" or "-nan"
                         doctest::Contains("nan at step 0; stopped. There is no checkpoint yet"),
                         Error);
    CHECK_FALSE(fs::exists(dir.path / "ckpt"));
  }
  SUBCASE("a learning rate that blows the weights up: a later step fails") {
    options.lr = options.min_lr = 1e30;
    options.warmup_steps = 0;
    Gpt2<float> model = resume_tiny_reward_model(5);
    std::string message;
    try {
      train_reward_model(model, pairs, {}, kResumeEnds, options);
    } catch (const Error& e) {
      message = e.what();
    }
    MESSAGE(message);
    REQUIRE(message.find("loss became") != std::string::npos);
    const int64_t saved = read_json_file(dir.path / "ckpt" / "trainer_state.json").at("step");
    CHECK(saved >= 1);
    CHECK(message.find("The last good checkpoint is '" + (dir.path / "ckpt").string() + "' (step " +
                       std::to_string(saved) + ")") != std::string::npos);
    const Gpt2<float> reloaded = load_reward_model<float, Gpt2Arch>(dir.path / "ckpt");
    for (float v : reloaded.params().values()) REQUIRE(std::isfinite(v));
  }
  SUBCASE("a resumed run that fails names the checkpoint it resumed from") {
    options.lr = options.min_lr = 1e30;
    options.warmup_steps = 0;
    options.stop_after = 1;
    Gpt2<float> model = resume_tiny_reward_model(5);
    train_reward_model(model, pairs, {}, kResumeEnds, options);
    options.stop_after = 0;
    options.checkpoint_dir.clear();
    options.resume_from = dir.path / "ckpt";
    const std::string expected = "at step 1; stopped. The last good checkpoint is '" +
                                 (dir.path / "ckpt").string() + "' (step 1)";
    CHECK_THROWS_WITH_AS(train_reward_model(model, pairs, {}, kResumeEnds, options),
                         doctest::Contains(expected.c_str()), Error);
  }
}
