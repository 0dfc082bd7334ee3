// Tests for io/run_command.hpp: a program gets the input on stdin and its whole stdout comes back;
// a failing program is an error naming the role, the command, the status and the protocol; output
// is cut into lines, a trailing "\r" dropped and a last line without "\n" kept.
#include "support/testing.hpp"

#include <tlcr/io/run_command.hpp>

using namespace tlcr;

TEST_CASE("run_command: stdin in, the whole stdout out; a non-zero exit names role and protocol") {
  const std::string input = "alpha\nbeta gamma\n";
  CHECK(run_command("tr a-z A-Z", input, "filter", "upper-case its input") ==
        "ALPHA\nBETA GAMMA\n");
  CHECK(run_command("wc -l | tr -d ' '", input, "filter", "count lines") == "2\n");
  CHECK_THROWS_WITH_AS(run_command("cat > /dev/null; exit 4", input, "reviser", "print revisions"),
                       doctest::Contains("reviser 'cat > /dev/null; exit 4' failed (exit status "
                                         "4); it must print revisions"),
                       Error);
}

TEST_CASE("split_lines: lines without their ends; \\r\\n and a last unterminated line") {
  CHECK(split_lines("") == std::vector<std::string>{});
  CHECK(split_lines("one\ntwo\n") == std::vector<std::string>{"one", "two"});
  CHECK(split_lines("one\r\ntwo") == std::vector<std::string>{"one", "two"});
  CHECK(split_lines("\n\nx\n") == std::vector<std::string>{"", "", "x"});
}
