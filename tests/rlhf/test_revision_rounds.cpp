// Tests for rlhf/revision_rounds.hpp and task/revision.hpp: the external reviser's protocol and
// its errors; a round on the built-in task labels the policy's samples exactly as label_revision
// does with the built-in reviser's edits, trains the discriminator in place, reports its metrics,
// and saves and resumes so that the next round is bitwise the same; PPO calls the hooks after
// every iteration and carries their state in its checkpoint.
#include "rlhf/reward_testing.hpp"
#include "rlhf/test_ppo_support.hpp"

#include <tlcr/rlhf/revision_rounds.hpp>
#include <tlcr/rlhf/task/revision.hpp>

using namespace tlcr;
using namespace tlcr::testing;

TEST_CASE("external_reviser: JSONL in, {\"revised\"} lines out, in order; errors name the line") {
  // Appends " ok" to each response: {"prompt":…,"response":"X"} → {"revised":"X ok"}.
  const Reviser appender =
      external_reviser("sed 's/.*\"response\":\"\\(.*\\)\"}$/{\"revised\":\"\\1 ok\"}/'");
  const std::vector<RevisionRequest> requests{{"p1", "the fox"}, {"p2", "a \"quoted\" one"}};
  const std::vector<std::string> revised = appender.revise(requests);
  REQUIRE(revised.size() == 2);
  CHECK(revised[0] == "the fox ok");
  CHECK(revised[1] == "a \"quoted\" one ok");

  CHECK_THROWS_WITH_AS(
      external_reviser("head -n 1 > /dev/null; echo '{\"revised\":\"x\"}'").revise(requests),
      doctest::Contains("expected 2 revisions (one per input line), found 1"), Error);
  CHECK_THROWS_WITH_AS(
      external_reviser("cat > /dev/null; echo '{\"revised\":\"x\"}'; echo 7").revise(requests),
      doctest::Contains("line 2 of its output: expected {\"revised\": \"...\"}"), Error);
  CHECK_THROWS_WITH_AS(external_reviser("exit 3").revise(requests),
                       doctest::Contains("reviser 'exit 3' failed (exit status 3)"), Error);
}

namespace revision_rounds_test {
using Disc = Gpt2<float>;

std::shared_ptr<Disc> tiny_discriminator(int64_t vocab) {
  return std::make_shared<Disc>(TransformerConfig::gpt2(vocab, 128, 1, 2, 16),
                                HeadConfig{.lm = false, .token_classes = 2}, 17);
}

// A rollout whose responses are the task's rejected responses (as the policy would emit them).
Rollout rejected_rollout(const SmallTask& task, std::size_t first, std::size_t rows) {
  const ChatFormat format;
  Rollout r;
  for (std::size_t i = first; i < first + rows; ++i) {
    const RevisionRecord& record = task.data.revisions[i];
    r.prompts.push_back(format.encode_prompt(task.tokenizer, record.prompt));
    r.responses.push_back(format.encode_response(task.tokenizer, record.rejected));
  }
  return r;
}

TEST_CASE("a revision round: the built-in reviser's labels, trained in place, resumed bitwise") {
  const SmallTask task = make_small_task(24);
  std::vector<std::string> prompts;
  for (const RevisionRecord& r : task.data.revisions) prompts.push_back(r.prompt);
  const std::vector<PromptLabelRecord> original =
      label_revisions(task.tokenizer, std::span(task.data.revisions).first(16));
  const RevisionRoundOptions options{
      .every = 2,
      .max_responses = 6,
      .train = {.batch_size = 4, .max_steps = 3, .lr = 1e-3, .warmup_steps = 1, .progress = false}};
  const int64_t vocab = task.tokenizer.vocab_size();
  auto model = tiny_discriminator(vocab);
  const Tensor<float> initial = model->params().values().clone();
  RevisionRounds<float, Gpt2Arch> rounds(model, task.tokenizer, prompts, original, task_reviser(),
                                         options);
  const Rollout first = rejected_rollout(task, 16, 8);
  nlohmann::json metrics;
  rounds.after_iteration(1, first, metrics);  // not due
  CHECK(metrics.empty());
  CHECK(rounds.rounds() == 0);
  rounds.after_iteration(2, first, metrics);
  CHECK(rounds.rounds() == 1);
  CHECK(metrics["revision/round"] == 1);
  CHECK(metrics["revision/responses"] == 6);  // max_responses of the 8 rows
  CHECK(metrics["revision/changed"].get<int64_t>() > 0);
  CHECK(metrics["revision/edited_token_share"].get<double>() > 0.0);
  CHECK(std::isfinite(metrics["revision/balanced_acc_before"].get<double>()));
  CHECK(testing::max_abs_diff(model->params().values(), initial) > 0.0);  // trained in place

  // The round's labels: the decoded response, revised by the task's reviser, aligned.
  REQUIRE(rounds.round_labels().size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    const RevisionRecord& source = task.data.revisions[16 + i];
    const std::string response = task.tokenizer.decode(
        std::span(first.responses[i])
            .first(ResponseEnds::of(task.tokenizer).scored_length(first.responses[i])));
    const PromptLabelRecord expected = label_revision(
        task.tokenizer,
        {source.prompt, "", response, task::revise(world, source.prompt, "", response)});
    CHECK(rounds.round_labels()[i].labels.rejected_ops == expected.labels.rejected_ops);
    CHECK(rounds.round_labels()[i].labels.revised_ids == expected.labels.revised_ids);
  }

  // Save, resume into a fresh model, and the next round is the same on both.
  ScratchDir dir("revision_rounds");
  rounds.save(dir.path / "extra");
  auto other = tiny_discriminator(vocab);
  RevisionRounds<float, Gpt2Arch> resumed(other, task.tokenizer, prompts, original, task_reviser(),
                                          options);
  resumed.resume(dir.path / "extra");
  CHECK(resumed.rounds() == 1);
  CHECK(testing::max_abs_diff(other->params().values(), model->params().values()) == 0.0);
  const Rollout second = rejected_rollout(task, 2, 8);
  nlohmann::json m1, m2;
  rounds.after_iteration(4, second, m1);
  resumed.after_iteration(4, second, m2);
  CHECK(m1 == m2);
  CHECK(testing::max_abs_diff(other->params().values(), model->params().values()) == 0.0);
  CHECK(rounds.round_labels().size() == 12);

  CHECK_THROWS_WITH_AS(resumed.resume(dir.path / "missing"),
                       doctest::Contains("no revision-round state"), Error);
  Rollout stranger = first;
  stranger.prompts[0] = {1, 2, 3};
  CHECK_THROWS_WITH_AS(rounds.after_iteration(6, stranger, metrics),
                       doctest::Contains("not among the PPO prompts"), Error);
  CHECK_THROWS_WITH_AS(task_reviser().revise({{"what is the weather?", "sunny"}}),
                       doctest::Contains("is not one of the built-in task's"), Error);
}

TEST_CASE("PPO's hooks: after every iteration, logged with it; extra state in the checkpoint") {
  Gpt2<float> policy = tiny_policy();
  const Gpt2<float> reference = tiny_reference();
  PpoConfig config = tiny_ppo_settings();
  const TokenFiveReward reward;
  ScratchDir dir("ppo_hooks");
  std::vector<int64_t> seen;
  PpoRunOptions run{.checkpoint_dir = dir.path / "checkpoint",
                    .metrics_path = dir.path / "metrics.jsonl",
                    .stop_after = 3,
                    .progress = false,
                    .print_samples = false};
  run.after_iteration = [&](int64_t iteration, const Rollout& rollout, nlohmann::json& m) {
    seen.push_back(iteration);
    m["hook/rows"] = rollout.rows();
  };
  run.save_extra = [&](const std::filesystem::path& extra) {
    std::filesystem::create_directories(extra);
    write_file_atomically(extra / "seen.txt", std::to_string(seen.size()));
  };
  PpoTrainer<float, Gpt2Arch, TokenFiveReward>({policy, reference}, reward, tiny_prompts(20),
                                               config)
      .train(run);
  CHECK(seen == std::vector<int64_t>{1, 2, 3});
  const std::vector<nlohmann::json> logged = read_metrics(run.metrics_path);
  REQUIRE(logged.size() == 3);
  CHECK(logged[2]["hook/rows"] == config.batch_size);
  CHECK(read_file(run.checkpoint_dir / "extra" / "seen.txt") == "3");

  std::string restored;
  PpoRunOptions rest = run;
  rest.stop_after = 0, rest.resume_from = run.checkpoint_dir;
  rest.resume_extra = [&](const std::filesystem::path& extra) {
    restored = read_file(extra / "seen.txt");
  };
  PpoTrainer<float, Gpt2Arch, TokenFiveReward>({policy, reference}, reward, tiny_prompts(20),
                                               config)
      .train(rest);
  CHECK(restored == "3");
  CHECK(seen == std::vector<int64_t>{1, 2, 3, 4});
  // A checkpoint with extra state does not resume without the hook that reads it.
  PpoRunOptions forgetful = rest;
  forgetful.resume_extra = {};
  CHECK_THROWS_WITH_AS((PpoTrainer<float, Gpt2Arch, TokenFiveReward>({policy, reference}, reward,
                                                                     tiny_prompts(20), config)
                            .train(forgetful)),
                       doctest::Contains("holds extra state"), Error);
}

}  // namespace revision_rounds_test
