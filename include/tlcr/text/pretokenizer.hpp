// tlcr/text/pretokenizer.hpp — split text into the pieces that BPE merges never cross.
//
// Two splitters, each a hand-written matcher equivalent to OpenAI's regular expression (std::regex
// has no Unicode classes). At each position the alternatives are tried left to right and the
// first that matches gives the next piece, exactly as a backtracking regex engine does.
//
//   gpt2   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   cl100k (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//          | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// (gpt2 is also the pattern of r50k_base and p50k_base; cl100k is also Llama 3's.) A third kind,
// none, keeps the whole text as one piece (SentencePiece-style BPE, as in Llama 2). \p{L}, \p{N} and \s are the Unicode
// tables of unicode_tables.hpp (\s = White_Space, as in tiktoken's regex engine); " " is U+0020
// only. A byte that is not valid UTF-8 counts as one character outside all three classes, so
// every byte string splits, and the pieces always concatenate back to the input.
// Not here: the merges applied inside each piece (bpe.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/config.hpp"
#include "tlcr/text/unicode.hpp"

namespace tlcr {

enum class Pretokenizer { gpt2, cl100k, none };

inline std::string_view pretokenizer_name(Pretokenizer kind) {
  switch (kind) {
    case Pretokenizer::gpt2:
      return "gpt2";
    case Pretokenizer::cl100k:
      return "cl100k";
    case Pretokenizer::none:
      return "none";
  }
  return "?";
}

inline Pretokenizer pretokenizer_from_name(std::string_view name) {
  if (name == "gpt2") return Pretokenizer::gpt2;
  if (name == "cl100k") return Pretokenizer::cl100k;
  if (name == "none") return Pretokenizer::none;
  detail::fail("unknown pre-tokenizer '", name, "' (expected \"gpt2\", \"cl100k\" or \"none\")");
}

namespace detail {

// Character classes of the two patterns, on decoded code points.
inline bool is_newline(char32_t cp) {
  return cp == '\r' || cp == '\n';
}
// [^\s\p{L}\p{N}]: punctuation, symbols, emoji, control characters, invalid bytes.
inline bool is_other(char32_t cp) {
  return !is_white_space(cp) && !is_letter(cp) && !is_number(cp);
}

// End of the longest run (at most max_count code points) of class members starting at pos.
template <class InClass>
std::size_t run_end(std::string_view text, std::size_t pos, InClass in_class,
                    std::size_t max_count = std::string_view::npos) {
  for (std::size_t count = 0; pos < text.size() && count < max_count; ++count) {
    const DecodedCodePoint next = decode_utf8_at(text, pos);
    if (!in_class(next.code_point)) break;
    pos += next.length;
  }
  return pos;
}

// 's|'t|'re|'ve|'m|'ll|'d after the apostrophe at pos; 0 when none matches. With ignore_case,
// the suffix letters match either case, and "s" also matches U+017F (ſ), which case-folds to s.
inline std::size_t match_contraction(std::string_view text, std::size_t pos, bool ignore_case) {
  if (text[pos] != '\'') return 0;
  const std::size_t start = pos + 1;
  const auto letter_at = [&](std::size_t i, char lower) {
    if (i >= text.size()) return false;
    const char c = text[i];
    return c == lower || (ignore_case && c == lower - 'a' + 'A');
  };
  if (ignore_case && text.substr(start, 2) == "\xC5\xBF") return start + 2;  // 'ſ
  for (std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
    bool matched = true;
    for (std::size_t i = 0; i < suffix.size() && matched; ++i)
      matched = letter_at(start + i, suffix[i]);
    if (matched) return start + suffix.size();
  }
  return 0;
}

// \s*[\r\n]+ : the whitespace run from pos, up to and including its last newline; 0 if it has none.
inline std::size_t match_through_last_newline(std::string_view text, std::size_t pos) {
  std::size_t after_last_newline = 0;
  while (pos < text.size()) {
    const DecodedCodePoint next = decode_utf8_at(text, pos);
    if (!is_white_space(next.code_point)) break;
    pos += next.length;
    if (is_newline(next.code_point)) after_last_newline = pos;
  }
  return after_last_newline;
}

// \s+(?!\S)|\s+ : a whitespace run, minus its last character when a non-space follows and at
// least two characters would remain a match (the lone last space then joins the next word).
inline std::size_t match_white_space(std::string_view text, std::size_t pos) {
  std::size_t end = pos, last_start = pos;
  while (end < text.size()) {
    const DecodedCodePoint next = decode_utf8_at(text, end);
    if (!is_white_space(next.code_point)) break;
    last_start = end;
    end += next.length;
  }
  if (end == pos) return 0;
  if (end == text.size() || last_start == pos) return end;
  return last_start;
}

// One piece of the gpt2 pattern starting at pos (pos < text.size()); returns its end.
inline std::size_t match_gpt2(std::string_view text, std::size_t pos) {
  if (const std::size_t end = match_contraction(text, pos, /*ignore_case=*/false)) return end;
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional space, then a run of one class.
  // Without the space the alternatives cannot match at a space, so only one start is tried.
  const std::size_t start = text[pos] == ' ' ? pos + 1 : pos;
  for (auto* in_class : {&is_letter, &is_number, &is_other}) {
    const std::size_t end = run_end(text, start, in_class);
    if (end > start) return end;
  }
  return match_white_space(text, pos);
}

// One piece of the cl100k pattern starting at pos (pos < text.size()); returns its end.
inline std::size_t match_cl100k(std::string_view text, std::size_t pos) {
  if (const std::size_t end = match_contraction(text, pos, /*ignore_case=*/true)) return end;
  // [^\r\n\p{L}\p{N}]?\p{L}+ : letters, optionally led by one character of another kind.
  const DecodedCodePoint first = decode_utf8_at(text, pos);
  if (is_letter(first.code_point)) return run_end(text, pos, is_letter);
  if (!is_newline(first.code_point) && !is_number(first.code_point)) {
    const std::size_t end = run_end(text, pos + first.length, is_letter);
    if (end > pos + first.length) return end;
  }
  // \p{N}{1,3}
  if (is_number(first.code_point)) return run_end(text, pos, is_number, 3);
  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
  const std::size_t start = text[pos] == ' ' ? pos + 1 : pos;
  const std::size_t others_end = run_end(text, start, is_other);
  if (others_end > start) return run_end(text, others_end, is_newline);
  // \s*[\r\n]+, then \s+(?!\S)|\s+
  if (const std::size_t end = match_through_last_newline(text, pos)) return end;
  return match_white_space(text, pos);
}

}  // namespace detail

// Calls visit(piece) for every piece of text, in order; the pieces concatenate to text.
template <class Visit>
void for_each_pretoken(std::string_view text, Pretokenizer kind, Visit&& visit) {
  if (kind == Pretokenizer::none) {
    if (!text.empty()) visit(text);
    return;
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = kind == Pretokenizer::gpt2 ? detail::match_gpt2(text, pos)
                                                 : detail::match_cl100k(text, pos);
    if (end <= pos) end = pos + 1;  // unreachable (every character is in some class); never loop
    visit(text.substr(pos, end - pos));
    pos = end;
  }
}

// The pieces of text as views into it.
inline std::vector<std::string_view> pretokenize(std::string_view text, Pretokenizer kind) {
  std::vector<std::string_view> pieces;
  for_each_pretoken(text, kind, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

}  // namespace tlcr
