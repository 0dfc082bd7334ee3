// Tests for train/sft_data.hpp: an SFT row is the chat prompt then the response with EOS last,
// and its loss starts exactly at the response.
#include "support/testing.hpp"

#include <tlcr/train/sft_data.hpp>

using namespace tlcr;

TEST_CASE("sft_rows put the loss on the response tokens only") {
  const BpeTokenizer tokenizer = train_bpe(std::vector<std::string>{"what colour is the fox ? the fox is red ."},
                                           {.vocab_size = 300});
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
  CHECK(chat.decode_response(tokenizer, std::span(rows[0].tokens).subspan(prompt.size())) == records[0].response);
}
