// tlcr/train/sft_data.hpp — prompts and (prompt, response) pairs: their JSONL records, and the
// training rows SFT makes of them.
//
//   PromptRecord  {"prompt"}                 prompts for sampling, PPO and evaluation
//   SftRecord     {"prompt", "response"}     demonstrations (the shape TRL / OpenRLHF use)
// Each row is ChatFormat's prompt tokens then response tokens (EOS last); the loss covers the
// response tokens only, so the model learns to answer, not to ask.
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
  static JsonlSchema schema() { return detail::jsonl_string_fields({"prompt", "response"}); }
  static SftRecord from_json(const nlohmann::json& j) {
    return {detail::jsonl_string(j, "prompt"), detail::jsonl_string(j, "response")};
  }
  static nlohmann::ordered_json to_json(const SftRecord& r) {
    return {{"prompt", r.prompt}, {"response", r.response}};
  }
};

inline SequenceRow sft_row(const BpeTokenizer& tokenizer, const ChatFormat& chat,
                           const std::string& prompt, const std::string& response) {
  const ChatTokens tokens = chat.encode(tokenizer, prompt, response);
  return {tokens.ids, static_cast<int64_t>(tokens.response_start)};
}

inline std::vector<SequenceRow> sft_rows(const std::vector<SftRecord>& records,
                                         const BpeTokenizer& tokenizer, const ChatFormat& chat) {
  std::vector<SequenceRow> rows;
  rows.reserve(records.size());
  for (const SftRecord& r : records) rows.push_back(sft_row(tokenizer, chat, r.prompt, r.response));
  return rows;
}

}  // namespace tlcr
