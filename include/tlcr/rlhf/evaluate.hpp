// tlcr/rlhf/evaluate.hpp — held-out evaluation of a policy against its reference, on any prompts.
//
// For every prompt, the policy and the reference (SFT) model each sample one response with the
// same sampling options and the same seed (row i of both draws from the same random stream:
// identical models give identical responses). Without any scorer it reports:
//   KL                per response, summed over the policy response's tokens (nats), three ways:
//                       full  Σ_v π(v)·(log π(v) − log π_ref(v)), exact at each position (what
//                             PPO's KL penalty controls)
//                       k1    log π(a_t) − log π_ref(a_t) of the sampled token (unbiased, noisy)
//                       k3    (r − 1) − log r, r = π_ref(a_t)/π(a_t) (unbiased, never negative)
//   length            response tokens before EOS, averaged
//   repetition rate   share of responses where a word occurs three or more times in a row, or a
//                     run of `repeat_ngram` tokens (6 by default) occurs twice or more
//   distinct-1 / -2   distinct words / word pairs over all policy responses, divided by their count
// With a scorer (a ResponseScorer: the built-in task's oracle, or a user's command, see
// rlhf/external_scorer.hpp) it adds the mean and std of the policy's scores, the reference's mean,
// and the win rate (share of prompts where the policy's response scores higher; a tie counts ½).
// Not here: training (rlhf/ppo.hpp); the built-in task's oracle (task/evaluate.hpp).
// Shape legend: N = response tokens in a batch, V = vocabulary.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/generate/generate.hpp"
#include "tlcr/rlhf/ppo/kl.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/text/chat.hpp"

namespace tlcr {

struct EvalOptions {
  SamplingOptions sampling{1.0, 0, 1.0};  // temperature, top-k, top-p
  int64_t max_new_tokens = 80;
  uint64_t seed = 0;
  int64_t batch_size = 32;  // prompts per generation batch
  int repeat_ngram = 6;     // token run length for the repetition test
};

// Scores (prompt, response) pairs: one number per pair, higher is better.
struct ResponseScorer {
  std::string name;  // "oracle", the user's command, ...
  std::function<std::vector<double>(const std::vector<std::string>& prompts,
                                    const std::vector<std::string>& responses)>
      score;
};

struct EvalSample {
  std::string prompt, response, reference_response;
  double score = 0, reference_score = 0;  // with a scorer
  double max_score = NAN;                 // the best score the prompt allows, when known
  double kl = 0, kl_k1 = 0, kl_k3 = 0;    // Σ_t over the policy response
  int64_t length = 0;                     // policy response tokens before EOS
  bool repetitive = false;
};

struct EvalResult {
  int64_t prompts = 0;
  std::string scorer;  // "" when the responses were not scored
  double mean_score = 0, std_score = 0;
  double mean_reference_score = 0;
  double mean_max_score = NAN;  // the best score the prompts allow, averaged, when known
  double win_rate = 0;
  double mean_kl = 0, mean_kl_k1 = 0, mean_kl_k3 = 0;
  double mean_length = 0;
  double repetition_rate = 0;
  double distinct_1 = 0, distinct_2 = 0;
  std::vector<EvalSample> samples;
  bool scored() const { return !scorer.empty(); }
};

// Words of a text: runs between spaces, tabs and line breaks.
inline std::vector<std::string> whitespace_words(std::string_view text) {
  std::vector<std::string> words;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

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

// Distinct-n over a set of texts: distinct word n-grams / all word n-grams (0 when there are none).
inline double distinct_n(const std::vector<std::string>& texts, int n) {
  std::set<std::vector<std::string>> distinct;
  int64_t total = 0;
  for (const std::string& text : texts) {
    const std::vector<std::string> words = whitespace_words(text);
    for (std::size_t i = 0; i + n <= words.size(); ++i, ++total)
      distinct.insert(std::vector<std::string>(words.begin() + i, words.begin() + i + n));
  }
  return total == 0 ? 0.0 : double(distinct.size()) / double(total);
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

struct ResponseKl {
  std::vector<double> full, k1, k3;  // one per row, Σ over its tokens
};

// The three KL sums of each policy response. `policy_logprobs` are log π(a_t) from sampling; the
// full KL per position comes as one (N, 2) table (ops/token_stats.hpp), log π_ref(a_t) from the
// reference's logits on the host.
template <class T, class Arch, class D>
ResponseKl response_kl(const Transformer<T, Arch, D>& policy,
                       const Transformer<T, Arch, D>& reference, const TokenSequences& prompts,
                       const TokenSequences& responses,
                       const std::vector<std::vector<double>>& policy_logprobs, int32_t pad_token) {
  NoGrad no_grad;
  std::vector<int64_t> rows(prompts.size());
  for (std::size_t b = 0; b < rows.size(); ++b) rows[b] = static_cast<int64_t>(b);
  const ResponseBatch rb = make_response_batch(prompts, responses, rows, pad_token);
  const Var<T, D> logits = response_logits(policy, response_hidden(policy, rb));
  const Var<T, D> ref_logits = response_logits(reference, response_hidden(reference, rb));
  const std::vector<double> stats = token_kl_stats(logits.value(), ref_logits.value()).to_vector();
  const Tensor<T> ref_host = ref_logits.value().to_host();
  const int64_t V = ref_host.dim(ref_host.rank() - 1);
  ResponseKl kl{std::vector<double>(rows.size(), 0.0), std::vector<double>(rows.size(), 0.0),
                std::vector<double>(rows.size(), 0.0)};
  for (std::size_t b = 0; b < rows.size(); ++b)
    for (int64_t i = rb.offsets[b]; i < rb.offsets[b + 1]; ++i) {
      kl.full[b] += stats[i * 2];
      const int64_t t = i - rb.offsets[b];
      const double log_ratio =  // log π(a_t) − log π_ref(a_t)
          policy_logprobs[b][t] -
          token_logprob(std::span<const T>(ref_host.data() + i * V, V), responses[b][t]);
      kl.k1[b] += log_ratio;
      kl.k3[b] += std::expm1(-log_ratio) + log_ratio;  // (r − 1) − log r, r = e^(−log_ratio)
    }
  return kl;
}
}  // namespace detail

// Evaluates `policy` against `reference` on `prompts`; `scorer` (may be null) scores the responses.
template <class T, class Arch, class D>
EvalResult evaluate_policy(const Transformer<T, Arch, D>& policy,
                           const Transformer<T, Arch, D>& reference, const BpeTokenizer& tokenizer,
                           const ChatFormat& chat, const std::vector<std::string>& prompts,
                           const EvalOptions& options, const ResponseScorer* scorer) {
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
    const detail::ResponseKl kl = detail::response_kl(policy, reference, encoded, mine.tokens,
                                                      mine.logprobs, generation.pad_token);
    for (std::size_t k = 0; k < encoded.size(); ++k) {
      EvalSample s;
      s.prompt = prompts[first + k];
      s.response = chat.decode_response(tokenizer, mine.tokens[k]);
      s.reference_response = chat.decode_response(tokenizer, theirs.tokens[k]);
      s.kl = kl.full[k], s.kl_k1 = kl.k1[k], s.kl_k3 = kl.k3[k];
      const std::span<const int32_t> body = detail::response_body(tokenizer, mine.tokens[k]);
      s.length = static_cast<int64_t>(body.size());
      s.repetitive = is_repetitive(whitespace_words(s.response), body, options.repeat_ngram);
      result.samples.push_back(std::move(s));
    }
  }

  if (scorer != nullptr) {
    std::vector<std::string> texts, responses, reference_responses;
    for (const EvalSample& s : result.samples) {
      texts.push_back(s.prompt);
      responses.push_back(s.response);
      reference_responses.push_back(s.reference_response);
    }
    const std::vector<double> scores = scorer->score(texts, responses);
    const std::vector<double> reference_scores = scorer->score(texts, reference_responses);
    TLCR_CHECK(scores.size() == texts.size() && reference_scores.size() == texts.size(),
               "evaluate_policy: scorer '", scorer->name, "' gave ", scores.size(), " and ",
               reference_scores.size(), " scores for ", texts.size(), " responses");
    for (std::size_t i = 0; i < result.samples.size(); ++i)
      result.samples[i].score = scores[i], result.samples[i].reference_score = reference_scores[i];
    result.scorer = scorer->name;
  }

  const double n = double(result.samples.size());
  result.prompts = static_cast<int64_t>(result.samples.size());
  std::vector<double> scores;
  std::vector<std::string> responses;
  for (const EvalSample& s : result.samples) {
    scores.push_back(s.score);
    responses.push_back(s.response);
    result.mean_reference_score += s.reference_score / n;
    result.mean_kl += s.kl / n;
    result.mean_kl_k1 += s.kl_k1 / n;
    result.mean_kl_k3 += s.kl_k3 / n;
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
  result.distinct_1 = distinct_n(responses, 1);
  result.distinct_2 = distinct_n(responses, 2);
  return result;
}

inline nlohmann::json to_json(const EvalResult& r) {
  auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  nlohmann::json samples = nlohmann::json::array();
  for (const EvalSample& s : r.samples) {
    nlohmann::json sample = {{"prompt", s.prompt},
                             {"response", s.response},
                             {"reference_response", s.reference_response}};
    if (r.scored()) {
      sample["score"] = s.score;
      sample["reference_score"] = s.reference_score;
      sample["max_score"] = number(s.max_score);
    }
    sample["kl"] = s.kl;
    sample["kl_k1"] = s.kl_k1;
    sample["kl_k3"] = s.kl_k3;
    sample["length"] = s.length;
    sample["repetitive"] = s.repetitive;
    samples.push_back(std::move(sample));
  }
  nlohmann::json j = {{"prompts", r.prompts}};
  if (r.scored()) {
    j["scorer"] = r.scorer;
    j["mean_score"] = r.mean_score;
    j["std_score"] = r.std_score;
    j["mean_reference_score"] = r.mean_reference_score;
    j["mean_max_score"] = number(r.mean_max_score);
    j["win_rate"] = r.win_rate;
  }
  j["mean_kl"] = r.mean_kl;
  j["mean_kl_k1"] = r.mean_kl_k1;
  j["mean_kl_k3"] = r.mean_kl_k3;
  j["mean_length"] = r.mean_length;
  j["repetition_rate"] = r.repetition_rate;
  j["distinct_1"] = r.distinct_1;
  j["distinct_2"] = r.distinct_2;
  j["samples"] = std::move(samples);
  return j;
}

// A few lines for the terminal.
inline std::string format_eval_summary(const EvalResult& r) {
  char text[1024];
  std::string out;
  std::snprintf(text, sizeof text, "prompts          %lld\n", static_cast<long long>(r.prompts));
  out += text;
  if (r.scored()) {
    std::snprintf(text, sizeof text, "%-16s %+.3f ± %.3f   (reference %+.3f",
                  r.scorer == "oracle" ? "oracle score" : "score", r.mean_score, r.std_score,
                  r.mean_reference_score);
    out += text;
    if (std::isfinite(r.mean_max_score)) {
      std::snprintf(text, sizeof text, ", best possible %+.3f", r.mean_max_score);
      out += text;
    }
    out += ")\n";
    std::snprintf(text, sizeof text,
                  "win rate         %.1f%% against the reference (ties count half)\n",
                  100 * r.win_rate);
    out += text;
  }
  std::snprintf(text, sizeof text,
                "KL to reference  %.4f nats per response (k1 %.4f, k3 %.4f)\n"
                "length           %.1f tokens\n"
                "repetitive       %.1f%% of responses\n"
                "distinct-1/2     %.3f / %.3f\n",
                r.mean_kl, r.mean_kl_k1, r.mean_kl_k3, r.mean_length, 100 * r.repetition_rate,
                r.distinct_1, r.distinct_2);
  return out + text;
}

}  // namespace tlcr
