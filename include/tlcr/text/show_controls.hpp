// tlcr/text/show_controls.hpp — text made safe to print on one line of a terminal table: control
// characters become visible stand-ins, so a token holding a newline or an escape byte cannot
// break the layout or drive the terminal.
//   newline → \n, tab → \t, carriage return → \r (two characters each)
//   any other byte below 0x20, and DEL (0x7F) → ?
// Every other byte, UTF-8 included, is kept as it is.
// Not here: HTML escaping (rlhf/reward_view.hpp), invalid UTF-8 (left as it is).
#pragma once

#include <string>
#include <string_view>

namespace tlcr {

inline std::string show_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (byte < 0x20 || byte == 0x7F)
      out += '?';
    else
      out += c;
  }
  return out;
}

}  // namespace tlcr
