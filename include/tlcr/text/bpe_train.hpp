// tlcr/text/bpe_train.hpp — learn a byte-level BPE vocabulary from text.
//
// The corpus is split into pre-token pieces ("words"), which are counted. Ids 0–255 are the single
// bytes; each training step merges the most frequent adjacent pair of tokens inside words into a
// new token (id 256, 257, ...), until the vocabulary reaches the requested size or no pair occurs
// min_pair_count times. Special tokens take the ids after the last token.
//
// Tie rule (documented, so training is deterministic): among pairs with equal counts the pair
// with the smaller (left id, right id) wins. Word order never matters.
//
// Speed: pair counts are updated incrementally. Merging (a, b) visits only the words that contain
// it (an index from pair to words), subtracts those words' old pair counts and adds their new
// ones; a max-heap with lazy deletion finds the next best pair. A few MB of text to 4096 tokens
// takes seconds.
// Not here: encoding (bpe.hpp), saving (tokenizer_json.hpp, io/tokenizer_file.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tlcr/config.hpp"
#include "tlcr/text/bpe.hpp"

namespace tlcr {

struct BpeTrainOptions {
  // Final vocabulary size: 256 byte tokens + merges + special tokens.
  TokenId vocab_size = 4096;
  Pretokenizer pretokenizer = Pretokenizer::gpt2;
  // Stop early once the most frequent pair occurs fewer times than this.
  std::int64_t min_pair_count = 2;
  // Role tokens ("" = none) and any further special tokens, in id order after the merges.
  std::string bos = "<|bos|>";
  std::string eos = "<|eos|>";
  std::string pad = "<|pad|>";
  std::vector<std::string> extra_special_tokens;
};

// Collects word counts from any number of texts, then trains. Texts need not be kept in memory.
class BpeTrainer {
 public:
  explicit BpeTrainer(BpeTrainOptions options = {}) : options_(std::move(options)) {}

  void add_text(std::string_view text) {
    for_each_pretoken(text, options_.pretokenizer, [&](std::string_view word) {
      const auto it = word_counts_.find(word);
      if (it != word_counts_.end()) {
        ++it->second;
      } else {
        word_counts_.emplace(std::string(word), 1);
      }
    });
  }

  void add_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    TLCR_CHECK(in.good(), "BpeTrainer: cannot read training file '", path.string(), "'");
    std::ostringstream contents;
    contents << in.rdbuf();
    add_text(contents.str());
  }

  // Number of distinct pre-token pieces seen so far.
  std::size_t distinct_words() const { return word_counts_.size(); }

  BpeTokenizer train() const;

 private:
  BpeTrainOptions options_;
  std::unordered_map<std::string, std::int64_t, detail::StringHash, std::equal_to<>> word_counts_;
};

namespace detail {

// The training state: words as token sequences, pair counts, and which words hold each pair.
class PairMerger {
 public:
  struct Word {
    std::vector<TokenId> symbols;
    std::int64_t count;
  };

  explicit PairMerger(std::vector<Word> words) : words_(std::move(words)) {
    for (std::uint32_t w = 0; w < words_.size(); ++w) {
      const Word& word = words_[w];
      for (std::size_t i = 0; i + 1 < word.symbols.size(); ++i) {
        const std::uint64_t pair = pair_key(word.symbols[i], word.symbols[i + 1]);
        pair_counts_[pair] += word.count;
        words_with_pair_[pair].push_back(w);
      }
    }
    for (const auto& [pair, count] : pair_counts_) heap_.push({count, pair});
  }

  // The most frequent pair (ties: smallest key) with its count; count 0 when none is left.
  std::pair<std::uint64_t, std::int64_t> best_pair() {
    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      const auto it = pair_counts_.find(top.pair);
      if (it != pair_counts_.end() && it->second == top.count) return {top.pair, top.count};
      heap_.pop();  // stale: the pair's count changed after this entry was pushed
    }
    return {0, 0};
  }

  // Replaces every occurrence of `pair` (left to right, not overlapping) with `merged`.
  void merge(std::uint64_t pair, TokenId merged) {
    const TokenId left = TokenId(pair >> 32), right = TokenId(pair & 0xFFFFFFFFu);
    std::vector<std::uint32_t> word_ids = std::move(words_with_pair_[pair]);
    words_with_pair_.erase(pair);
    std::sort(word_ids.begin(), word_ids.end());
    word_ids.erase(std::unique(word_ids.begin(), word_ids.end()), word_ids.end());

    std::map<std::uint64_t, std::int64_t> count_changes;  // ordered: deterministic heap pushes
    for (const std::uint32_t w : word_ids) {
      Word& word = words_[w];
      std::vector<TokenId>& symbols = word.symbols;
      if (!contains_pair(symbols, left, right)) continue;  // index entries may be stale
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
        count_changes[pair_key(symbols[i], symbols[i + 1])] -= word.count;
      std::size_t out = 0;
      for (std::size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
          symbols[out++] = merged;
          ++i;
        } else {
          symbols[out++] = symbols[i];
        }
      }
      symbols.resize(out);
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
        const std::uint64_t new_pair = pair_key(symbols[i], symbols[i + 1]);
        count_changes[new_pair] += word.count;
        if (symbols[i] == merged || symbols[i + 1] == merged)
          words_with_pair_[new_pair].push_back(w);
      }
    }
    for (const auto& [changed_pair, change] : count_changes) {
      if (change == 0) continue;
      const std::int64_t count = (pair_counts_[changed_pair] += change);
      if (count == 0) {
        pair_counts_.erase(changed_pair);
      } else {
        heap_.push({count, changed_pair});
      }
    }
  }

 private:
  struct HeapEntry {
    std::int64_t count;
    std::uint64_t pair;
    // std::priority_queue pops the largest: higher count first, then the smaller pair key.
    bool operator<(const HeapEntry& other) const {
      return count != other.count ? count < other.count : pair > other.pair;
    }
  };

  static bool contains_pair(const std::vector<TokenId>& symbols, TokenId left, TokenId right) {
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
      if (symbols[i] == left && symbols[i + 1] == right) return true;
    return false;
  }

  std::vector<Word> words_;
  std::unordered_map<std::uint64_t, std::int64_t> pair_counts_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> words_with_pair_;
  std::priority_queue<HeapEntry> heap_;
};

}  // namespace detail

inline BpeTokenizer BpeTrainer::train() const {
  // Special tokens in order bos, eos, pad, extras; a text named twice (bos == eos) gets one id.
  std::vector<std::string> special_texts;
  const auto add_special = [&](const std::string& text) {
    if (!text.empty() &&
        std::find(special_texts.begin(), special_texts.end(), text) == special_texts.end())
      special_texts.push_back(text);
  };
  for (const std::string* role : {&options_.bos, &options_.eos, &options_.pad}) add_special(*role);
  for (const std::string& extra : options_.extra_special_tokens) {
    TLCR_CHECK(!extra.empty(), "BpeTrainer: extra special tokens must not be empty");
    add_special(extra);
  }
  const TokenId smallest = 256 + TokenId(special_texts.size());
  if (options_.vocab_size < smallest)
    detail::fail("BpeTrainer: vocab_size ", options_.vocab_size, " is too small: the 256 byte ",
                 "tokens and ", special_texts.size(), " special tokens need at least ", smallest);
  TLCR_CHECK(options_.min_pair_count >= 1, "BpeTrainer: min_pair_count must be at least 1, got ",
             options_.min_pair_count);

  // Words in byte order, so that nothing depends on hash-table iteration order.
  std::vector<std::pair<std::string_view, std::int64_t>> sorted_words(word_counts_.begin(),
                                                                      word_counts_.end());
  std::sort(sorted_words.begin(), sorted_words.end());
  std::vector<detail::PairMerger::Word> words;
  words.reserve(sorted_words.size());
  for (const auto& [text, count] : sorted_words) {
    detail::PairMerger::Word word{{}, count};
    for (const char byte : text) word.symbols.push_back(TokenId(std::uint8_t(byte)));
    words.push_back(std::move(word));
  }

  BpeSpec spec;
  spec.pretokenizer = options_.pretokenizer;
  spec.ranking = MergeRanking::merge_list;
  for (int byte = 0; byte < 256; ++byte) spec.tokens.emplace_back(std::string(1, char(byte)));

  // A merge usually makes a new token; rarely its bytes already exist (reached by another split),
  // and then the pair merges into that token and the vocabulary does not grow.
  std::unordered_map<std::string, TokenId> id_by_bytes;
  for (int byte = 0; byte < 256; ++byte) id_by_bytes.emplace(*spec.tokens[byte], byte);
  detail::PairMerger merger(std::move(words));
  const TokenId ordinary_tokens = options_.vocab_size - TokenId(special_texts.size());
  while (TokenId(spec.tokens.size()) < ordinary_tokens) {
    const auto [pair, count] = merger.best_pair();
    if (count < options_.min_pair_count) break;
    const TokenId left = TokenId(pair >> 32), right = TokenId(pair & 0xFFFFFFFFu);
    std::string joined = *spec.tokens[left] + *spec.tokens[right];
    const auto [it, is_new] = id_by_bytes.emplace(joined, TokenId(spec.tokens.size()));
    if (is_new) spec.tokens.emplace_back(std::move(joined));
    spec.merges.emplace_back(left, right);
    merger.merge(pair, it->second);
  }

  for (const std::string& text : special_texts)
    spec.special_tokens.push_back({text, TokenId(spec.tokens.size() + spec.special_tokens.size())});
  spec.bos = options_.bos;
  spec.eos = options_.eos;
  spec.pad = options_.pad;
  return BpeTokenizer(std::move(spec));
}

// Convenience: train on in-memory texts.
inline BpeTokenizer train_bpe(std::span<const std::string> texts,
                              const BpeTrainOptions& options = {}) {
  BpeTrainer trainer(options);
  for (const std::string& text : texts) trainer.add_text(text);
  return trainer.train();
}

}  // namespace tlcr
