// tlcr/train/sft_data.hpp — turning (prompt, response) records into training rows.
// Each row is ChatFormat's prompt tokens then response tokens (EOS last); the loss covers the
// response tokens only, so the model learns to answer, not to ask.
// Not here: batching (train/batches.hpp), the chat layout itself (text/chat.hpp).
#pragma once

#include <vector>

#include "tlcr/io/jsonl.hpp"
#include "tlcr/text/chat.hpp"
#include "tlcr/train/batches.hpp"

namespace tlcr {

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
