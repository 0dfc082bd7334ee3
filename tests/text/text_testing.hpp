// tests/text/text_testing.hpp — helpers shared by the text/ tests: random text and bytes, a small
// trained tokenizer, a scratch folder.
#pragma once

#include "support/testing.hpp"
#include <tlcr/core/rng.hpp>
#include <tlcr/text/bpe_train.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tlcr::testing {

// Words (English, a few other scripts, numbers, punctuation, emoji) to build random text from.
inline const std::vector<std::string>& sample_words() {
  static const std::vector<std::string> words = {
      "the",     "a",      "and",    "of",      "to",     "is",    "was",      "it's",  "don't",
      "we'll",   "I",      "you",    "model",   "reward", "token", "policy",   "value", "learns",
      "quickly", "slowly", "good",   "bad",     "answer", "human", "Human",    "THE",   "Reward",
      "42",      "2024",   "3.14",   "1000000", ",",      ".",     "!",        "?",     "...",
      "(",       ")",      "\"",     "-",       "\n",     "\n\n",  "  ",       "\t",    "Привет",
      "мир",     "中文",   "日本語", "café",    "naïve",  "😀",     "👍🏽", "€5",    "x**2"};
  return words;
}

// Roughly `word_count` random words joined by single spaces.
inline std::string random_text(Rng& rng, int word_count) {
  const auto& words = sample_words();
  std::string text;
  for (int i = 0; i < word_count; ++i) {
    if (i > 0) text += ' ';
    text += words[rng.uniform_int(words.size())];
  }
  return text;
}

// `length` uniformly random bytes: mostly invalid UTF-8.
inline std::string random_bytes(Rng& rng, std::size_t length) {
  std::string bytes(length, '\0');
  for (char& byte : bytes) byte = static_cast<char>(rng.uniform_int(256));
  return bytes;
}

// A tokenizer trained on a fixed random corpus (deterministic), with BOS/EOS/PAD.
inline const BpeTokenizer& small_tokenizer() {
  static const BpeTokenizer tokenizer = [] {
    Rng rng(2024);
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) texts.push_back(random_text(rng, 60));
    BpeTrainOptions options;
    options.vocab_size = 400;
    return train_bpe(texts, options);
  }();
  return tokenizer;
}


// Expected exception messages built at run time (doctest's macros take C strings).
inline doctest::String message(const std::string& text) {
  return doctest::String(text.c_str());
}
inline doctest::Contains contains(const std::string& text) {
  return doctest::Contains(text.c_str());
}

}  // namespace tlcr::testing
