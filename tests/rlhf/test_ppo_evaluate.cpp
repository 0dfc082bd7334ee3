// Tests for rlhf/evaluate.hpp: a policy identical to the reference has KL 0 and wins exactly half
// (every pair ties); a different policy's summary is consistent with its samples, each scored by
// the oracle; the repetition rule on hand-made cases; JSON and terminal summaries; errors.
#include "support/testing.hpp"

#include <tlcr/rlhf/task/evaluate.hpp>
#include <tlcr/text/bpe_train.hpp>

using namespace tlcr;

namespace {

// A small BPE over the task's own words and prompts, with BOS / EOS / PAD.
const BpeTokenizer& task_tokenizer() {
  static const BpeTokenizer tokenizer = [] {
    std::vector<std::string> texts;
    for (const std::string& word : task::task_world().vocabulary()) texts.push_back(" " + word);
    for (const task::TaskPrompt& p : task::task_world().prompts()) texts.push_back(p.text);
    BpeTrainOptions options;
    options.vocab_size = 256 + 48 + 3;
    return train_bpe(texts, options);
  }();
  return tokenizer;
}

Gpt2<float> tiny_task_model(uint64_t seed) {
  return Gpt2<float>(TransformerConfig::gpt2(task_tokenizer().vocab_size(), 64, 1, 2, 16), {},
                     seed);
}

std::vector<std::string> some_prompts(std::size_t count) {
  std::vector<std::string> prompts;
  for (std::size_t i = 0; i < count; ++i)
    prompts.push_back(task::task_world().prompts()[i * 37].text);
  return prompts;
}

EvalOptions quick_options() {
  EvalOptions o;
  o.max_new_tokens = 10;
  o.batch_size = 5;  // several generation batches
  o.seed = 4;
  return o;
}

}  // namespace

TEST_CASE("a policy identical to the reference: KL exactly 0, every pair ties, win rate ½") {
  const Gpt2<float> policy = tiny_task_model(2), reference = tiny_task_model(2);
  const EvalResult r = evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{},
                                       some_prompts(12), quick_options());
  CHECK(r.prompts == 12);
  CHECK(r.mean_kl == 0.0);
  CHECK(r.win_rate == 0.5);
  CHECK(r.mean_score == r.mean_reference_score);
  for (const EvalSample& s : r.samples) CHECK(s.response == s.reference_response);
}

TEST_CASE("a different policy: the summary agrees with its samples, each scored by the oracle") {
  const Gpt2<float> policy = tiny_task_model(3), reference = tiny_task_model(2);
  const std::vector<std::string> prompts = some_prompts(11);
  const EvalOptions options = quick_options();
  const EvalResult r =
      evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{}, prompts, options);
  REQUIRE(r.samples.size() == prompts.size());
  double wins = 0, length = 0, kl = 0, repetitive = 0, best = 0;
  for (std::size_t i = 0; i < r.samples.size(); ++i) {
    const EvalSample& s = r.samples[i];
    CHECK(s.prompt == prompts[i]);
    CHECK(s.score == task::oracle_score(task::task_world(), s.prompt, s.response));
    CHECK(s.reference_score ==
          task::oracle_score(task::task_world(), s.prompt, s.reference_response));
    CHECK(s.max_score == task::oracle_max_score(task::task_world().find_prompt(s.prompt)));
    CHECK(s.kl > 0.0);
    CHECK(s.length <= options.max_new_tokens);
    wins += s.score > s.reference_score ? 1.0 : s.score == s.reference_score ? 0.5 : 0.0;
    length += double(s.length), kl += s.kl, repetitive += s.repetitive, best += s.max_score;
  }
  const double n = double(prompts.size());
  CHECK(r.win_rate == doctest::Approx(wins / n));
  CHECK(r.mean_length == doctest::Approx(length / n));
  CHECK(r.mean_kl == doctest::Approx(kl / n));
  CHECK(r.repetition_rate == doctest::Approx(repetitive / n));
  CHECK(r.mean_max_score == doctest::Approx(best / n));
  // The same seed reproduces the evaluation.
  const EvalResult again =
      evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{}, prompts, options);
  CHECK(to_json(again) == to_json(r));

  const nlohmann::json j = to_json(r);
  for (const char* key :
       {"mean_score", "std_score", "mean_kl", "win_rate", "mean_length", "repetition_rate"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["samples"].size() == prompts.size());
  const std::string summary = format_eval_summary(r);
  CHECK(summary.find("win rate") != std::string::npos);
  CHECK(summary.find("KL to reference") != std::string::npos);
}

TEST_CASE("the repetition rule: a word three times in a row, or a repeated run of n tokens") {
  using Words = std::vector<std::string>;
  using Ids = std::vector<int32_t>;
  CHECK(is_repetitive(Words{"the", "fox", "fox", "fox"}, Ids{}, 6));
  CHECK_FALSE(is_repetitive(Words{"the", "fox", "fox", "is", "fox"}, Ids{}, 6));
  CHECK(is_repetitive(Words{}, Ids{1, 2, 3, 9, 1, 2, 3}, 3));
  CHECK_FALSE(is_repetitive(Words{}, Ids{1, 2, 3, 9, 1, 2, 4}, 3));
  CHECK(is_repetitive(Words{}, Ids{4, 4, 4, 4}, 3));              // overlapping runs count
  CHECK_FALSE(is_repetitive(Words{}, Ids{1, 2, 3, 1, 2, 3}, 0));  // n = 0: words only
}

TEST_CASE("evaluate_policy reports what it cannot evaluate") {
  const Gpt2<float> policy = tiny_task_model(3), reference = tiny_task_model(2);
  CHECK_THROWS_WITH_AS(
      evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{}, {}, quick_options()),
      doctest::Contains("no prompts"), Error);
  CHECK_THROWS_WITH_AS(evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{},
                                       {"what is the capital of france ?"}, quick_options()),
                       doctest::Contains("expected one of the built-in task's"), Error);
  const Gpt2<float> other(TransformerConfig::gpt2(task_tokenizer().vocab_size() + 1, 64, 1, 2, 16),
                          {}, 1);
  CHECK_THROWS_WITH_AS(evaluate_policy(policy, other, task_tokenizer(), ChatFormat{},
                                       some_prompts(2), quick_options()),
                       doctest::Contains("vocabularies differ"), Error);
}
