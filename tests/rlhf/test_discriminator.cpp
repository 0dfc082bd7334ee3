// Tests for rlhf/discriminator.hpp: the batch layout and the soft-target loss on hand cases
// (neutral tokens at p = 0.5 cost log 2 per sequence), gradcheck of the loss in double, prompt and
// padding ignored, probabilities independent of batching, input errors, a short training run on the
// built-in task that learns edited tokens well above chance, and the model directory round trip.
#include "support/testing.hpp"

#include <tlcr/rlhf/discriminator.hpp>

#include <cmath>

#include "reward_testing.hpp"

using namespace tlcr;
using testing::random_normal;

namespace {
DiscriminatorExample example(std::vector<int32_t> prompt, std::vector<int32_t> rejected,
                             std::vector<int8_t> rejected_labels, std::vector<int32_t> revised,
                             std::vector<int8_t> revised_labels) {
  DiscriminatorExample e;
  e.prompt = std::move(prompt);
  e.rejected = std::move(rejected);
  e.rejected_labels = std::move(rejected_labels);
  e.revised = std::move(revised);
  e.revised_labels = std::move(revised_labels);
  e.chosen = e.revised;
  return e;
}

// Random examples: token ids in [0, 20), labels of the right signs.
std::vector<DiscriminatorExample> random_examples(Rng& rng, int64_t n) {
  std::vector<DiscriminatorExample> examples;
  for (int64_t i = 0; i < n; ++i) {
    DiscriminatorExample e;
    const int64_t prompt = testing::random_size(rng, 1, 4);
    const int64_t rejected = testing::random_size(rng, 1, 6);
    const int64_t revised = testing::random_size(rng, 1, 6);
    for (int64_t t = 0; t < prompt; ++t) e.prompt.push_back(int32_t(rng.uniform_int(20)));
    for (int64_t t = 0; t < rejected; ++t) {
      e.rejected.push_back(int32_t(rng.uniform_int(20)));
      e.rejected_labels.push_back(rng.uniform() < 0.4 ? -1 : 0);
    }
    for (int64_t t = 0; t < revised; ++t) {
      e.revised.push_back(int32_t(rng.uniform_int(20)));
      e.revised_labels.push_back(rng.uniform() < 0.4 ? 1 : 0);
    }
    e.chosen = e.revised;
    examples.push_back(std::move(e));
  }
  return examples;
}

Gpt2<float> tiny_discriminator(int64_t vocab, uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(vocab, 128, 1, 2, 32),
                     {.lm = false, .token_classes = 2}, seed);
}
}  // namespace

TEST_CASE("batch layout: rejected rows then revised rows, prompt first, right padding") {
  const std::vector<DiscriminatorExample> examples = {
      example({1, 2}, {3, 4, 5}, {0, -1, 0}, {3, 6}, {0, 1}),
      example({7}, {8}, {-1}, {9, 9, 9}, {1, 0, 1})};
  const auto batch = make_discriminator_batch<double>(examples, LabelMode::Soft, 16, 0);
  const TokenBatch& t = batch.rows.tokens;
  REQUIRE(t.batch == 4);
  REQUIRE(t.time == 5);
  CHECK(std::vector<int32_t>(t.inputs.begin(), t.inputs.begin() + 5) ==
        std::vector<int32_t>{1, 2, 3, 4, 5});
  CHECK(std::vector<int32_t>(t.inputs.begin() + 5, t.inputs.begin() + 10) ==
        std::vector<int32_t>{7, 8, 0, 0, 0});
  CHECK(std::vector<uint8_t>(t.key_mask.begin() + 5, t.key_mask.begin() + 10) ==
        std::vector<uint8_t>{1, 1, 0, 0, 0});
  CHECK(batch.rows.response_start == std::vector<int64_t>{2, 1, 2, 1});
  CHECK(batch.labelled_tokens == 3 + 1 + 2 + 3);
  // Soft: every response token has weight 1 / (its row's tokens · N); nothing else has weight.
  double total = 0;
  for (double w : batch.weights) total += w;
  CHECK(total == doctest::Approx(4.0 / 2.0));  // 4 rows, each summing to 1/N
  CHECK(batch.weights[0] == 0.0);              // prompt
  CHECK(batch.weights[1 * 5 + 2] == 0.0);      // padding
  CHECK(batch.weights[3] == doctest::Approx(1.0 / (3 * 2)));
  // Targets: (P(negative), P(positive)).
  CHECK(batch.targets[3 * 2 + 0] == 1.0);  // rejected D/S → (1, 0)
  CHECK(batch.targets[2 * 2 + 1] == 0.5);  // kept → (0.5, 0.5)
  const int64_t revised_a = batch.rows.at(2, 1);
  CHECK(batch.targets[revised_a * 2 + 1] == 1.0);  // revised A/S → (0, 1)

  // Hard: kept tokens carry no weight; a row's edited tokens share 1/N.
  const auto hard = make_discriminator_batch<double>(examples, LabelMode::Hard, 16, 0);
  CHECK(hard.labelled_tokens == 1 + 1 + 1 + 2);
  CHECK(hard.weights[2] == 0.0);
  CHECK(hard.weights[3] == doctest::Approx(1.0 / 2));
  CHECK(hard.weights[hard.rows.at(3, 0)] == doctest::Approx(1.0 / (2 * 2)));
}

TEST_CASE("loss on hand cases") {
  SUBCASE("neutral tokens at p = 0.5 cost log 2 per sequence, rejected + revised") {
    const std::vector<DiscriminatorExample> examples = {
        example({1, 2}, {3, 4, 5}, {0, 0, 0}, {3, 4}, {0, 0}),
        example({1}, {6}, {0}, {7, 8, 9, 4}, {0, 0, 0, 0})};
    const auto batch = make_discriminator_batch<double>(examples, LabelMode::Soft, 16, 0);
    Tensor<double> zeros(Shape{batch.rows.tokens.batch, batch.rows.tokens.time, 2});
    const auto loss = discriminator_loss(constant(zeros), batch);
    CHECK(loss.value()[0] == doctest::Approx(2 * std::log(2.0)).epsilon(1e-12));
  }
  SUBCASE("edited tokens at p = 3/4") {
    // One triple: rejected [a, b] labels [−1, 0], revised [a] label [+1]; z = (0, log 3) at a.
    const std::vector<DiscriminatorExample> examples = {example({1}, {3, 4}, {-1, 0}, {3}, {1})};
    for (LabelMode mode : {LabelMode::Soft, LabelMode::Hard}) {
      const auto batch = make_discriminator_batch<double>(examples, mode, 16, 0);
      Tensor<double> z(Shape{2, 3, 2});
      z[batch.rows.at(0, 0) * 2 + 1] = std::log(3.0);  // rejected a: p = 3/4
      z[batch.rows.at(1, 0) * 2 + 1] = std::log(3.0);  // revised a:  p = 3/4
      const double rejected_a = -std::log(0.25), rejected_b = std::log(2.0);
      const double revised_a = -std::log(0.75);
      const double expected = mode == LabelMode::Soft ? (rejected_a + rejected_b) / 2 + revised_a
                                                      : rejected_a + revised_a;
      CHECK(discriminator_loss(constant(z), batch).value()[0] ==
            doctest::Approx(expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("loss gradient: gradcheck in double; prompt and padding get none") {
  Rng rng(501);
  for (int trial = 0; trial < 4; ++trial) {
    const auto examples = random_examples(rng, testing::random_size(rng, 1, 3));
    for (LabelMode mode : {LabelMode::Soft, LabelMode::Hard}) {
      const auto batch = make_discriminator_batch<double>(examples, mode, 32, 0);
      auto z = parameter(
          random_normal<double>({batch.rows.tokens.batch, batch.rows.tokens.time, 2}, rng, 2.0));
      TLCR_CHECK_GRADIENTS([&] { return discriminator_loss(z, batch); }, {z});
      z.grad().fill(0);
      backward(discriminator_loss(z, batch));
      for (int64_t i = 0; i < batch.rows.tokens.size(); ++i)
        if (batch.weights[i] == 0) {
          CHECK(z.grad()[i * 2] == 0.0);
          CHECK(z.grad()[i * 2 + 1] == 0.0);
        }
    }
  }
}

TEST_CASE("bad examples and logits are reported") {
  auto e = example({1}, {2, 3}, {0}, {4}, {1});
  CHECK_THROWS_WITH_AS(make_discriminator_batch<float>(std::vector{e}, LabelMode::Soft, 16, 0),
                       doctest::Contains("1 labels for 2 response tokens"), Error);
  e = example({1, 2, 3}, {2, 3}, {0, 0}, {4}, {1});
  CHECK_THROWS_WITH_AS(make_discriminator_batch<float>(std::vector{e}, LabelMode::Soft, 4, 0),
                       doctest::Contains("row 0 has 3 prompt + 2 response tokens, more than the "
                                         "model's context of 4"),
                       Error);
  e = example({1}, {2}, {0}, {4}, {1});
  const auto batch = make_discriminator_batch<double>(std::vector{e}, LabelMode::Soft, 8, 0);
  CHECK_THROWS_WITH_AS(discriminator_loss(constant(Tensor<double>(Shape{2, 2, 3})), batch),
                       doctest::Contains("expected logits (2, 2, 2)"), Error);

  const testing::SmallTask task = testing::make_small_task(3);
  PromptLabelRecord record = label_revision(task.tokenizer, task.data.revisions[0]);
  record.labels.revised_ids[0] = 100000;
  CHECK_THROWS_WITH_AS(make_discriminator_example(task.tokenizer, record, {}, "labels.jsonl:1"),
                       doctest::Contains("labels.jsonl:1: field 'revised_ids': token 100000 at "
                                         "position 0 is outside the vocabulary"),
                       Error);
  const Gpt2<float> lm(TransformerConfig::gpt2(16, 16, 1, 2, 8));
  CHECK_THROWS_WITH_AS(discriminator_probabilities(lm, {{1}}, {{2}}, ResponseEnds{}),
                       doctest::Contains("expected a token discriminator"), Error);
}

TEST_CASE("probabilities: NaN past EOS and PAD, the same whatever the batching") {
  const Gpt2<float> model = tiny_discriminator(40, 3);
  const ResponseEnds ends{.eos = 38, .pad = 39};
  const TokenSequences prompts = {{1, 2, 3}, {4}, {5, 6}, {7}};
  const TokenSequences responses = {{10, 11, 12, 38}, {13, 14}, {15, 38, 39, 39}, {39, 39}};
  const TokenRewards together = discriminator_probabilities(model, prompts, responses, ends, 16);
  const TokenRewards one_by_one = discriminator_probabilities(model, prompts, responses, ends, 1);
  REQUIRE(together.size() == 4);
  for (std::size_t row = 0; row < 4; ++row) {
    REQUIRE(together[row].size() == responses[row].size());
    const std::size_t scored = ends.scored_length(responses[row]);
    for (std::size_t i = 0; i < responses[row].size(); ++i) {
      if (i < scored) {
        CHECK(together[row][i] > 0.0f);
        CHECK(together[row][i] < 1.0f);
        CHECK(together[row][i] == doctest::Approx(one_by_one[row][i]).epsilon(1e-5));
      } else {
        CHECK(std::isnan(together[row][i]));
      }
    }
  }
}

TEST_CASE("a short training run on the built-in task learns edited tokens") {
  // A model this small gains nothing from threads, and a busy machine makes every parallel
  // region wait; one thread keeps the run to a couple of seconds.
  const ThreadCountGuard one_thread(1);
  const testing::SmallTask task = testing::make_small_task(420, 2024);
  const auto records = label_revisions(task.tokenizer, task.data.revisions);
  const auto [train_records, held_records] = split_held_out(records, 0.15, 1);
  const auto train = make_discriminator_examples(task.tokenizer, train_records);
  const auto held_out = make_discriminator_examples(task.tokenizer, held_records);
  const ResponseEnds ends = ResponseEnds::of(task.tokenizer);

  Gpt2<float> model = tiny_discriminator(task.tokenizer.vocab_size(), 5);
  DiscriminatorTrainOptions options;
  options.epochs = 3;
  options.batch_size = 8;
  options.lr = 3e-3;
  options.min_lr = 3e-4;
  options.warmup_steps = 10;
  options.progress = false;
  const DiscriminatorReport report = train_discriminator(model, train, held_out, ends, options);
  MESSAGE("before: " << report.before.summary());
  MESSAGE("after:  " << report.after.summary() << " (" << report.seconds << " s, " << report.steps
                     << " steps)");
  CHECK(report.skipped_too_long == 0);
  CHECK(report.after.negative_tokens > 20);
  CHECK(report.after.positive_tokens > 20);
  CHECK(report.after.loss < report.before.loss);
  CHECK(report.after.balanced_accuracy > 0.65);  // chance is 0.5 whatever the class mix
  CHECK(report.after.neutral_mean_p > 0.3);
  CHECK(report.after.neutral_mean_p < 0.7);
  // Chosen-vs-rejected pairs carry the annotator's noise; only the bookkeeping is checked here.
  CHECK(report.after.pairwise_accuracy >= 0.0);
  CHECK(report.after.pairwise_accuracy <= 1.0);

  // The directory round trip keeps every probability.
  testing::ScratchDir dir("discriminator");
  save_discriminator(dir.path / "d", model, options.labels, report.after);
  CHECK(reward_model_kind(dir.path / "d") == "token_discriminator");
  const Gpt2<float> loaded = load_discriminator<float, Gpt2Arch>(dir.path / "d");
  TokenSequences prompts, responses;
  for (const auto& e : held_out) prompts.push_back(e.prompt), responses.push_back(e.rejected);
  CHECK(discriminator_probabilities(loaded, prompts, responses, ends) ==
        discriminator_probabilities(model, prompts, responses, ends));
}

TEST_CASE("a discriminator starts from an SFT trunk, tied or untied, with a fresh head") {
  testing::ScratchDir dir("discriminator_sft");
  SUBCASE("GPT-2, tied LM head") {
    const Gpt2<float> sft(TransformerConfig::gpt2(30, 16, 1, 2, 8), {}, 9);
    save_model(dir.path / "sft", sft);
    const Gpt2<float> d = discriminator_from_sft<float, Gpt2Arch>(dir.path / "sft", 4);
    CHECK(d.heads().token_classes == 2);
    CHECK_FALSE(d.heads().lm);
    for (const auto& p : d.params().parameters())
      if (p.name != "score.weight")
        CHECK(testing::max_abs_diff(p.var.value(), sft.params().get(p.name).value()) == 0.0);
    CHECK_THROWS_WITH_AS((load_discriminator<float, Gpt2Arch>(dir.path / "sft")),
                         doctest::Contains("not a token discriminator"), Error);
  }
  SUBCASE("Llama, untied LM head") {
    const Llama<float> sft(TransformerConfig::llama(30, 16, 1, 2, 8), {}, 9);
    save_model(dir.path / "sft", sft);
    const Llama<float> d = discriminator_from_sft<float, LlamaArch>(dir.path / "sft", 4);
    CHECK_FALSE(d.params().contains("lm_head.weight"));
    const auto& name = d.params().parameters().front().name;
    CHECK(testing::max_abs_diff(d.params().get(name).value(), sft.params().get(name).value()) ==
          0.0);
  }
}
