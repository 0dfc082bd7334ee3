// tlcr/rlhf/task/evaluate.hpp — held-out evaluation on the built-in task (`tlcr eval`, the demo):
// the general evaluation (rlhf/evaluate.hpp) with the task's oracle as the scorer, plus the best
// score each prompt allows. It lives with the task because its score is the task's oracle;
// namespace tlcr like the method.
// Not here: the metrics themselves (rlhf/evaluate.hpp); the oracle itself (oracle.hpp).
#pragma once

#include <string>
#include <vector>

#include "tlcr/rlhf/evaluate.hpp"
#include "tlcr/rlhf/task/oracle.hpp"

namespace tlcr {

// The task's oracle as a ResponseScorer (task/oracle.hpp: oracle_score).
inline ResponseScorer oracle_scorer(const task::TaskWorld& world = task::task_world()) {
  return {"oracle", [&world](const std::vector<std::string>& prompts,
                             const std::vector<std::string>& responses) {
            std::vector<double> scores;
            for (std::size_t i = 0; i < prompts.size(); ++i)
              scores.push_back(task::oracle_score(world, prompts[i], responses[i]));
            return scores;
          }};
}

// Whether every prompt is one of the built-in task's (the oracle can score it).
inline bool are_task_prompts(const std::vector<std::string>& prompts,
                             const task::TaskWorld& world = task::task_world()) {
  for (const std::string& prompt : prompts)
    if (!world.has_prompt(prompt)) return false;
  return true;
}

// evaluate_policy scored by the oracle, with each prompt's best possible score.
template <class T, class Arch, class D>
EvalResult evaluate_policy(const Transformer<T, Arch, D>& policy,
                           const Transformer<T, Arch, D>& reference, const BpeTokenizer& tokenizer,
                           const ChatFormat& chat, const std::vector<std::string>& prompts,
                           const EvalOptions& options,
                           const task::TaskWorld& world = task::task_world()) {
  const ResponseScorer oracle = oracle_scorer(world);
  EvalResult result =
      evaluate_policy(policy, reference, tokenizer, chat, prompts, options, &oracle);
  const double n = double(result.samples.size());
  result.mean_max_score = 0;
  for (EvalSample& s : result.samples) {
    s.max_score = task::oracle_max_score(world.find_prompt(s.prompt));  // the prompt's alone
    result.mean_max_score += s.max_score / n;
  }
  return result;
}

}  // namespace tlcr
