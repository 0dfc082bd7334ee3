// tests/rlhf/reward_testing.hpp — helpers shared by the reward-stack tests: a small built-in task
// with a tokenizer trained on it, tiny models, a scratch folder.
#pragma once

#include "support/testing.hpp"
#include <tlcr/rlhf/task.hpp>
#include <tlcr/text/bpe_train.hpp>
#include <tlcr/text/chat.hpp>

#include <unistd.h>
#include <filesystem>
#include <string>
#include <vector>

namespace tlcr::testing {

// The built-in task's world (entities, facts, prompts), built once per process.
inline const task::TaskWorld& world = task::task_world();

// The built-in task at a small size, and a byte-level BPE tokenizer trained on its text (most
// words become single tokens; BOS, EOS and PAD exist).
struct SmallTask {
  task::TaskData data;
  BpeTokenizer tokenizer;
};

inline SmallTask make_small_task(int64_t pairs, uint64_t seed = 2024,
                                 double preference_temperature = 1.0) {
  task::TaskOptions options;
  options.seed = seed;
  options.corpus_lines = 400;
  options.sft_examples = 0;
  options.preference_pairs = pairs;
  options.preference_temperature = preference_temperature;
  task::TaskData data = task::make_task(options);
  std::vector<std::string> texts = data.corpus;
  const ChatFormat format;
  for (const RevisionRecord& r : data.revisions) {
    texts.push_back(format.prompt_text(r.prompt));
    texts.push_back(r.revised);
  }
  BpeTrainOptions bpe;
  bpe.vocab_size = 512;
  BpeTokenizer tokenizer = train_bpe(texts, bpe);
  return {std::move(data), std::move(tokenizer)};
}


}  // namespace tlcr::testing
