// Tests for text/pretokenizer.hpp: hand-checked splits for the gpt2 and cl100k patterns (each
// expected split was confirmed against the same regular expression in a Unicode regex engine),
// and the lossless-split property on random text and random bytes.
#include <doctest/doctest.h>
#include <tlcr/text/pretokenizer.hpp>

#include "text_testing.hpp"

#include <string>
#include <vector>

using namespace tlcr;

namespace {
struct SplitCase {
  std::string text;
  std::vector<std::string> gpt2;
  std::vector<std::string> cl100k;
};

std::vector<std::string> split(std::string_view text, Pretokenizer kind) {
  std::vector<std::string> pieces;
  for (std::string_view piece : pretokenize(text, kind)) pieces.emplace_back(piece);
  return pieces;
}
}  // namespace

TEST_CASE("gpt2 and cl100k split hand-checked strings") {
  const std::vector<SplitCase> cases = {
      {"Hello world", {"Hello", " world"}, {"Hello", " world"}},
      {"I'm here, it's 2024!",
       {"I", "'m", " here", ",", " it", "'s", " 2024", "!"},
       {"I", "'m", " here", ",", " it", "'s", " ", "202", "4", "!"}},
      // A run of spaces gives its last space to the next word.
      {"  two  spaces", {" ", " two", " ", " spaces"}, {" ", " two", " ", " spaces"}},
      {"end   ", {"end", "   "}, {"end", "   "}},
      {"x  y", {"x", " ", " y"}, {"x", " ", " y"}},
      // Newlines: gpt2 keeps them apart, cl100k joins a run ending in newlines.
      {"a\n\nb", {"a", "\n", "\n", "b"}, {"a", "\n\n", "b"}},
      {"hello!!\n\nworld", {"hello", "!!", "\n", "\n", "world"}, {"hello", "!!\n\n", "world"}},
      // Contractions: case-sensitive in gpt2, case-insensitive (ſ folds to s) in cl100k.
      {"IT'S", {"IT", "'", "S"}, {"IT", "'S"}},
      {"don'T ſ 'ſ", {"don", "'", "T", " ſ", " '", "ſ"}, {"don", "'T", " ſ", " '", "ſ"}},
      {"it'ſ ok", {"it", "'", "ſ", " ok"}, {"it", "'ſ", " ok"}},
      // Numbers: any length in gpt2, groups of at most three in cl100k.
      {"x = 12345;", {"x", " =", " 12345", ";"}, {"x", " =", " ", "123", "45", ";"}},
      {"$100", {"$", "100"}, {"$", "100"}},
      {" (hello)", {" (", "hello", ")"}, {" (", "hello", ")"}},
      // cl100k lets any one non-letter, non-digit, non-newline character lead a word.
      {"\tword", {"\t", "word"}, {"\tword"}},
      {"Привет мир", {"Привет", " мир"}, {"Привет", " мир"}},
      {"中文 text", {"中文", " text"}, {"中文", " text"}},
      {"😀😀 ok", {"😀😀", " ok"}, {"😀😀", " ok"}},
      {"", {}, {}},
  };
  for (const SplitCase& c : cases) {
    CAPTURE(c.text);
    CHECK(split(c.text, Pretokenizer::gpt2) == c.gpt2);
    CHECK(split(c.text, Pretokenizer::cl100k) == c.cl100k);
  }
}

TEST_CASE("pieces concatenate back to the input, for text and for arbitrary bytes") {
  Rng rng(3);
  for (const Pretokenizer kind : {Pretokenizer::gpt2, Pretokenizer::cl100k}) {
    for (int trial = 0; trial < 200; ++trial) {
      const std::string input = trial % 2 == 0 ? testing::random_text(rng, int(rng.uniform_int(40)))
                                               : testing::random_bytes(rng, rng.uniform_int(300));
      std::string joined;
      for (std::string_view piece : pretokenize(input, kind)) {
        REQUIRE_FALSE(piece.empty());
        joined += piece;
      }
      REQUIRE(joined == input);
    }
  }
}

TEST_CASE("invalid UTF-8 bytes count as punctuation-like characters") {
  // 0xFF cannot start a sequence: it joins other symbols, and a space before it attaches to it.
  CHECK(split("ab\xFF\xFE!cd", Pretokenizer::gpt2) ==
        std::vector<std::string>{"ab", "\xFF\xFE!", "cd"});
  CHECK(split("ab \xFFxy", Pretokenizer::gpt2) == std::vector<std::string>{"ab", " \xFF", "xy"});
  CHECK(split("ab \xFFxy", Pretokenizer::cl100k) == std::vector<std::string>{"ab", " \xFF", "xy"});
  // cl100k lets it lead a word, like any other symbol.
  CHECK(split("ab\xFFxy", Pretokenizer::gpt2) == std::vector<std::string>{"ab", "\xFF", "xy"});
  CHECK(split("ab\xFFxy", Pretokenizer::cl100k) == std::vector<std::string>{"ab", "\xFFxy"});
}

TEST_CASE("pretokenizer names round-trip and unknown names are rejected") {
  for (const Pretokenizer kind : {Pretokenizer::gpt2, Pretokenizer::cl100k, Pretokenizer::none})
    CHECK(pretokenizer_from_name(pretokenizer_name(kind)) == kind);
  CHECK_THROWS_WITH_AS(pretokenizer_from_name("o200k"),
                       "unknown pre-tokenizer 'o200k' (expected \"gpt2\", \"cl100k\" or \"none\")",
                       Error);
}

TEST_CASE("the none pre-tokenizer keeps the whole text as one piece") {
  CHECK(split("Hello, world!\n  12345", Pretokenizer::none) ==
        std::vector<std::string>{"Hello, world!\n  12345"});
  CHECK(split("", Pretokenizer::none).empty());
}
