// tlcr/text/unicode.hpp — lenient UTF-8 decoding and the three Unicode classes tokenizers need.
//
// decode_utf8_at reads one code point; a byte that does not start a valid, shortest-form UTF-8
// sequence (stray continuation byte, overlong form, surrogate, value above U+10FFFF, truncated
// sequence) decodes as kInvalidCodePoint of length 1. So any byte string can be walked, and the
// byte-level tokenizer stays exact on invalid UTF-8. is_letter / is_number / is_white_space
// answer \p{L}, \p{N} and \s by binary search in the generated tables (unicode_tables.hpp).
// Not here: normalisation, case folding, grapheme clusters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tlcr/text/unicode_tables.hpp"

namespace tlcr {

// Marks a byte that is not part of valid UTF-8. It is not a letter, number or white space.
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

struct DecodedCodePoint {
  char32_t code_point;  // kInvalidCodePoint for a byte that is not valid UTF-8
  std::size_t length;   // bytes consumed, 1–4; 0 only at the end of the text
};

// The code point that starts at byte `pos` of `text` (pos == text.size() gives length 0).
inline DecodedCodePoint decode_utf8_at(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return {kInvalidCodePoint, 0};
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t lead = byte(pos);
  if (lead < 0x80) return {lead, 1};

  std::size_t length;
  char32_t value;
  char32_t smallest;  // below this the sequence is an overlong form
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, smallest = 0x10000;
  } else {
    return {kInvalidCodePoint, 1};  // continuation byte or 0xF8–0xFF
  }
  if (pos + length > text.size()) return {kInvalidCodePoint, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const std::uint8_t continuation = byte(pos + i);
    if ((continuation & 0xC0) != 0x80) return {kInvalidCodePoint, 1};
    value = (value << 6) | (continuation & 0x3F);
  }
  const bool surrogate = value >= 0xD800 && value <= 0xDFFF;
  if (value < smallest || value > 0x10FFFF || surrogate) return {kInvalidCodePoint, 1};
  return {value, length};
}

// Appends the UTF-8 form of a valid code point (not a surrogate, at most U+10FFFF).
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// True when the whole string is valid UTF-8.
inline bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const DecodedCodePoint decoded = decode_utf8_at(text, pos);
    if (decoded.code_point == kInvalidCodePoint) return false;
    pos += decoded.length;
  }
  return true;
}

namespace detail {
inline bool in_ranges(std::span<const CodePointRange> ranges, char32_t cp) {
  // The first range whose last code point is >= cp is the only one that can contain it.
  const auto it = std::lower_bound(ranges.begin(), ranges.end(), cp,
                                   [](const CodePointRange& r, char32_t c) { return r.last < c; });
  return it != ranges.end() && it->first <= cp;
}
}  // namespace detail

// \p{L}: general category Lu, Ll, Lt, Lm or Lo.
inline bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return detail::in_ranges(detail::kLetterRanges, cp);
}

// \p{N}: general category Nd, Nl or No.
inline bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return detail::in_ranges(detail::kNumberRanges, cp);
}

// \s: the White_Space property (tab, LF, VT, FF, CR, space, NEL, NBSP, ...).
inline bool is_white_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return detail::in_ranges(detail::kWhiteSpaceRanges, cp);
}

}  // namespace tlcr
