// tlcr/io/run_command.hpp — a user's program as a filter: text in on stdin, text out on stdout.
//
// run_command(command, input, role, protocol) runs `command` through /bin/sh with `input` on its
// stdin and returns its stdout, which is read whole once the program has exited (files in the
// temporary directory carry both ways, so a program that prints before reading cannot deadlock).
// A non-zero exit is an error naming the role, the command, the status and what the program was
// supposed to do. split_lines cuts the output into lines (a trailing "\r" dropped) for parsing.
// External scorers (rlhf/external_scorer.hpp) and revisers (rlhf/revision_rounds.hpp) use it.
// Not here: the protocols themselves.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tlcr/config.hpp"

namespace tlcr {

// `role` names the program in messages ("scorer", "reviser"); `protocol` says what it must do.
inline std::string run_command(const std::string& command, const std::string& input,
                               const std::string& role, const std::string& protocol) {
  namespace fs = std::filesystem;
  static std::atomic<int> counter{0};
  const fs::path base =
      fs::temp_directory_path() /
      ("tlcr_" + role + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const fs::path in = base.string() + ".in.jsonl", out = base.string() + ".out";
  std::ofstream(in, std::ios::binary) << input;
  const std::string shell = "(" + command + ") < '" + in.string() + "' > '" + out.string() + "'";
  const int status = std::system(shell.c_str());
  std::ifstream result(out, std::ios::binary);
  const std::string output((std::istreambuf_iterator<char>(result)), {});
  std::error_code ignored;
  fs::remove(in, ignored);
  fs::remove(out, ignored);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    detail::fail(role, " '", command, "' failed (exit status ",
                 status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status), "); it must ",
                 protocol);
  return output;
}

// The lines of a program's output; a final line without "\n" counts, an empty output has none.
inline std::vector<std::string> split_lines(const std::string& output) {
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < output.size();) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

}  // namespace tlcr
