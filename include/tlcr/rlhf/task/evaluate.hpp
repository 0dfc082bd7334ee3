// tlcr/rlhf/task/evaluate.hpp — held-out evaluation of a policy on the built-in task (`tlcr eval`).
// It lives with the task because its score is the task's oracle; namespace tlcr like the method.
//
// For every held-out prompt, the policy and the reference (SFT) model each sample one response
// with the same sampling options and the same seed (so row i of both draws from the same random
// stream: identical models give identical responses). Reported:
//   score             oracle score of the policy's response (task/oracle.hpp): mean and std
//   reference score   the same for the reference's response
//   KL                Σ over the policy response's tokens of the full-vocabulary KL(π ‖ π_ref) at
//                     each token, averaged over prompts (what PPO's KL penalty controls)
//   win rate          share of prompts where the policy's response scores higher than the
//                     reference's; a tie counts ½
//   length            response tokens before EOS, averaged
//   repetition rate   share of policy responses that are repetitive: some word occurs three or
//                     more times in a row ("the the the"), or some run of `repeat_ngram` response
//                     tokens (6 by default) occurs twice or more, overlapping allowed — the
//                     degenerate loops RLHF policies fall into, not the task's legitimate reuse of
//                     short phrases like "the fox is"
// Not here: training (rlhf/ppo.hpp); the oracle itself (oracle.hpp).
// Shape legend: N = response tokens in a chunk, V = vocabulary.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/rlhf/ppo/kl.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/rlhf/task/oracle.hpp"
#include "tlcr/text/chat.hpp"

namespace tlcr {

struct EvalOptions {
  SamplingOptions sampling{1.0, 0, 1.0};  // temperature, top-k, top-p
  int64_t max_new_tokens = 80;
  uint64_t seed = 0;
  int64_t batch_size = 32;  // prompts per generation batch
  int repeat_ngram = 6;     // token run length for the repetition test
};

struct EvalSample {
  std::string prompt, response, reference_response;
  double score = 0, reference_score = 0, max_score = 0;
  double kl = 0;       // Σ_t full KL over the policy response
  int64_t length = 0;  // policy response tokens before EOS
  bool repetitive = false;
};

struct EvalResult {
  int64_t prompts = 0;
  double mean_score = 0, std_score = 0;
  double mean_reference_score = 0;
  double mean_max_score = 0;  // the best score the prompts allow, averaged
  double mean_kl = 0;
  double win_rate = 0;
  double mean_length = 0;
  double repetition_rate = 0;
  std::vector<EvalSample> samples;
};

// True when some word repeats three times in a row, or a run of n tokens occurs twice or more.
inline bool is_repetitive(const std::vector<std::string>& words, std::span<const int32_t> tokens,
                          int n) {
  for (std::size_t i = 2; i < words.size(); ++i)
    if (words[i] == words[i - 1] && words[i] == words[i - 2]) return true;
  if (n <= 0) return false;
  std::set<std::vector<int32_t>> seen;
  for (std::size_t i = 0; i + n <= tokens.size(); ++i)
    if (!seen.insert(std::vector<int32_t>(tokens.begin() + i, tokens.begin() + i + n)).second)
      return true;
  return false;
}

namespace detail {
// The response tokens before the first EOS / PAD.
inline std::span<const int32_t> response_body(const BpeTokenizer& tokenizer,
                                              std::span<const int32_t> tokens) {
  std::size_t end = 0;
  while (end < tokens.size() && !(tokenizer.has_eos() && tokens[end] == tokenizer.eos_id()) &&
         !(tokenizer.has_pad() && tokens[end] == tokenizer.pad_id()))
    ++end;
  return tokens.first(end);
}

// Σ_t full KL(π ‖ π_ref) over each response's tokens.  One value per row.
// The per-token KL comes to the host as one (N, 2) table (ops/token_stats.hpp).
template <class T, class Arch, class D>
std::vector<double> response_kl(const Transformer<T, Arch, D>& policy,
                                const Transformer<T, Arch, D>& reference,
                                const TokenSequences& prompts, const TokenSequences& responses,
                                int32_t pad_token) {
  NoGrad no_grad;
  std::vector<int64_t> rows(prompts.size());
  for (std::size_t b = 0; b < rows.size(); ++b) rows[b] = static_cast<int64_t>(b);
  const ResponseBatch rb = make_response_batch(prompts, responses, rows, pad_token);
  const Var<T, D> logits = response_logits(policy, response_hidden(policy, rb));
  const Var<T, D> ref_logits = response_logits(reference, response_hidden(reference, rb));
  const std::vector<double> stats = token_kl_stats(logits.value(), ref_logits.value()).to_vector();
  std::vector<double> kl(rows.size(), 0.0);
  for (std::size_t b = 0; b < rows.size(); ++b)
    for (int64_t i = rb.offsets[b]; i < rb.offsets[b + 1]; ++i) kl[b] += stats[i * 2];
  return kl;
}
}  // namespace detail

template <class T, class Arch, class D>
EvalResult evaluate_policy(const Transformer<T, Arch, D>& policy,
                           const Transformer<T, Arch, D>& reference, const BpeTokenizer& tokenizer,
                           const ChatFormat& chat, const std::vector<std::string>& prompts,
                           const EvalOptions& options,
                           const task::TaskWorld& world = task::task_world()) {
  TLCR_CHECK(!prompts.empty(), "evaluate_policy: no prompts");
  TLCR_CHECK(options.batch_size > 0, "evaluate_policy: batch_size must be positive");
  TLCR_CHECK(policy.config().vocab_size == reference.config().vocab_size &&
                 policy.config().vocab_size >= tokenizer.vocab_size(),
             "evaluate_policy: vocabularies differ (policy ", policy.config().vocab_size,
             ", reference ", reference.config().vocab_size, ", tokenizer ", tokenizer.vocab_size(),
             ")");
  GenerationOptions generation;
  generation.sampling = options.sampling;
  generation.max_new_tokens = options.max_new_tokens;
  generation.eos_token = tokenizer.has_eos() ? tokenizer.eos_id() : -1;
  generation.pad_token =
      tokenizer.has_pad() ? tokenizer.pad_id() : std::max(generation.eos_token, 0);
  Rng policy_rng(options.seed, /*stream=*/7), reference_rng(options.seed, /*stream=*/7);

  EvalResult result;
  for (std::size_t first = 0; first < prompts.size(); first += options.batch_size) {
    const std::size_t last = std::min(prompts.size(), first + std::size_t(options.batch_size));
    TokenSequences encoded;
    for (std::size_t i = first; i < last; ++i)
      encoded.push_back(chat.encode_prompt(tokenizer, prompts[i]));
    const GenerationResult mine = generate(policy, encoded, generation, policy_rng);
    const GenerationResult theirs = generate(reference, encoded, generation, reference_rng);
    const std::vector<double> kl =
        detail::response_kl(policy, reference, encoded, mine.tokens, generation.pad_token);
    for (std::size_t k = 0; k < encoded.size(); ++k) {
      EvalSample s;
      s.prompt = prompts[first + k];
      s.response = chat.decode_response(tokenizer, mine.tokens[k]);
      s.reference_response = chat.decode_response(tokenizer, theirs.tokens[k]);
      const task::OracleReport report = task::oracle_report(world, s.prompt, s.response);
      s.score = report.score;
      s.max_score = report.max_score;
      s.reference_score = task::oracle_score(world, s.prompt, s.reference_response);
      s.kl = kl[k];
      const std::span<const int32_t> body = detail::response_body(tokenizer, mine.tokens[k]);
      s.length = static_cast<int64_t>(body.size());
      s.repetitive = is_repetitive(task::split_words(s.response), body, options.repeat_ngram);
      result.samples.push_back(std::move(s));
    }
  }

  const double n = double(result.samples.size());
  result.prompts = static_cast<int64_t>(result.samples.size());
  std::vector<double> scores;
  for (const EvalSample& s : result.samples) {
    scores.push_back(s.score);
    result.mean_reference_score += s.reference_score / n;
    result.mean_max_score += s.max_score / n;
    result.mean_kl += s.kl / n;
    result.win_rate += (s.score > s.reference_score    ? 1.0
                        : s.score == s.reference_score ? 0.5
                                                       : 0.0) /
                       n;
    result.mean_length += double(s.length) / n;
    result.repetition_rate += (s.repetitive ? 1.0 : 0.0) / n;
  }
  const MeanStd stats = mean_and_std(scores);
  result.mean_score = stats.mean;
  result.std_score = stats.std;
  return result;
}

inline nlohmann::json to_json(const EvalResult& r) {
  nlohmann::json samples = nlohmann::json::array();
  for (const EvalSample& s : r.samples)
    samples.push_back({{"prompt", s.prompt},
                       {"response", s.response},
                       {"reference_response", s.reference_response},
                       {"score", s.score},
                       {"reference_score", s.reference_score},
                       {"max_score", s.max_score},
                       {"kl", s.kl},
                       {"length", s.length},
                       {"repetitive", s.repetitive}});
  return {{"prompts", r.prompts},
          {"mean_score", r.mean_score},
          {"std_score", r.std_score},
          {"mean_reference_score", r.mean_reference_score},
          {"mean_max_score", r.mean_max_score},
          {"mean_kl", r.mean_kl},
          {"win_rate", r.win_rate},
          {"mean_length", r.mean_length},
          {"repetition_rate", r.repetition_rate},
          {"samples", std::move(samples)}};
}

// A few lines for the terminal.
inline std::string format_eval_summary(const EvalResult& r) {
  char text[512];
  std::snprintf(text, sizeof text,
                "prompts          %lld\n"
                "oracle score     %+.3f ± %.3f   (reference %+.3f, best possible %+.3f)\n"
                "KL to reference  %.4f nats per response\n"
                "win rate         %.1f%% against the reference (ties count half)\n"
                "length           %.1f tokens\n"
                "repetitive       %.1f%% of responses\n",
                static_cast<long long>(r.prompts), r.mean_score, r.std_score,
                r.mean_reference_score, r.mean_max_score, r.mean_kl, 100 * r.win_rate,
                r.mean_length, 100 * r.repetition_rate);
  return text;
}

}  // namespace tlcr
