// tlcr/rlhf/external_scorer.hpp — a user's program as a ResponseScorer (rlhf/evaluate.hpp).
//
// The protocol: tlcr runs the command through /bin/sh, with
//   stdin   JSONL, one {"prompt": ..., "response": ...} object per line, in order;
//   stdout  one score per line, in the same order: a number (JSON syntax), higher is better;
//   exit    status 0.
// Anything else (another status, a line that is not a number, too few or too many lines) is an
// error naming the command and the line. Any language works: `python3 my_judge.py`, a shell
// pipeline, a call to a remote model.
// Not here: what is done with the scores (rlhf/evaluate.hpp).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/rlhf/evaluate.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

namespace detail {
// Runs `command` with `input` on stdin; returns its stdout. Fails on a non-zero exit.
inline std::string run_scorer_command(const std::string& command, const std::string& input) {
  namespace fs = std::filesystem;
  static std::atomic<int> counter{0};
  const fs::path base = fs::temp_directory_path() / ("tlcr_scorer_" + std::to_string(::getpid()) +
                                                     "_" + std::to_string(counter++));
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
    fail("scorer '", command, "' failed (exit status ",
         status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status),
         "); it must read {\"prompt\",\"response\"} JSONL on stdin and print one score per line");
  return output;
}
}  // namespace detail

// The command as a scorer (see the file comment for the protocol).
inline ResponseScorer external_scorer(const std::string& command) {
  return {command, [command](const std::vector<std::string>& prompts,
                             const std::vector<std::string>& responses) {
            std::string input;
            for (std::size_t i = 0; i < prompts.size(); ++i)
              input += nlohmann::json{{"prompt", prompts[i]}, {"response", responses[i]}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";
            const std::string output = detail::run_scorer_command(command, input);
            std::vector<double> scores;
            std::size_t line_number = 0;
            for (std::size_t start = 0; start < output.size();) {
              std::size_t end = output.find('\n', start);
              if (end == std::string::npos) end = output.size();
              std::string line = output.substr(start, end - start);
              start = end + 1;
              ++line_number;
              if (!line.empty() && line.back() == '\r') line.pop_back();
              nlohmann::json value;
              try {
                value = nlohmann::json::parse(line);
              } catch (const nlohmann::json::exception&) {
              }
              if (!value.is_number())
                detail::fail("scorer '", command, "': line ", line_number,
                             " of its output: expected a number, found '", line.substr(0, 40), "'");
              scores.push_back(value.get<double>());
            }
            if (scores.size() != prompts.size())
              detail::fail("scorer '", command, "': expected ", prompts.size(),
                           " scores (one per input line), found ", scores.size());
            return scores;
          }};
}

}  // namespace tlcr
