// Tests for text/unicode.hpp and the generated tables: UTF-8 decoding (valid and invalid), the
// \p{L} / \p{N} / \s classes on known code points, and binary search against a linear scan.
#include <doctest/doctest.h>
#include <tlcr/core/rng.hpp>
#include <tlcr/text/unicode.hpp>

#include <string>

using namespace tlcr;

namespace {
bool linear_in_ranges(std::span<const detail::CodePointRange> ranges, char32_t cp) {
  for (const auto& range : ranges)
    if (range.first <= cp && cp <= range.last) return true;
  return false;
}
}  // namespace

TEST_CASE("decode_utf8_at reads 1- to 4-byte sequences") {
  const std::string text = "A\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // A é 中 😀
  const DecodedCodePoint a = decode_utf8_at(text, 0), e = decode_utf8_at(text, 1),
                         zhong = decode_utf8_at(text, 3), smile = decode_utf8_at(text, 6);
  CHECK(a.code_point == U'A');
  CHECK(a.length == 1);
  CHECK(e.code_point == U'é');
  CHECK(e.length == 2);
  CHECK(zhong.code_point == U'中');
  CHECK(zhong.length == 3);
  CHECK(smile.code_point == U'😀');
  CHECK(smile.length == 4);
  CHECK(decode_utf8_at(text, text.size()).length == 0);
  CHECK(is_valid_utf8(text));
}

TEST_CASE("decode_utf8_at turns each byte of a malformed sequence into one invalid unit") {
  const char* malformed[] = {
      "\x80",              // stray continuation byte
      "\xC0\x80",          // overlong NUL
      "\xE0\x80\xAF",      // overlong '/'
      "\xED\xA0\x80",      // UTF-16 surrogate U+D800
      "\xF4\x90\x80\x80",  // U+110000, above the Unicode range
      "\xE4\xB8",          // truncated 3-byte sequence
      "\xC3(",             // lead byte followed by a non-continuation
      "\xFF",              // never valid
  };
  for (const char* bytes : malformed) {
    CAPTURE(bytes);
    const DecodedCodePoint decoded = decode_utf8_at(bytes, 0);
    CHECK(decoded.code_point == kInvalidCodePoint);
    CHECK(decoded.length == 1);
    CHECK_FALSE(is_valid_utf8(bytes));
    CHECK_FALSE(is_letter(decoded.code_point));
    CHECK_FALSE(is_number(decoded.code_point));
    CHECK_FALSE(is_white_space(decoded.code_point));
  }
}

TEST_CASE("append_utf8 and decode_utf8_at are inverse on random code points") {
  Rng rng(7);
  for (int trial = 0; trial < 20000; ++trial) {
    char32_t cp = char32_t(rng.uniform_int(0x110000));
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string encoded;
    append_utf8(encoded, cp);
    const DecodedCodePoint decoded = decode_utf8_at(encoded, 0);
    REQUIRE(decoded.code_point == cp);
    REQUIRE(decoded.length == encoded.size());
  }
}

TEST_CASE("letter, number and white-space classes on known code points") {
  for (char32_t letter : {U'a', U'Z', U'é', U'ß', U'ж', U'Я', U'中', U'あ', U'ǅ' /* Lt */,
                          U'ʰ' /* Lm */, U'ー' /* Lm */, U'ſ'})
    CHECK(is_letter(letter));
  for (char32_t not_letter :
       {U'1', U' ', U'_', U'\'', U'😀', U'\u0301' /* combining, Mn */, U'〇' /* Nl */, U'€'})
    CHECK_FALSE(is_letter(not_letter));
  for (char32_t number : {U'0', U'9', U'٣', U'½', U'²', U'Ⅻ', U'〇'}) CHECK(is_number(number));
  for (char32_t not_number : {U'a', U'.', U'中', U'-'}) CHECK_FALSE(is_number(not_number));
  for (char32_t space : {U' ', U'\t', U'\n', U'\v', U'\f', U'\r', U'\u0085', U'\u00A0', U'\u1680',
                         U'\u2003', U'\u2028', U'\u3000'})
    CHECK(is_white_space(space));
  // Not White_Space, though some regex engines or isspace() disagree.
  for (char32_t not_space : {U'\u200B', U'\uFEFF', U'\u001C', U'\u180E', U'x'})
    CHECK_FALSE(is_white_space(not_space));
}

TEST_CASE("generated tables are sorted, disjoint and non-touching; lookup matches a linear scan") {
  const std::span<const detail::CodePointRange> tables[] = {
      detail::kLetterRanges, detail::kNumberRanges, detail::kWhiteSpaceRanges};
  for (const auto& table : tables) {
    for (std::size_t i = 0; i < table.size(); ++i) {
      CHECK(table[i].first <= table[i].last);
      if (i > 0) CHECK(table[i - 1].last + 1 < table[i].first);
    }
  }
  Rng rng(11);
  for (int trial = 0; trial < 20000; ++trial) {
    // Half the probes in the dense low planes, half anywhere.
    const char32_t cp =
        char32_t(trial % 2 == 0 ? rng.uniform_int(0x20000) : rng.uniform_int(0x110000));
    REQUIRE(is_letter(cp) == linear_in_ranges(detail::kLetterRanges, cp));
    REQUIRE(is_number(cp) == linear_in_ranges(detail::kNumberRanges, cp));
    REQUIRE(is_white_space(cp) == linear_in_ranges(detail::kWhiteSpaceRanges, cp));
  }
}
