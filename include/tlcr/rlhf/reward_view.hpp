// tlcr/rlhf/reward_view.hpp — seeing what a reward says, token by token.
//
// A TokenRewardView holds one (prompt, response): each response token's text, its discriminator
// probability p_t (when the reward has one) and its reward r_t. Three renderings:
//   terminal  the response with each token's background coloured by r_t (red −1 … white 0 …
//             green +1), then a table "i | token | p | r". With colour off (output is not a
//             terminal) the same text and table come plain. Control characters are shown as
//             \n, \t, \r or ? (text/show_controls.hpp).
//   HTML      one standalone file (no scripts, no external files): every token a <span> coloured
//             by r_t whose tooltip shows p_t and r_t, a legend, the prompt and the reward's name.
//             Text is HTML-escaped and invalid UTF-8 (a token may hold part of a character) shown
//             as U+FFFD. Written atomically.
//   JSONL     one object per view: {"prompt", "response", "reward", "tokens": [...], "ids": [...],
//             "p": [... | null], "r": [...], "total"} — null where p is not defined; numbers
//             rounded to 6 decimals; "response" is the input text when the view was made from
//             one (view_rewards), else the tokens' text.
// Colours clamp r to [−1, 1] (sequence scores can exceed it; the numbers are exact).
// Not here: computing rewards (rewards.hpp, sequence_reward.hpp, any_reward.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/jsonl.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/rlhf/token_reward.hpp"
#include "tlcr/text/chat.hpp"
#include "tlcr/text/show_controls.hpp"
#include "tlcr/train/sft_data.hpp"

namespace tlcr {

struct TokenRewardView {
  std::string reward_name;
  std::string prompt;                         // the prompt text
  std::vector<int32_t> ids;                   // response tokens
  std::vector<std::string> tokens;            // the bytes of each response token
  std::vector<float> p;                       // empty, or one per token (NaN where not scored)
  std::vector<float> r;                       // one per token
  std::optional<std::string> input_response;  // the response text as given, when there was one

  // The response as the tokens spell it (separator, EOS and all).
  std::string response() const {
    std::string text;
    for (const std::string& token : tokens) text += token;
    return text;
  }
  double total() const {
    double sum = 0;
    for (float x : r) sum += x;
    return sum;
  }
};

// A view from token ids and what a reward model returned for them (`p` may be empty).
inline TokenRewardView make_reward_view(const BpeTokenizer& tokenizer, std::string prompt,
                                        std::span<const int32_t> response, std::span<const float> r,
                                        std::span<const float> p = {},
                                        std::string reward_name = "") {
  TLCR_CHECK(r.size() == response.size(), "make_reward_view: ", r.size(), " rewards for ",
             response.size(), " tokens");
  TLCR_CHECK(p.empty() || p.size() == response.size(), "make_reward_view: ", p.size(),
             " probabilities for ", response.size(), " tokens");
  TokenRewardView view;
  view.reward_name = std::move(reward_name);
  view.prompt = std::move(prompt);
  view.ids.assign(response.begin(), response.end());
  for (int32_t id : response) view.tokens.push_back(tokenizer.decode(std::span(&id, 1)));
  view.p.assign(p.begin(), p.end());
  view.r.assign(r.begin(), r.end());
  return view;
}

// Scores (prompt, response) texts with any reward model and builds their views. Responses are
// tokenized as the policy emits them (ChatFormat::encode_response, EOS included when the format
// adds it). Models with token probabilities (TokenProbabilityModel) fill p.
template <class Reward>
std::vector<TokenRewardView> view_rewards(const Reward& reward, const BpeTokenizer& tokenizer,
                                          std::span<const SftRecord> records,
                                          const ChatFormat& format = {}) {
  TokenSequences prompts, responses;
  for (const SftRecord& record : records) {
    prompts.push_back(format.encode_prompt(tokenizer, record.prompt));
    ChatFormat record_format = format;  // a cut-off response ("complete": false) has no EOS
    record_format.add_eos = format.add_eos && record.complete;
    responses.push_back(record_format.encode_response(tokenizer, record.response));
  }
  const TokenRewards r = reward.score(prompts, responses);
  check_reward_shape(responses, r, reward.name());
  TokenRewards p;
  if constexpr (requires { reward.has_probabilities(); }) {  // AnyTokenReward decides at run time
    if (reward.has_probabilities()) p = reward.probabilities(prompts, responses);
  } else if constexpr (requires { reward.probabilities(prompts, responses); }) {
    p = reward.probabilities(prompts, responses);
  }
  std::vector<TokenRewardView> views;
  for (std::size_t i = 0; i < records.size(); ++i) {
    views.push_back(make_reward_view(tokenizer, records[i].prompt, responses[i], r[i],
                                     p.empty() ? std::span<const float>() : std::span(p[i]),
                                     reward.name()));
    views.back().input_response = records[i].response;
  }
  return views;
}

namespace detail {

struct Rgb {
  int red, green, blue;
};

// White at 0, toward red (−1) or green (+1); r is clamped to [−1, 1].
inline Rgb reward_colour(double r) {
  if (!std::isfinite(r)) return {255, 255, 255};
  const double t = std::clamp(std::abs(r), 0.0, 1.0);
  const Rgb end = r < 0 ? Rgb{220, 50, 47} : Rgb{40, 170, 70};
  auto mix = [&](int to) { return static_cast<int>(std::lround(255 + (to - 255) * t)); };
  return {mix(end.red), mix(end.green), mix(end.blue)};
}

inline std::string format_number(double x, int precision, bool sign = false) {
  if (!std::isfinite(x)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, sign ? "%+.*f" : "%.*f", precision, x);
  return text;
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xE  ? 3
                       : (lead >> 3) == 0x1E ? 4
                                             : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (length == 2 && lead < 0xC2) return 0;  // overlong
  return length;
}

}  // namespace detail

// Text safe inside HTML elements and attributes: & < > " ' escaped, invalid UTF-8 → U+FFFD.
inline std::string html_escape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = detail::utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (text[i]) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += text[i];
    }
    ++i;
  }
  return out;
}

// The terminal rendering; `colour` = emit ANSI 24-bit background colours (pass isatty(1)).
inline std::string render_reward_view_text(const TokenRewardView& view, bool colour) {
  std::ostringstream out;
  out << "reward: " << (view.reward_name.empty() ? "?" : view.reward_name)
      << "   total r: " << detail::format_number(view.total(), 4, true) << "\n";
  out << "prompt: " << show_controls(view.prompt) << "\n";
  out << "response: ";
  for (std::size_t i = 0; i < view.tokens.size(); ++i) {
    const std::string text = show_controls(view.tokens[i]);
    if (colour) {
      const detail::Rgb c = detail::reward_colour(view.r[i]);
      out << "\x1b[30;48;2;" << c.red << ';' << c.green << ';' << c.blue << 'm' << text
          << "\x1b[0m";
    } else {
      out << (i == 0 ? "" : "|") << text;
    }
  }
  out << "\n\n";
  // Columns: index (5, right), token (24, left; a wider token pushes the rest), p (8), r (9).
  out << std::right << std::setw(5) << "i"
      << "  " << std::left << std::setw(24) << "token" << std::right << std::setw(9) << "p"
      << std::setw(10) << "r" << '\n';
  for (std::size_t i = 0; i < view.tokens.size(); ++i) {
    std::string token = "'";
    token += show_controls(view.tokens[i]);
    token += '\'';
    const std::string p = view.p.empty() ? "" : detail::format_number(view.p[i], 4);
    out << std::right << std::setw(5) << i << "  " << std::left << std::setw(24) << token
        << std::right << std::setw(9) << p << std::setw(10)
        << detail::format_number(view.r[i], 4, true) << '\n';
  }
  return out.str();
}

// One standalone HTML page with every view.
inline std::string render_reward_views_html(std::span<const TokenRewardView> views,
                                            const std::string& title = "tlcr token rewards") {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      << html_escape(title) << "</title>\n<style>\n"
      << "body { font-family: sans-serif; margin: 2em; max-width: 60em; }\n"
      << ".response { font-family: monospace; white-space: pre-wrap; line-height: 1.9; }\n"
      << ".tok { border: 1px solid #ddd; border-radius: 3px; padding: 1px 0; }\n"
      << ".prompt { color: #555; }\n"
      << ".legend { display: flex; align-items: center; gap: 0.5em; margin-bottom: 1.5em; }\n"
      << ".bar { width: 16em; height: 1em; border: 1px solid #aaa; background: linear-gradient("
         "to right, rgb(220,50,47), rgb(255,255,255), rgb(40,170,70)); }\n"
      << "</style>\n</head>\n<body>\n<h1>" << html_escape(title) << "</h1>\n";
  out << "<div class=\"legend\"><span>r = −1</span><span class=\"bar\"></span><span>r = +1"
         "</span><span>(hover a token for p and r)</span></div>\n";
  for (const TokenRewardView& view : views) {
    out << "<section>\n<p class=\"prompt\"><b>prompt:</b> " << html_escape(view.prompt)
        << "</p>\n<p><b>reward:</b> " << html_escape(view.reward_name) << " &nbsp; <b>total r:</b> "
        << detail::format_number(view.total(), 4, true) << "</p>\n<p class=\"response\">";
    for (std::size_t i = 0; i < view.tokens.size(); ++i) {
      const detail::Rgb c = detail::reward_colour(view.r[i]);
      std::string tip = "token " + std::to_string(i) + ": id " + std::to_string(view.ids[i]);
      if (!view.p.empty()) tip += ", p = " + detail::format_number(view.p[i], 4);
      tip += ", r = " + detail::format_number(view.r[i], 4, true);
      out << "<span class=\"tok\" style=\"background: rgb(" << c.red << "," << c.green << ","
          << c.blue << ")\" title=\"" << html_escape(tip) << "\">" << html_escape(view.tokens[i])
          << "</span>";
    }
    out << "</p>\n</section>\n<hr>\n";
  }
  out << "</body>\n</html>\n";
  return out.str();
}

inline void write_reward_views_html(const std::filesystem::path& path,
                                    std::span<const TokenRewardView> views,
                                    const std::string& title = "tlcr token rewards") {
  write_file_atomically(path, render_reward_views_html(views, title));
}

// The JSON form of one view (see the top of the file). Invalid UTF-8 becomes U+FFFD on dump.
inline nlohmann::ordered_json reward_view_json(const TokenRewardView& view) {
  // Six decimals: what a float holds, without the float → double noise (0.5149267315864563).
  auto rounded = [](double x) { return std::round(x * 1e6) / 1e6; };
  auto number = [&](float x) {
    return std::isfinite(x) ? nlohmann::json(rounded(x)) : nlohmann::json();
  };
  nlohmann::json p = nlohmann::json::array(), r = nlohmann::json::array();
  for (float x : view.p) p.push_back(number(x));
  for (float x : view.r) r.push_back(number(x));
  return {{"prompt", view.prompt},
          {"response", view.input_response.value_or(view.response())},
          {"reward", view.reward_name},
          {"tokens", view.tokens},
          {"ids", view.ids},
          {"p", view.p.empty() ? nlohmann::json() : p},
          {"r", r},
          {"total", rounded(view.total())}};
}

inline void write_reward_views_jsonl(const std::filesystem::path& path,
                                     std::span<const TokenRewardView> views) {
  write_file_atomically(path, [&](std::ostream& out) {
    for (const TokenRewardView& view : views)
      out << reward_view_json(view).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << '\n';
  });
}

}  // namespace tlcr
