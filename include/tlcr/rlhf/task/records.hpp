// tlcr/rlhf/task/records.hpp — the built-in task's data set, made from a seed and written as files.
//
// make_task(options) draws everything from Rng(options.seed, stream): the train/eval split of the
// prompts (stream 1), pretraining lines (2), SFT demonstrations (3), preference pairs and their
// revisions (4). Separate streams keep each file stable when another file's count changes.
// write_task(dir, options) writes, each file atomically:
//   corpus.txt           pretraining text, one paragraph per line
//   sft.jsonl            {"prompt","response"}                     noisy demonstrations
//   preferences.jsonl    {"prompt","chosen","rejected"}            Bradley–Terry labelled pairs
//   revisions.jsonl      {"prompt","chosen","rejected","revised"}  the same pairs plus revisions
//   prompts_train.jsonl  {"prompt"}                                prompts for RL rollouts
//   prompts_eval.jsonl   {"prompt"}                                held-out prompts
//   task.json            the options used and the record counts
// Only training prompts appear in corpus.txt, sft.jsonl, preferences.jsonl and revisions.jsonl.
// Not here: the JSONL machinery (io/jsonl.hpp), the record types (train/sft_data.hpp,
// rlhf/records.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tlcr/core/rng.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/jsonl.hpp"
#include "tlcr/rlhf/records.hpp"
#include "tlcr/rlhf/task/generator.hpp"
#include "tlcr/rlhf/task/reviser.hpp"
#include "tlcr/rlhf/task/world.hpp"
#include "tlcr/train/sft_data.hpp"

namespace tlcr::task {

struct TaskOptions {
  uint64_t seed = 2024;
  int64_t corpus_lines = 6000;               // pretraining paragraphs
  double corpus_description_fraction = 0.5;  // share of them that describe an entity (all true)
  int64_t sft_examples = 4000;               // (prompt, response) demonstrations
  int64_t preference_pairs = 3000;           // pairs, each also revised
  double eval_fraction = 0.1;                // share of the prompts held out for evaluation
  double preference_temperature = 1.0;  // Bradley–Terry T: P(a ≻ b) = σ((s_a − s_b) / T)
  ResponseOptions responses;            // style and mistake rates of the demonstrator
};

struct TaskData {
  std::vector<std::string> corpus;
  std::vector<SftRecord> sft;
  std::vector<PreferenceRecord> preferences;
  std::vector<RevisionRecord> revisions;
  std::vector<PromptRecord> prompts_train, prompts_eval;
};

namespace detail {

inline void check_task_options(const TaskOptions& o) {
  auto rate = [](const char* name, double value) {
    TLCR_CHECK(value >= 0 && value <= 1, "TaskOptions: ", name, " must be in [0, 1], found ",
               value);
  };
  TLCR_CHECK(o.corpus_lines >= 0 && o.sft_examples >= 0 && o.preference_pairs >= 0,
             "TaskOptions: counts must be ≥ 0, found corpus_lines ", o.corpus_lines,
             ", sft_examples ", o.sft_examples, ", preference_pairs ", o.preference_pairs);
  TLCR_CHECK(o.eval_fraction > 0 && o.eval_fraction < 1,
             "TaskOptions: eval_fraction must be in (0, 1), found ", o.eval_fraction);
  TLCR_CHECK(o.preference_temperature > 0,
             "TaskOptions: preference_temperature must be > 0, found ", o.preference_temperature);
  rate("corpus_description_fraction", o.corpus_description_fraction);
  rate("opener_rate", o.responses.opener_rate);
  rate("extra_fact_rate", o.responses.extra_fact_rate);
  rate("polite_rate", o.responses.polite_rate);
  for (MistakeKind kind : kAllMistakeKinds)
    rate(mistake_name(kind), o.responses.mistakes.rate(kind));
}

inline nlohmann::ordered_json task_options_json(const TaskOptions& o) {
  nlohmann::ordered_json mistakes;
  for (MistakeKind kind : kAllMistakeKinds)
    mistakes[mistake_name(kind)] = o.responses.mistakes.rate(kind);
  return {{"seed", o.seed},
          {"corpus_lines", o.corpus_lines},
          {"corpus_description_fraction", o.corpus_description_fraction},
          {"sft_examples", o.sft_examples},
          {"preference_pairs", o.preference_pairs},
          {"eval_fraction", o.eval_fraction},
          {"preference_temperature", o.preference_temperature},
          {"opener_rate", o.responses.opener_rate},
          {"extra_fact_rate", o.responses.extra_fact_rate},
          {"polite_rate", o.responses.polite_rate},
          {"mistake_rates", mistakes}};
}

}  // namespace detail

inline TaskData make_task(const TaskOptions& options, const TaskWorld& world = task_world()) {
  detail::check_task_options(options);
  const auto& prompts = world.prompts();
  TaskData data;

  // Held-out prompts: a seeded shuffle, then both lists back in the world's order.
  std::vector<std::size_t> order(prompts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng split_rng(options.seed, 1);
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[split_rng.uniform_int(i)]);
  const std::size_t eval_count = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::llround(options.eval_fraction * double(prompts.size()))));
  std::vector<bool> is_eval(prompts.size(), false);
  for (std::size_t i = 0; i < eval_count; ++i) is_eval[order[i]] = true;
  std::vector<const TaskPrompt*> train;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    (is_eval[i] ? data.prompts_eval : data.prompts_train).push_back({prompts[i].text});
    if (!is_eval[i]) train.push_back(&prompts[i]);
  }

  Rng corpus_rng(options.seed, 2);
  for (int64_t i = 0; i < options.corpus_lines; ++i) {
    if (corpus_rng.uniform() < options.corpus_description_fraction) {
      const int entity = int(corpus_rng.uniform_int(world.entities().size()));
      data.corpus.push_back(describe_entity(world, entity, corpus_rng));
    } else {
      const TaskPrompt& prompt = *detail::pick(train, corpus_rng);
      data.corpus.push_back(prompt.text + " " +
                            generate_response(world, prompt, options.responses, corpus_rng).text);
    }
  }

  Rng sft_rng(options.seed, 3);
  for (int64_t i = 0; i < options.sft_examples; ++i) {
    const TaskPrompt& prompt = *detail::pick(train, sft_rng);
    data.sft.push_back(
        {prompt.text, generate_response(world, prompt, options.responses, sft_rng).text});
  }

  // Pairs of two different responses to the same prompt; identical pairs are redrawn.
  Rng pair_rng(options.seed, 4);
  int64_t attempts = 0;
  while (int64_t(data.preferences.size()) < options.preference_pairs) {
    TLCR_CHECK(++attempts <= 100 * options.preference_pairs + 100,
               "make_task: could not draw distinct response pairs (are all rates 0?)");
    const TaskPrompt& prompt = *detail::pick(train, pair_rng);
    const std::string a = generate_response(world, prompt, options.responses, pair_rng).text;
    const std::string b = generate_response(world, prompt, options.responses, pair_rng).text;
    if (a == b) continue;
    const PreferenceDraw draw =
        draw_preference(world, prompt, a, b, options.preference_temperature, pair_rng);
    data.preferences.push_back({prompt.text, draw.chosen, draw.rejected});
    data.revisions.push_back({prompt.text, draw.chosen, draw.rejected,
                              revise(world, prompt, draw.chosen, draw.rejected)});
  }
  return data;
}

// Writes the task's files into `directory` (created if needed) and returns the data written.
inline TaskData write_task(const std::filesystem::path& directory, const TaskOptions& options,
                           const TaskWorld& world = task_world()) {
  TaskData data = make_task(options, world);
  std::string corpus;
  for (const std::string& line : data.corpus) corpus += line + "\n";
  write_file_atomically(directory / "corpus.txt", corpus);
  write_jsonl(directory / "sft.jsonl", data.sft);
  write_jsonl(directory / "preferences.jsonl", data.preferences);
  write_jsonl(directory / "revisions.jsonl", data.revisions);
  write_jsonl(directory / "prompts_train.jsonl", data.prompts_train);
  write_jsonl(directory / "prompts_eval.jsonl", data.prompts_eval);
  nlohmann::ordered_json info = {{"task", "tlcr built-in assistant task"},
                                 {"options", detail::task_options_json(options)},
                                 {"counts",
                                  {{"corpus_lines", data.corpus.size()},
                                   {"sft", data.sft.size()},
                                   {"preferences", data.preferences.size()},
                                   {"prompts_train", data.prompts_train.size()},
                                   {"prompts_eval", data.prompts_eval.size()}}}};
  write_file_atomically(directory / "task.json", info.dump(2) + "\n");
  return data;
}

}  // namespace tlcr::task
