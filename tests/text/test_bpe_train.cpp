// Tests for text/bpe_train.hpp: merges on hand-made corpora (counts, the tie rule, overlapping
// pairs), the incremental trainer against a naive full-recount trainer, determinism, special
// tokens, and option errors.
#include <doctest/doctest.h>
#include <tlcr/text/bpe_train.hpp>

#include "text_testing.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace tlcr;
using Merges = std::vector<std::pair<TokenId, TokenId>>;

namespace {

// The textbook trainer: recount every pair before each merge. Slow, obviously right.
BpeSpec naive_train(const std::vector<std::string>& texts, TokenId ordinary_tokens,
                    std::int64_t min_pair_count, Pretokenizer kind) {
  std::map<std::string, std::int64_t> counts;
  for (const std::string& text : texts)
    for (std::string_view word : pretokenize(text, kind)) ++counts[std::string(word)];
  std::vector<std::pair<std::vector<TokenId>, std::int64_t>> words;
  for (const auto& [text, count] : counts) {
    std::vector<TokenId> symbols;
    for (char byte : text) symbols.push_back(TokenId(std::uint8_t(byte)));
    words.emplace_back(symbols, count);
  }
  BpeSpec spec;
  std::map<std::string, TokenId> id_by_bytes;
  for (int byte = 0; byte < 256; ++byte) {
    spec.tokens.emplace_back(std::string(1, char(byte)));
    id_by_bytes[std::string(1, char(byte))] = byte;
  }
  while (TokenId(spec.tokens.size()) < ordinary_tokens) {
    std::map<std::pair<TokenId, TokenId>, std::int64_t> pair_counts;
    for (const auto& [symbols, count] : words)
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
        pair_counts[{symbols[i], symbols[i + 1]}] += count;
    std::pair<TokenId, TokenId> best{};
    std::int64_t best_count = 0;
    for (const auto& [pair, count] : pair_counts)  // ascending pairs: '>' keeps the smallest
      if (count > best_count) best = pair, best_count = count;
    if (best_count < min_pair_count) break;
    const std::string joined = *spec.tokens[best.first] + *spec.tokens[best.second];
    if (!id_by_bytes.count(joined)) {
      id_by_bytes[joined] = TokenId(spec.tokens.size());
      spec.tokens.emplace_back(joined);
    }
    spec.merges.push_back(best);
    for (auto& [symbols, count] : words) {
      std::vector<TokenId> merged;
      for (std::size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && std::pair{symbols[i], symbols[i + 1]} == best) {
          merged.push_back(id_by_bytes[joined]);
          ++i;
        } else {
          merged.push_back(symbols[i]);
        }
      }
      symbols = merged;
    }
  }
  return spec;
}

BpeTrainOptions options_with(TokenId vocab_size, std::int64_t min_pair_count = 2) {
  BpeTrainOptions options;
  options.vocab_size = vocab_size;
  options.min_pair_count = min_pair_count;
  return options;
}

}  // namespace

TEST_CASE("the most frequent pair merges first; equal counts go to the smaller (left, right)") {
  // (c,d) occurs 3 times, (a,b) and (x,y) twice each: cd, then ab (97,98 < 120,121), then xy.
  const std::vector<std::string> texts = {"ab", "cd", "cd", "xy", "ab", "cd", "xy"};
  const BpeTokenizer tokenizer = train_bpe(texts, options_with(300));
  const BpeSpec& spec = tokenizer.spec();
  CHECK(spec.merges == Merges{{'c', 'd'}, {'a', 'b'}, {'x', 'y'}});
  CHECK(spec.tokens.size() == 259);
  CHECK(*spec.tokens[256] == "cd");
  CHECK(*spec.tokens[257] == "ab");
  CHECK(*spec.tokens[258] == "xy");
  // Training stopped early (no pair left twice), and the special tokens follow the last token.
  CHECK(tokenizer.vocab_size() == 262);
  CHECK(tokenizer.bos_id() == 259);
  CHECK(tokenizer.eos_id() == 260);
  CHECK(tokenizer.pad_id() == 261);
  CHECK(tokenizer.encode("abcdxy") == std::vector<TokenId>{257, 256, 258});
}

TEST_CASE("overlapping pairs merge left to right, without overlap") {
  // "aaaa" twice: (a,a) is counted 3 times per word, merges into [aa, aa], then (aa, aa).
  const BpeTokenizer tokenizer =
      train_bpe(std::vector<std::string>{"aaaa", "aaaa"}, options_with(300));
  CHECK(tokenizer.spec().merges == Merges{{'a', 'a'}, {256, 256}});
  CHECK(tokenizer.encode("aaaa") == std::vector<TokenId>{257});
  CHECK(tokenizer.encode("aaaaa") == std::vector<TokenId>{257, 'a'});
  CHECK(tokenizer.encode("aaa") == std::vector<TokenId>{256, 'a'});
}

TEST_CASE("incremental pair counting gives the same merges as full recounting") {
  Rng rng(17);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<std::string> texts;
    const int text_count = 5 + int(rng.uniform_int(20));
    for (int i = 0; i < text_count; ++i)
      texts.push_back(i % 4 == 3 ? testing::random_bytes(rng, rng.uniform_int(100))
                                 : testing::random_text(rng, int(rng.uniform_int(40))));
    const Pretokenizer kind = trial % 2 == 0 ? Pretokenizer::gpt2 : Pretokenizer::cl100k;
    const std::int64_t min_pair_count = 1 + std::int64_t(rng.uniform_int(3));
    BpeTrainOptions options = options_with(256 + 3 + TokenId(rng.uniform_int(250)), min_pair_count);
    options.pretokenizer = kind;
    CAPTURE(trial);
    const BpeSpec fast = train_bpe(texts, options).spec();
    const BpeSpec naive = naive_train(texts, options.vocab_size - 3, min_pair_count, kind);
    CHECK(fast.merges == naive.merges);
    CHECK(fast.tokens == naive.tokens);
  }
}

TEST_CASE("training is deterministic and independent of text order") {
  Rng rng(23);
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back(testing::random_text(rng, 30));
  const BpeTrainOptions options = options_with(350);
  const BpeSpec first = train_bpe(texts, options).spec();
  const BpeSpec again = train_bpe(texts, options).spec();
  std::reverse(texts.begin(), texts.end());
  const BpeSpec reversed = train_bpe(texts, options).spec();
  CHECK(first.tokens.size() == 347);  // the requested size was reached
  CHECK(first.merges == again.merges);
  CHECK(first.tokens == again.tokens);
  CHECK(first.merges == reversed.merges);
  CHECK(first.tokens == reversed.tokens);
}

TEST_CASE("special token options: roles, extras, a text named twice") {
  BpeTrainOptions options = options_with(300);
  options.bos = options.eos = "<|endoftext|>";
  options.pad = "";
  options.extra_special_tokens = {"<|sep|>"};
  const BpeTokenizer tokenizer = train_bpe(std::vector<std::string>{"ab", "ab"}, options);
  // 256 bytes + "ab" = 257 ordinary tokens, then <|endoftext|> (BOS and EOS), then <|sep|>.
  CHECK(tokenizer.vocab_size() == 259);
  CHECK(tokenizer.bos_id() == 257);
  CHECK(tokenizer.eos_id() == 257);
  CHECK_FALSE(tokenizer.has_pad());
  CHECK(tokenizer.special_token_id("<|sep|>") == 258);
}

TEST_CASE("add_file reads a training file; add_text and add_file agree") {
  const testing::ScratchDir dir("bpe_train");
  Rng rng(29);
  const std::string text = testing::random_text(rng, 500);
  BpeTrainer from_file(options_with(320));
  from_file.add_file(dir.write("corpus.txt", text));
  BpeTrainer from_text(options_with(320));
  from_text.add_text(text);
  CHECK(from_file.distinct_words() == from_text.distinct_words());
  CHECK(from_file.train().spec().merges == from_text.train().spec().merges);
  CHECK_THROWS_WITH_AS(from_file.add_file(dir.path / "missing.txt"),
                       doctest::Contains("BpeTrainer: cannot read training file '"), Error);
}

TEST_CASE("a larger corpus trains quickly and round-trips") {
  Rng rng(31);
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  while (bytes < 600'000) {
    texts.push_back(testing::random_text(rng, 200) + testing::random_bytes(rng, 8));
    bytes += texts.back().size();
  }
  const auto start = std::chrono::steady_clock::now();
  const BpeTokenizer tokenizer = train_bpe(texts, options_with(1024, 1));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("trained " << bytes << " bytes to " << tokenizer.vocab_size() << " tokens in " << seconds
                     << " s");
  for (int i = 0; i < 20; ++i) CHECK(tokenizer.decode(tokenizer.encode(texts[i])) == texts[i]);
}

TEST_CASE("bad options are rejected") {
  CHECK_THROWS_WITH_AS(BpeTrainer(options_with(200)).train(),
                       "BpeTrainer: vocab_size 200 is too small: the 256 byte tokens and 3 special "
                       "tokens need at least 259",
                       Error);
  CHECK_THROWS_WITH_AS(BpeTrainer(options_with(300, 0)).train(),
                       doctest::Contains("BpeTrainer: min_pair_count must be at least 1, got 0"),
                       Error);
  BpeTrainOptions empty_extra = options_with(300);
  empty_extra.extra_special_tokens = {""};
  CHECK_THROWS_WITH_AS(BpeTrainer(empty_extra).train(),
                       doctest::Contains("extra special tokens must not be empty"), Error);
}
