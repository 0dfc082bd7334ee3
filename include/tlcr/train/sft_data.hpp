// tlcr/train/sft_data.hpp — prompts and (prompt, response) pairs: their JSONL records, and the
// training rows SFT makes of them.
//
//   PromptRecord  {"prompt"}                 prompts for sampling, PPO and evaluation
//   SftRecord     {"prompt", "response"}     demonstrations (the shape TRL / OpenRLHF use);
//                 optional "complete": false  the response is cut off: no EOS after it
// Each row is ChatFormat's prompt tokens then response tokens (EOS last, unless the record says
// the response is incomplete, so the model does not learn to stop where the text was cut); the
// loss covers the response tokens only, so the model learns to answer, not to ask.
// Not here: the JSONL machinery (io/jsonl.hpp), batching (train/batches.hpp), the chat layout
// itself (text/chat.hpp), preference and label records (rlhf/records.hpp).
#pragma once

#include <string>
#include <vector>

#include "tlcr/io/jsonl.hpp"
#include "tlcr/text/chat.hpp"
#include "tlcr/train/batches.hpp"

namespace tlcr {

struct PromptRecord {
  std::string prompt;
  bool operator==(const PromptRecord&) const = default;
};
struct SftRecord {
  std::string prompt, response;
  bool complete = true;  // false: the response is cut off, and no EOS follows it
  bool operator==(const SftRecord&) const = default;
};

template <>
struct JsonlTraits<PromptRecord> {
  static JsonlSchema schema() { return detail::jsonl_string_fields({"prompt"}); }
  static PromptRecord from_json(const nlohmann::json& j) {
    return {detail::jsonl_string(j, "prompt")};
  }
  static nlohmann::ordered_json to_json(const PromptRecord& r) { return {{"prompt", r.prompt}}; }
};

template <>
struct JsonlTraits<SftRecord> {
  static JsonlSchema schema() {
    JsonlSchema schema = detail::jsonl_string_fields({"prompt", "response"});
    schema.push_back({.name = "complete", .kind = JsonlFieldKind::Bool, .optional = true});
    return schema;
  }
  static SftRecord from_json(const nlohmann::json& j) {
    return {detail::jsonl_string(j, "prompt"), detail::jsonl_string(j, "response"),
            !j.contains("complete") || j["complete"].get<bool>()};
  }
  // "complete" is written only when false, so complete records keep the two-field shape.
  static nlohmann::ordered_json to_json(const SftRecord& r) {
    nlohmann::ordered_json j = {{"prompt", r.prompt}, {"response", r.response}};
    if (!r.complete) j["complete"] = false;
    return j;
  }
};

// complete = false: the response is cut off, so no EOS is appended.
inline SequenceRow sft_row(const BpeTokenizer& tokenizer, const ChatFormat& chat,
                           const std::string& prompt, const std::string& response,
                           bool complete = true) {
  ChatFormat format = chat;
  format.add_eos = chat.add_eos && complete;
  const ChatTokens tokens = format.encode(tokenizer, prompt, response);
  return {tokens.ids, static_cast<int64_t>(tokens.response_start)};
}

inline std::vector<SequenceRow> sft_rows(const std::vector<SftRecord>& records,
                                         const BpeTokenizer& tokenizer, const ChatFormat& chat) {
  std::vector<SequenceRow> rows;
  rows.reserve(records.size());
  for (const SftRecord& r : records)
    rows.push_back(sft_row(tokenizer, chat, r.prompt, r.response, r.complete));
  return rows;
}

}  // namespace tlcr
