// Tests for text/show_controls.hpp: newline, tab and carriage return shown as escapes, every other
// control byte and DEL as '?', printable ASCII and UTF-8 kept byte for byte.
#include <doctest/doctest.h>
#include <tlcr/text/show_controls.hpp>

#include <string>

using namespace tlcr;

TEST_CASE("newline, tab and carriage return become two-character escapes") {
  CHECK(show_controls("a\nb") == "a\\nb");
  CHECK(show_controls("\tx\r\n") == "\\tx\\r\\n");
  CHECK(show_controls("\n\n") == "\\n\\n");
}

TEST_CASE("other control bytes and DEL become '?'; the output has no control byte left") {
  CHECK(show_controls(std::string("a\0b", 3)) == "a?b");
  CHECK(show_controls("\x1b[31mred") == "?[31mred");  // an ANSI escape cannot colour the terminal
  CHECK(show_controls("\x7f") == "?");
  for (int byte = 0; byte < 256; ++byte) {
    const std::string shown = show_controls(std::string(1, static_cast<char>(byte)));
    for (const char c : shown) {
      const unsigned char u = static_cast<unsigned char>(c);
      CHECK_MESSAGE((u >= 0x20 && u != 0x7F), "byte ", byte, " shown with control byte ", int(u));
    }
  }
}

TEST_CASE("printable ASCII and UTF-8 are kept as they are") {
  const std::string ascii = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~";
  CHECK(show_controls(ascii) == ascii);
  const std::string utf8 = "caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x99\x82";  // café — 🙂
  CHECK(show_controls(utf8) == utf8);
  CHECK(show_controls("\xC3") == "\xC3");  // a cut-off character stays as it is
  CHECK(show_controls("") == "");
}
