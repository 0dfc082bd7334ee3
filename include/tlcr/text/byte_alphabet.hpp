// tlcr/text/byte_alphabet.hpp — GPT-2's printable stand-in character for each of the 256 bytes.
//
// GPT-2's vocab.json and merges.txt store byte strings as text: each byte becomes one visible
// code point. The bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for themselves; the
// other 68 bytes (controls, space, DEL, 0x80–0xA0, 0xAD) become U+0100, U+0101, ... in byte
// order, so a space is "Ġ" (U+0120) and a newline "Ċ" (U+010A). Our own tokenizer JSON uses the
// same alphabet, which keeps the file valid UTF-8 and familiar.
// Not here: reading the files themselves (openai_files.hpp, tokenizer_json.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tlcr/text/unicode.hpp"

namespace tlcr {

namespace detail {
inline bool byte_stands_for_itself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

inline const std::array<char32_t, 256>& byte_to_code_point_table() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> result{};
    char32_t next_substitute = 0x100;
    for (int byte = 0; byte < 256; ++byte)
      result[byte] = byte_stands_for_itself(byte) ? char32_t(byte) : next_substitute++;
    return result;
  }();
  return table;
}
}  // namespace detail

// The code point that stands for `byte`.
inline char32_t byte_to_printable(std::uint8_t byte) {
  return detail::byte_to_code_point_table()[byte];
}

// The byte a code point stands for, or nothing when it is not in the alphabet.
inline std::optional<std::uint8_t> printable_to_byte(char32_t cp) {
  // All 256 stand-ins are below U+0144, so a small inverse table covers them.
  static const std::array<std::int16_t, 0x144> inverse = [] {
    std::array<std::int16_t, 0x144> result;
    result.fill(-1);
    for (int byte = 0; byte < 256; ++byte)
      result[detail::byte_to_code_point_table()[byte]] = static_cast<std::int16_t>(byte);
    return result;
  }();
  if (cp >= inverse.size() || inverse[cp] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(inverse[cp]);
}

// Bytes → their printable UTF-8 spelling ("\x20hi" → "Ġhi").
inline std::string bytes_to_printable(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char byte : bytes) append_utf8(out, byte_to_printable(static_cast<std::uint8_t>(byte)));
  return out;
}

// The inverse of bytes_to_printable; nothing when `text` holds a code point outside the alphabet
// or is not valid UTF-8.
inline std::optional<std::string> printable_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const DecodedCodePoint decoded = decode_utf8_at(text, pos);
    const std::optional<std::uint8_t> byte = printable_to_byte(decoded.code_point);
    if (!byte) return std::nullopt;
    out += static_cast<char>(*byte);
    pos += decoded.length;
  }
  return out;
}

}  // namespace tlcr
