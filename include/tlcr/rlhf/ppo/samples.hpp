// tlcr/rlhf/ppo/samples.hpp — the per-token view of a few rollout responses: what PPO saw at
// every token (r_t, KL_t, the shaped reward, V_t, A_t, R_t), as data, as JSON and as a terminal
// table.
//
//   sample 0 · iteration 10 · score +1.50 · KL 0.213 · 9 tokens · EOS
//   prompt    Human: what colour is the fox ?\n\nAssistant:
//   response  the fox is red . i hope this helps .
//      t  token          r_t    KL_t   rew_t     V_t     A_t     R_t
//      0  " the"       +0.02   0.001   +0.02   +0.41   -0.12   +0.29
//   …
// With colour on, r_t is green when positive and red when negative (ANSI escapes).
// Not here: HTML rendering (the demo writes it from the JSON).
#pragma once

#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/text/show_controls.hpp"

namespace tlcr {

// Token ids → text, for display. Empty: tokens print as "#<id>".
using TokenDecoder = std::function<std::string(std::span<const int32_t>)>;

struct SampleToken {
  int32_t id = 0;
  std::string text;
  double score = 0;      // r_t as the reward model gave it
  double kl = 0;         // KL_t in the reward
  double reward = 0;     // rew_t = clip(r_t) − β·KL_t
  double value = 0;      // V_t
  double advantage = 0;  // A_t
  double ret = 0;        // R_t = A_t + V_t
  double logprob = 0, ref_logprob = 0;
};

struct RolloutSample {
  int64_t row = 0;
  std::string prompt, response;
  bool ended = false;  // by EOS / a stop token
  double score = 0;    // Σ r_t
  double kl = 0;       // Σ KL_t
  std::vector<SampleToken> tokens;
};

struct SampleTable {
  int64_t iteration = 0;  // 1-based: the iteration that produced the rollout
  double kl_coef = 0;
  std::vector<RolloutSample> samples;
};

namespace detail {
inline std::string decode_or_ids(const TokenDecoder& decode, std::span<const int32_t> ids) {
  if (decode) return decode(ids);
  std::string text;
  for (int32_t id : ids) text.append(text.empty() ? "#" : " #").append(std::to_string(id));
  return text;
}
}  // namespace detail

// The first `rows` rows of a shaped rollout.
inline SampleTable make_sample_table(const Rollout& r, int64_t rows, int64_t iteration,
                                     const TokenDecoder& decode = {}) {
  SampleTable table{iteration, r.kl_coef, {}};
  for (int64_t b = 0; b < std::min(rows, r.rows()); ++b) {
    RolloutSample s;
    s.row = b;
    s.prompt = detail::decode_or_ids(decode, r.prompts[b]);
    s.response = detail::decode_or_ids(decode, r.responses[b]);
    s.ended = r.ended[b] != 0;
    for (int64_t t = 0; t < r.row_length(b); ++t) {
      const int64_t i = r.offsets[b] + t;
      const int32_t id = r.responses[b][t];
      s.tokens.push_back({id, detail::decode_or_ids(decode, std::span(&id, 1)), r.scores[i],
                          r.kl[i], r.rewards[i], r.values[i], r.advantages[i], r.returns[i],
                          r.logprobs[i], r.ref_logprobs[i]});
      s.score += r.scores[i];
      s.kl += r.kl[i];
    }
    table.samples.push_back(std::move(s));
  }
  return table;
}

inline nlohmann::json to_json(const SampleTable& table) {
  nlohmann::json j{{"iteration", table.iteration}, {"kl_coef", table.kl_coef}};
  j["samples"] = nlohmann::json::array();
  for (const RolloutSample& s : table.samples) {
    nlohmann::json tokens = nlohmann::json::array();
    for (const SampleToken& t : s.tokens)
      tokens.push_back({{"id", t.id},
                        {"text", t.text},
                        {"score", t.score},
                        {"kl", t.kl},
                        {"reward", t.reward},
                        {"value", t.value},
                        {"advantage", t.advantage},
                        {"return", t.ret},
                        {"logprob", t.logprob},
                        {"ref_logprob", t.ref_logprob}});
    j["samples"].push_back({{"row", s.row},
                            {"prompt", s.prompt},
                            {"response", s.response},
                            {"ended", s.ended},
                            {"score", s.score},
                            {"kl", s.kl},
                            {"tokens", std::move(tokens)}});
  }
  return j;
}

inline std::string format_sample_table(const SampleTable& table, bool color = false) {
  std::string out;
  char line[256];
  for (const RolloutSample& s : table.samples) {
    std::snprintf(line, sizeof line,
                  "sample %lld · iteration %lld · score %+.3f · KL %.4f · %zu tokens · %s\n",
                  static_cast<long long>(s.row), static_cast<long long>(table.iteration), s.score,
                  s.kl, s.tokens.size(), s.ended ? "EOS" : "cut at the length limit");
    out += line;
    out += "prompt    " + show_controls(s.prompt) + "\n";
    out += "response  " + show_controls(s.response) + "\n";
    out += "     t  token              r_t     KL_t    rew_t      V_t      A_t      R_t\n";
    for (std::size_t t = 0; t < s.tokens.size(); ++t) {
      const SampleToken& k = s.tokens[t];
      std::string text = "\"";
      text += show_controls(k.text);
      text += '"';
      const char* on = !color ? "" : k.score > 0 ? "\033[32m" : k.score < 0 ? "\033[31m" : "";
      const char* off = color && k.score != 0 ? "\033[0m" : "";
      std::snprintf(line, sizeof line,
                    "  %4zu  %-14.14s %s%+7.3f%s  %7.4f  %+7.3f  %+7.3f  %+7.3f  %+7.3f\n", t,
                    text.c_str(), on, k.score, off, k.kl, k.reward, k.value, k.advantage, k.ret);
      out += line;
    }
  }
  return out;
}

}  // namespace tlcr
