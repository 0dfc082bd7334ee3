// Tests for rlhf/evaluate.hpp: a policy identical to the reference has KL 0 and wins exactly half
// (every pair ties); a different policy's summary is consistent with its samples, each scored by
// the oracle; the repetition rule on hand-made cases; JSON and terminal summaries; errors.
#include "support/testing.hpp"

#include <tlcr/rlhf/external_scorer.hpp>
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

// ---- any prompts: no oracle, or a user's scorer (rlhf/evaluate.hpp, rlhf/external_scorer.hpp) --

TEST_CASE("without a scorer: KL three ways, length, repetition and distinct-n, on any prompts") {
  const Gpt2<float> policy = tiny_task_model(3), reference = tiny_task_model(2);
  const std::vector<std::string> prompts = {"what is the capital of france ?", "say something",
                                            "a prompt of the user's own"};
  const EvalResult r =
      evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{}, prompts, quick_options(),
                      static_cast<const ResponseScorer*>(nullptr));
  CHECK_FALSE(r.scored());
  REQUIRE(r.samples.size() == 3);
  double k3 = 0;
  for (const EvalSample& s : r.samples) {
    CHECK(s.kl > 0.0);
    CHECK(s.kl_k3 >= 0.0);  // each term (r − 1) − log r is ≥ 0
    k3 += s.kl_k3;
  }
  CHECK(r.mean_kl_k3 == doctest::Approx(k3 / 3));
  CHECK(r.distinct_1 > 0.0);
  const nlohmann::json j = to_json(r);
  CHECK_FALSE(j.contains("mean_score"));
  CHECK(j.contains("mean_kl_k1"));
  CHECK(format_eval_summary(r).find("win rate") == std::string::npos);

  // Identical models: every KL is 0 up to the float noise between sampling and a full forward.
  const EvalResult same =
      evaluate_policy(reference, reference, task_tokenizer(), ChatFormat{}, prompts,
                      quick_options(), static_cast<const ResponseScorer*>(nullptr));
  for (const EvalSample& s : same.samples) {
    CHECK(s.kl == 0.0);
    CHECK(std::abs(s.kl_k1) < 1e-4);
    CHECK(std::abs(s.kl_k3) < 1e-6);
  }
}

TEST_CASE("distinct-n: distinct word n-grams over all n-grams, hand-checked") {
  CHECK(distinct_n({"a b a b", "a c"}, 1) == doctest::Approx(3.0 / 6.0));
  CHECK(distinct_n({"a b a b", "a c"}, 2) == doctest::Approx(3.0 / 4.0));  // ab ba ab | ac
  CHECK(distinct_n({"", "x"}, 2) == 0.0);
}

TEST_CASE("an external scorer: JSONL in, one number per line out, errors named") {
  const Gpt2<float> policy = tiny_task_model(3), reference = tiny_task_model(2);
  const std::vector<std::string> prompts = {"first prompt", "second prompt", "third prompt"};
  // Scores the line number: policy and reference responses get 1, 2, 3 alike, so all tie.
  const ResponseScorer by_line = external_scorer("awk '{print NR}'");
  const EvalResult r = evaluate_policy(policy, reference, task_tokenizer(), ChatFormat{}, prompts,
                                       quick_options(), &by_line);
  CHECK(r.scorer == "awk '{print NR}'");
  CHECK(r.samples[2].score == 3.0);
  CHECK(r.mean_score == doctest::Approx(2.0));
  CHECK(r.win_rate == 0.5);
  // The scorer sees the prompt and response as JSON: score the length of the prompt field.
  const ResponseScorer prompt_length =
      external_scorer("sed -e 's/^{\"prompt\":\"\\([^\"]*\\)\".*/\\1/' | awk '{print length($0)}'");
  const std::vector<double> lengths = prompt_length.score({"abc", "hello there"}, {"x", "y"});
  CHECK(lengths == std::vector<double>{3.0, 11.0});

  CHECK_THROWS_WITH_AS(external_scorer("exit 3").score({"p"}, {"r"}),
                       doctest::Contains("scorer 'exit 3' failed (exit status 3)"), Error);
  CHECK_THROWS_WITH_AS(external_scorer("echo 1; echo 2").score({"p"}, {"r"}),
                       "scorer 'echo 1; echo 2': expected 1 scores (one per input line), found 2",
                       Error);
  CHECK_THROWS_WITH_AS(external_scorer("echo good").score({"p"}, {"r"}),
                       "scorer 'echo good': line 1 of its output: expected a number, found 'good'",
                       Error);
}
