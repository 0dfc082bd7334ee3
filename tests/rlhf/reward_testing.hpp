// tests/rlhf/reward_testing.hpp — helpers shared by the reward-stack tests: a small built-in task
// with a tokenizer trained on it, tiny models, a scratch folder.
#pragma once

#include <doctest/doctest.h>
#include <tlcr/rlhf/task.hpp>
#include <tlcr/text/bpe_train.hpp>
#include <tlcr/text/chat.hpp>

#include <unistd.h>
#include <filesystem>
#include <string>
#include <vector>

namespace tlcr::testing {

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

// A fresh, empty folder under the system temp folder, removed on destruction.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("tlcr_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace tlcr::testing
