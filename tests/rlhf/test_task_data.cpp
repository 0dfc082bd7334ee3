// Tests for rlhf/task/generator.hpp and records.hpp: the demonstrator speaks the task's grammar and
// injects mistakes at their rates, each mistake lowers the oracle score, preference labels follow
// Bradley–Terry, and the exported files are deterministic, valid and keep eval prompts held out.
#include "support/testing.hpp"
#include "reward_testing.hpp"
#include <tlcr/io/jsonl.hpp>
#include <tlcr/rlhf/task.hpp>

#include <unistd.h>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

using namespace tlcr;
using namespace tlcr::task;
namespace fs = std::filesystem;

namespace {
using tlcr::testing::world;

fs::path scratch_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("tlcr_task_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir;
}

TaskOptions small_options(uint64_t seed) {
  TaskOptions options;
  options.seed = seed;
  options.corpus_lines = 500;
  options.sft_examples = 400;
  options.preference_pairs = 300;
  return options;
}

const char* kFiles[] = {"corpus.txt",      "sft.jsonl",           "preferences.jsonl",
                        "revisions.jsonl", "prompts_train.jsonl", "prompts_eval.jsonl",
                        "task.json"};
}  // namespace

TEST_CASE("generated responses use only the task's grammar and vocabulary") {
  Rng rng(11);
  const auto vocabulary = world.vocabulary();
  for (int trial = 0; trial < 2000; ++trial) {
    const TaskPrompt& prompt = world.prompts()[rng.uniform_int(world.prompts().size())];
    const GeneratedResponse response = generate_response(world, prompt, ResponseOptions{}, rng);
    CAPTURE(response.text);
    const OracleReport report = oracle_report(world, prompt, response.text);
    CHECK(report.count(FindingKind::Garbled) == 0);
    CHECK(!report.words.empty());
    for (const std::string& w : report.words)
      CHECK(std::binary_search(vocabulary.begin(), vocabulary.end(), w));
    if (response.mistakes.empty()) CHECK(report.score >= report.max_score - 0.5);
  }
  // Descriptions state every attribute of the entity, all true.
  for (int e = 0; e < int(world.entities().size()); ++e) {
    const std::string text = describe_entity(world, e, rng);
    const OracleReport report = oracle_report(
        world, "tell me about " + join_words(world.noun_phrase(e, true)) + " .", text);
    CHECK(report.score == report.max_score - 0.5);  // all asked facts, no polite phrase
    CHECK(report.count(FindingKind::RequestedFact) + report.count(FindingKind::ExtraFact) ==
          int(world.category_attributes(world.entities()[e].category).size()));
  }
}

TEST_CASE("each mistake kind lowers the score of a correct response") {
  Rng rng(12);
  for (int trial = 0; trial < 1000; ++trial) {
    const TaskPrompt& prompt = world.prompts()[rng.uniform_int(world.prompts().size())];
    const ResponsePlan clean = plan_correct_response(world, prompt, ResponseOptions{}, rng);
    const double clean_score = oracle_score(world, prompt.text, render_plan(clean));
    CHECK(clean_score >= oracle_max_score(prompt) - 0.5);
    for (MistakeKind kind : kAllMistakeKinds) {
      ResponsePlan plan = clean;
      REQUIRE(
          inject_mistake(world, prompt, plan, kind, rng));  // every kind applies to a clean plan
      const std::string mistake = mistake_name(kind);
      CAPTURE(mistake);
      const std::string text = render_plan(plan);
      CAPTURE(text);
      CHECK(oracle_score(world, prompt.text, text) < clean_score);
    }
  }
}

TEST_CASE("mistakes are injected at their rates, independently") {
  Rng rng(13);
  ResponseOptions options;
  options.mistakes = {0.3, 0.1, 0.5, 0.2, 0.4};
  const int n = 20000;
  int counts[5] = {}, none = 0;
  for (int i = 0; i < n; ++i) {
    const TaskPrompt& prompt = world.prompts()[rng.uniform_int(world.prompts().size())];
    const auto mistakes = generate_response(world, prompt, options, rng).mistakes;
    for (MistakeKind kind : mistakes) ++counts[int(kind)];
    none += mistakes.empty();
  }
  // Repetition, off-topic and rude always apply; missing-fact always applies to a correct plan.
  for (MistakeKind kind : {MistakeKind::MissingFact, MistakeKind::Repetition, MistakeKind::OffTopic,
                           MistakeKind::Rude}) {
    const double p = options.mistakes.rate(kind);
    const std::string mistake = mistake_name(kind);
    CAPTURE(mistake);
    CHECK(std::abs(counts[int(kind)] / double(n) - p) < 4 * std::sqrt(p * (1 - p) / n));
  }
  // A wrong value needs a fact left to corrupt, so it can fall slightly below its rate.
  CHECK(counts[int(MistakeKind::WrongValue)] / double(n) <= 0.1 + 4 * std::sqrt(0.09 / n));
  CHECK(counts[int(MistakeKind::WrongValue)] / double(n) > 0.08);
  const double p_none = 0.7 * 0.5 * 0.8 * 0.6;  // (1 − rate) over the always-applicable kinds
  CHECK(none / double(n) < p_none);
}

TEST_CASE("preference labels follow Bradley–Terry: P(a ≻ b) = σ((s_a − s_b) / T)") {
  const TaskPrompt& prompt = world.find_prompt("what colour is the fox ?");
  const std::string good = "the fox is red .", bad = "the fox is grey .";  // scores 1 and −1
  for (double temperature : {0.5, 1.0, 2.0}) {
    Rng rng(14);
    const int n = 20000;
    int good_chosen = 0;
    for (int i = 0; i < n; ++i) {
      const PreferenceDraw draw = draw_preference(world, prompt, good, bad, temperature, rng);
      good_chosen += draw.a_chosen;
      CHECK(draw.chosen == (draw.a_chosen ? good : bad));
    }
    const double p = 1.0 / (1.0 + std::exp(-2.0 / temperature));
    CAPTURE(temperature);
    CHECK(std::abs(good_chosen / double(n) - p) < 4 * std::sqrt(p * (1 - p) / n));
  }
  CHECK_THROWS_WITH_AS(bradley_terry_probability(1, 0, 0),
                       doctest::Contains("temperature must be > 0"), Error);

  // Over the exported pairs: the number of pairs whose chosen response scores lower matches the
  // sum of the Bradley–Terry flip probabilities.
  TaskOptions options = small_options(15);
  options.preference_pairs = 3000;
  options.corpus_lines = options.sft_examples = 0;
  const TaskData data = make_task(options);
  double expected = 0, variance = 0;
  int flipped = 0;
  for (const PreferenceRecord& pair : data.preferences) {
    const double chosen = oracle_score(world, pair.prompt, pair.chosen);
    const double rejected = oracle_score(world, pair.prompt, pair.rejected);
    if (chosen == rejected) continue;
    const double p =
        1.0 / (1.0 + std::exp(std::abs(chosen - rejected) / options.preference_temperature));
    expected += p;
    variance += p * (1 - p);
    flipped += chosen < rejected;
  }
  CHECK(expected > 100);
  CHECK(std::abs(flipped - expected) < 4 * std::sqrt(variance));
}

TEST_CASE("write_task: same seed, same bytes; another seed, other data") {
  const fs::path a = scratch_dir("a"), b = scratch_dir("b"), c = scratch_dir("c");
  write_task(a, small_options(1));
  write_task(b, small_options(1));
  write_task(c, small_options(2));
  for (const char* file : kFiles) {
    const std::string name = file;
    CAPTURE(name);
    const std::string bytes = testing::read_file(a / file);
    CHECK(!bytes.empty());
    CHECK(bytes == testing::read_file(b / file));
    CHECK(bytes != testing::read_file(c / file));
  }
  fs::remove_all(a.parent_path());
}

TEST_CASE("write_task: files validate, hold the requested counts, and keep eval prompts out") {
  const fs::path dir = scratch_dir("full");
  const TaskOptions options;  // the defaults the demo uses
  const TaskData data = write_task(dir, options);

  const auto sft = read_jsonl<SftRecord>(dir / "sft.jsonl").records;
  const auto preferences = read_jsonl<PreferenceRecord>(dir / "preferences.jsonl").records;
  const auto revisions = read_jsonl<RevisionRecord>(dir / "revisions.jsonl").records;
  const auto train = read_jsonl<PromptRecord>(dir / "prompts_train.jsonl").records;
  const auto eval = read_jsonl<PromptRecord>(dir / "prompts_eval.jsonl").records;
  CHECK(sft == data.sft);
  CHECK(preferences == data.preferences);
  CHECK(revisions == data.revisions);
  CHECK(int64_t(sft.size()) == options.sft_examples);
  CHECK(int64_t(preferences.size()) == options.preference_pairs);
  CHECK(int64_t(data.corpus.size()) == options.corpus_lines);
  CHECK(eval.size() == 82);
  CHECK(train.size() + eval.size() == world.prompts().size());
  const auto info = nlohmann::json::parse(testing::read_file(dir / "task.json"));
  CHECK(info["options"]["seed"] == options.seed);
  CHECK(info["counts"]["sft"] == options.sft_examples);

  std::set<std::string> train_set, eval_set;
  for (const auto& r : train) train_set.insert(r.prompt);
  for (const auto& r : eval) eval_set.insert(r.prompt);
  for (const std::string& p : eval_set) CHECK(train_set.count(p) == 0);
  for (const auto& r : sft) CHECK(train_set.count(r.prompt) == 1);
  for (const auto& r : preferences) CHECK(train_set.count(r.prompt) == 1);
  for (const std::string& line : data.corpus)
    for (const std::string& p : eval_set) CHECK(line.rfind(p + " ", 0) != 0);

  // Revisions: the same pairs, each revision at the maximum, perfect rejected ones untouched.
  int unchanged = 0;
  for (std::size_t i = 0; i < revisions.size(); ++i) {
    const RevisionRecord& r = revisions[i];
    CHECK(PreferenceRecord{r.prompt, r.chosen, r.rejected} == preferences[i]);
    CHECK(r.chosen != r.rejected);
    const double best = oracle_max_score(world.find_prompt(r.prompt));
    CHECK(oracle_score(world, r.prompt, r.revised) == best);
    if (oracle_score(world, r.prompt, r.rejected) == best) CHECK(r.revised == r.rejected);
    unchanged += r.revised == r.rejected;
  }
  CHECK(unchanged < int(revisions.size()) / 4);  // most revisions carry edits

  // Every word of the fine-tuning data also occurs in the pretraining corpus.
  std::set<std::string> corpus_words;
  for (const std::string& line : data.corpus)
    for (const std::string& w : split_words(line)) corpus_words.insert(w);
  std::set<std::string> used;
  for (const auto& r : revisions)
    for (const std::string* text : {&r.prompt, &r.chosen, &r.rejected, &r.revised})
      for (const std::string& w : split_words(*text)) used.insert(w);
  for (const auto& r : sft)
    for (const std::string& w : split_words(r.response)) used.insert(w);
  for (const std::string& w : used) CHECK(corpus_words.count(w) == 1);
  fs::remove_all(dir.parent_path());
}

TEST_CASE("TaskOptions are checked before anything is drawn") {
  TaskOptions options;
  options.eval_fraction = 1.0;
  CHECK_THROWS_WITH_AS(make_task(options),
                       doctest::Contains("eval_fraction must be in (0, 1), found 1"), Error);
  options = TaskOptions{};
  options.responses.mistakes.rude = 1.5;
  CHECK_THROWS_WITH_AS(make_task(options), doctest::Contains("rude must be in [0, 1], found 1.5"),
                       Error);
  options = TaskOptions{};
  options.sft_examples = -1;
  CHECK_THROWS_WITH_AS(make_task(options), doctest::Contains("counts must be ≥ 0"), Error);
}
