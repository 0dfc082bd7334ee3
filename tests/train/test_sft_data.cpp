// Tests for train/sft_data.hpp: an SFT row is the chat prompt then the response with EOS last,
// and its loss starts exactly at the response.
#include "support/testing.hpp"

#include <sstream>

#include <tlcr/train/sft_data.hpp>

using namespace tlcr;

TEST_CASE("sft_rows put the loss on the response tokens only") {
  const BpeTokenizer tokenizer = train_bpe(
      std::vector<std::string>{"what colour is the fox ? the fox is red ."}, {.vocab_size = 300});
  const ChatFormat chat;
  const std::vector<SftRecord> records{{"what colour is the fox ?", "the fox is red ."}};
  const std::vector<SequenceRow> rows = sft_rows(records, tokenizer, chat);
  REQUIRE(rows.size() == 1);
  const std::vector<int32_t> prompt = chat.encode_prompt(tokenizer, records[0].prompt);
  CHECK(rows[0].loss_begin == static_cast<int64_t>(prompt.size()));
  CHECK(std::equal(prompt.begin(), prompt.end(), rows[0].tokens.begin()));
  CHECK(rows[0].tokens.back() == tokenizer.eos_id());
  const TokenBatch batch = make_sequence_batch(rows, 256, tokenizer.pad_id());
  // Targets are exactly the response tokens (EOS included), each predicted from the token before.
  CHECK(batch.target_count() == static_cast<int64_t>(rows[0].tokens.size() - prompt.size()));
  CHECK(chat.decode_response(tokenizer, std::span(rows[0].tokens).subspan(prompt.size())) ==
        records[0].response);
}

TEST_CASE("an incomplete response (\"complete\": false) gets no EOS, and the flag round-trips") {
  const BpeTokenizer tokenizer = train_bpe(
      std::vector<std::string>{"tell me a story . once upon a time"}, {.vocab_size = 290});
  const ChatFormat chat;
  const std::vector<SftRecord> records{{"tell me a story .", "once upon a time", true},
                                       {"tell me a story .", "once upon a time", false}};
  const std::vector<SequenceRow> rows = sft_rows(records, tokenizer, chat);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].tokens.back() == tokenizer.eos_id());
  CHECK(rows[1].tokens.back() != tokenizer.eos_id());
  CHECK(rows[1].tokens.size() + 1 == rows[0].tokens.size());
  CHECK(std::equal(rows[1].tokens.begin(), rows[1].tokens.end(), rows[0].tokens.begin()));

  std::istringstream file(
      "{\"prompt\": \"p\", \"response\": \"r\"}\n"
      "{\"prompt\": \"p\", \"response\": \"r\", \"complete\": false}\n"
      "{\"prompt\": \"p\", \"response\": \"r\", \"complete\": \"no\"}\n");
  const auto read = read_jsonl<SftRecord>(file, "sft.jsonl", OnBadRecord::Skip);
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[0].complete);
  CHECK_FALSE(read.records[1].complete);
  REQUIRE(read.warnings.size() == 1);
  CHECK(read.warnings[0] ==
        "sft.jsonl:3: field 'complete': expected true or false, found a string (\"no\")");
  CHECK(to_jsonl_line(read.records[0]) == R"({"prompt":"p","response":"r"})");
  CHECK(to_jsonl_line(read.records[1]) == R"({"prompt":"p","response":"r","complete":false})");
}
