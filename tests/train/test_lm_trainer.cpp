// Tests for train/lm_trainer.hpp, train/checkpoint.hpp and train/metrics.hpp: the loss falls on a
// learnable stream; k steps + checkpoint + resume equals N steps straight, bit for bit; the same
// seed gives the same weights; a NaN stops the run with a report and leaves the checkpoint intact.
#include "support/testing.hpp"

#include <tlcr/train/lm_trainer.hpp>

#include <fstream>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {
std::vector<int32_t> counting_stream(int64_t length, int64_t period) {
  std::vector<int32_t> stream(length);
  for (int64_t i = 0; i < length; ++i) stream[i] = static_cast<int32_t>(i % period);
  return stream;
}
Gpt2<float> tiny() {
  return Gpt2<float>(TransformerConfig::gpt2(16, 16, 1, 2, 16), {}, 3);
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("tlcr_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}
}  // namespace

TEST_CASE("training on a periodic stream drives the loss far below chance") {
  Gpt2<float> model = tiny();
  LmBatcher batcher(counting_stream(2000, 7), 4, 12, 1);
  const std::vector<TokenBatch> eval{LmBatcher(counting_stream(200, 7), 4, 12, 2).next()};
  const double before = evaluate_loss(model, eval);
  const LmTrainReport report = train_language_model(model, batcher, eval,
                                                    {.steps = 150,
                                                     .lr = 1e-2,
                                                     .min_lr = 1e-3,
                                                     .warmup_steps = 5,
                                                     .eval_every = 150,
                                                     .progress = false});
  CHECK(before > 2.0);  // ≈ log 16 at initialisation
  CHECK(report.eval_loss < 0.5);
}

TEST_CASE("k steps, checkpoint, resume, N-k steps equals N steps straight, bitwise") {
  const fs::path dir = fresh_dir("resume");
  const std::vector<int32_t> stream = counting_stream(3000, 9);
  const LmTrainOptions base{.steps = 12,
                            .lr = 2e-3,
                            .warmup_steps = 3,
                            .log_every = 1,
                            .eval_every = 0,
                            .progress = false};

  Gpt2<float> straight = tiny();
  LmBatcher straight_batches(stream, 3, 10, 4);
  train_language_model(straight, straight_batches, {}, base);

  Gpt2<float> interrupted = tiny();
  LmBatcher interrupted_batches(stream, 3, 10, 4);
  LmTrainOptions first_part = base;
  first_part.stop_after = 5;
  first_part.checkpoint_dir = dir / "ckpt";
  first_part.metrics_path = dir / "metrics.jsonl";
  const LmTrainReport head = train_language_model(interrupted, interrupted_batches, {}, first_part);
  CHECK(head.steps == 5);
  CHECK(fs::exists(dir / "ckpt" / "trainer_state.json"));
  CHECK_FALSE(fs::exists(dir / "ckpt.tmp"));
  CHECK(testing::max_abs_diff(interrupted.params().values(), straight.params().values()) > 0.0);

  // A fresh process: different initialisation and batcher seed; everything comes from the checkpoint.
  Gpt2<float> resumed(TransformerConfig::gpt2(16, 16, 1, 2, 16), {}, 999);
  LmBatcher resumed_batches(stream, 3, 10, 12345);
  LmTrainOptions second_part = base;
  second_part.resume_from = dir / "ckpt";
  second_part.metrics_path = dir / "metrics.jsonl";
  train_language_model(resumed, resumed_batches, {}, second_part);
  CHECK(testing::max_abs_diff(resumed.params().values(), straight.params().values()) == 0.0);

  // Same seed, same run: identical weights.
  Gpt2<float> again = tiny();
  LmBatcher again_batches(stream, 3, 10, 4);
  train_language_model(again, again_batches, {}, base);
  CHECK(testing::max_abs_diff(again.params().values(), straight.params().values()) == 0.0);

  // Metrics: one JSON line per step across both parts.
  std::ifstream in(dir / "metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    CHECK(nlohmann::json::parse(line).contains("loss"));
  CHECK(lines == 12);
  fs::remove_all(dir);
}

TEST_CASE("a NaN stops the run with a report naming the step; the checkpoint survives") {
  const fs::path dir = fresh_dir("nan");
  Gpt2<float> model = tiny();
  LmBatcher batcher(counting_stream(1000, 5), 2, 8, 1);
  train_language_model(model, batcher, {}, {.steps = 2, .checkpoint_dir = dir, .progress = false});
  const auto saved_bytes = fs::file_size(dir / "model.safetensors");
  model.params().get("h.0.mlp.c_fc.weight").value()[3] = NAN;
  CHECK_THROWS_WITH_AS(train_language_model(model, batcher, {},
                                            {.steps = 4, .checkpoint_dir = dir, .progress = false}),
                       doctest::Contains("nan at step 0"), Error);
  CHECK(fs::file_size(dir / "model.safetensors") == saved_bytes);
  Gpt2<float> reloaded = load_model<float, Gpt2Arch>(dir);
  for (float v : reloaded.params().values()) REQUIRE(std::isfinite(v));
  fs::remove_all(dir);
}

TEST_CASE(
    "resuming: a crash between the checkpoint's renames, changed settings, a finished run, "
    "metrics logged after the checkpoint") {
  const fs::path dir = fresh_dir("resume_edges");
  const std::vector<int32_t> stream = counting_stream(3000, 9);
  const LmTrainOptions base{.steps = 8,
                            .lr = 2e-3,
                            .warmup_steps = 2,
                            .log_every = 1,
                            .eval_every = 0,
                            .checkpoint_dir = dir / "ckpt",
                            .metrics_path = dir / "metrics.jsonl",
                            .progress = false};
  Gpt2<float> straight = tiny();
  LmBatcher straight_batches(stream, 3, 10, 4);
  LmTrainOptions plain = base;
  plain.checkpoint_dir.clear(), plain.metrics_path.clear();
  train_language_model(straight, straight_batches, {}, plain);

  // Steps 1–3, checkpoint; then on to step 5, whose checkpoint the "crash" below loses.
  Gpt2<float> model = tiny();
  LmBatcher batches(stream, 3, 10, 4);
  LmTrainOptions part = base;
  part.stop_after = 3;
  train_language_model(model, batches, {}, part);
  fs::copy(dir / "ckpt", dir / "ckpt_at_3", fs::copy_options::recursive);
  part.stop_after = 5, part.resume_from = dir / "ckpt";
  train_language_model(model, batches, {}, part);
  // The crash: between "ckpt → ckpt.old" and "ckpt.tmp → ckpt", with ckpt.tmp half written; the
  // complete checkpoint in ckpt.old is the one at step 3.
  fs::remove_all(dir / "ckpt");
  fs::rename(dir / "ckpt_at_3", dir / "ckpt.old");
  fs::create_directories(dir / "ckpt.tmp");
  std::ofstream(dir / "ckpt.tmp" / "model.safetensors") << "half";

  // A changed setting is refused, naming it.
  Gpt2<float> resumed(TransformerConfig::gpt2(16, 16, 1, 2, 16), {}, 999);
  LmBatcher resumed_batches(stream, 3, 10, 12345);
  LmTrainOptions changed = base;
  changed.resume_from = dir / "ckpt";
  changed.lr = 1e-3;
  CHECK_THROWS_WITH_AS(train_language_model(resumed, resumed_batches, {}, changed),
                       doctest::Contains("setting 'lr' was 0.002, this run has 0.001"), Error);
  CHECK(fs::exists(dir / "ckpt" / "trainer_state.json"));  // recovered from ckpt.old

  // Resumed from step 3: the same weights as the straight run, and one metrics record per step
  // (steps 4 and 5, logged before the crash, are not repeated).
  LmTrainOptions rest = base;
  rest.resume_from = dir / "ckpt";
  const LmTrainReport report = train_language_model(resumed, resumed_batches, {}, rest);
  CHECK(report.steps == 8);
  CHECK(testing::max_abs_diff(resumed.params().values(), straight.params().values()) == 0.0);
  CHECK_FALSE(fs::exists(dir / "ckpt.tmp"));
  CHECK_FALSE(fs::exists(dir / "ckpt.old"));
  std::vector<int64_t> steps;
  std::ifstream in(dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    steps.push_back(nlohmann::json::parse(line)["step"]);
  CHECK(steps == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8});

  // Resuming the finished run runs nothing and keeps its step count (it once saved step 0).
  const LmTrainReport again = train_language_model(resumed, resumed_batches, {}, rest);
  CHECK(again.steps == 8);
  CHECK(read_json_file(dir / "ckpt" / "trainer_state.json")["step"] == 8);
  fs::remove_all(dir);
}

TEST_CASE("dropout in training: resume is bitwise, the rates are checked, eval never drops") {
  const fs::path dir = fresh_dir("dropout");
  const std::vector<int32_t> stream = counting_stream(3000, 9);
  const LmTrainOptions base{.steps = 8,
                            .grad_accum = 2,
                            .lr = 2e-3,
                            .warmup_steps = 2,
                            .dropout = {.embedding = 0.1, .residual = 0.2, .attention = 0.1},
                            .dropout_seed = 17,
                            .log_every = 1,
                            .eval_every = 0,
                            .progress = false};
  auto train = [&](LmTrainOptions options, uint64_t init = 3) {
    Gpt2<float> model(TransformerConfig::gpt2(16, 16, 1, 2, 16), {}, init);
    LmBatcher batches(stream, 3, 10, 4);
    train_language_model(model, batches, {}, options);
    return model.params().values().clone();
  };
  const Tensor<float> straight = train(base);
  LmTrainOptions no_dropout = base;
  no_dropout.dropout = {};
  CHECK(testing::max_abs_diff(train(no_dropout), straight) > 0.0);
  LmTrainOptions other_seed = base;
  other_seed.dropout_seed = 18;
  CHECK(testing::max_abs_diff(train(other_seed), straight) > 0.0);
  CHECK(testing::max_abs_diff(train(base), straight) == 0.0);

  LmTrainOptions first = base;
  first.stop_after = 3, first.checkpoint_dir = dir / "ckpt";
  train(first);
  LmTrainOptions rest = base;
  rest.resume_from = dir / "ckpt";
  CHECK(testing::max_abs_diff(train(rest, 999), straight) == 0.0);
  rest.dropout.residual = 0.3;
  CHECK_THROWS_WITH_AS(train(rest), doctest::Contains("setting 'dropout' was"), Error);
  rest.dropout = {};
  CHECK_THROWS_WITH_AS(train(rest), doctest::Contains("setting 'dropout' was"), Error);
  rest.dropout = {.embedding = 1.0};
  CHECK_THROWS_WITH_AS(train(rest), doctest::Contains("each rate must be in [0, 1)"), Error);

  // The held-out loss is the model's, without dropout.
  Gpt2<float> model = tiny();
  const std::vector<TokenBatch> eval{LmBatcher(stream, 3, 10, 5).next()};
  CHECK(evaluate_loss(model, eval) == evaluate_loss(model, eval));
  CHECK(evaluate_loss(model, eval) == language_model_loss(model, eval[0]).item());
  CHECK(language_model_loss(model, eval[0], {base.dropout, 1}).item() !=
        language_model_loss(model, eval[0]).item());
  fs::remove_all(dir);
}
