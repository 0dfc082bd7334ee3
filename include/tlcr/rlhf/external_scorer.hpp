// tlcr/rlhf/external_scorer.hpp — a user's program as a ResponseScorer (rlhf/evaluate.hpp).
//
// The protocol: tlcr runs the command through /bin/sh, with
//   stdin   JSONL, one {"prompt": ..., "response": ...} object per line, in order;
//   stdout  one score per line, in the same order: a number (JSON syntax), higher is better;
//   exit    status 0.
// Anything else (another status, a line that is not a number, too few or too many lines) is an
// error naming the command and the line. Any language works: `python3 my_judge.py`, a shell
// pipeline, a call to a remote model.
// Not here: what is done with the scores (rlhf/evaluate.hpp), running the program
// (io/run_command.hpp).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/io/run_command.hpp"
#include "tlcr/rlhf/evaluate.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

// The command as a scorer (see the file comment for the protocol).
inline ResponseScorer external_scorer(const std::string& command) {
  return {command, [command](const std::vector<std::string>& prompts,
                             const std::vector<std::string>& responses) {
            std::string input;
            for (std::size_t i = 0; i < prompts.size(); ++i)
              input += nlohmann::json{{"prompt", prompts[i]}, {"response", responses[i]}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";
            const std::vector<std::string> lines = split_lines(run_command(
                command, input, "scorer",
                "read {\"prompt\",\"response\"} JSONL on stdin and print one score per line"));
            std::vector<double> scores;
            for (std::size_t i = 0; i < lines.size(); ++i) {
              nlohmann::json value;
              try {
                value = nlohmann::json::parse(lines[i]);
              } catch (const nlohmann::json::exception&) {
              }
              if (!value.is_number())
                detail::fail("scorer '", command, "': line ", i + 1,
                             " of its output: expected a number, found '", lines[i].substr(0, 40),
                             "'");
              scores.push_back(value.get<double>());
            }
            if (scores.size() != prompts.size())
              detail::fail("scorer '", command, "': expected ", prompts.size(),
                           " scores (one per input line), found ", scores.size());
            return scores;
          }};
}

}  // namespace tlcr
