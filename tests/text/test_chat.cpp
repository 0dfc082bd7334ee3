// Tests for text/chat.hpp: the token layout of a prompt/response pair, where the response
// starts, the decoded text, recovering a sampled response, and options.
#include <doctest/doctest.h>
#include <tlcr/text/chat.hpp>

#include "text_testing.hpp"

#include <string>
#include <vector>

using namespace tlcr;
using Ids = std::vector<TokenId>;

TEST_CASE("encode lays out [BOS] prompt | response [EOS] and marks the response start") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  const ChatFormat format;
  Rng rng(41);
  for (int trial = 0; trial < 20; ++trial) {
    const std::string prompt = testing::random_text(rng, 1 + int(rng.uniform_int(15)));
    const std::string response = testing::random_text(rng, 1 + int(rng.uniform_int(15)));
    const ChatTokens chat = format.encode(tokenizer, prompt, response);

    const Ids prompt_ids = format.encode_prompt(tokenizer, prompt);
    REQUIRE(chat.response_start == prompt_ids.size());
    CHECK(Ids(chat.prompt().begin(), chat.prompt().end()) == prompt_ids);
    CHECK(chat.ids.front() == tokenizer.bos_id());
    CHECK(chat.ids.back() == tokenizer.eos_id());

    // The response tokens are the response encoded on its own, behind the separator space.
    Ids expected_response = tokenizer.encode(" " + response);
    expected_response.push_back(tokenizer.eos_id());
    CHECK(Ids(chat.response().begin(), chat.response().end()) == expected_response);

    CHECK(tokenizer.decode(chat.ids) ==
          "<|bos|>Human: " + prompt + "\n\nAssistant: " + response + "<|eos|>");
    CHECK(format.decode_response(tokenizer, chat.response()) == response);
  }
}

TEST_CASE("decode_response stops at EOS or PAD and drops the separator") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  const ChatFormat format;
  Ids sampled = tokenizer.encode(" the reward is good");
  const std::size_t text_length = sampled.size();
  sampled.push_back(tokenizer.eos_id());
  const Ids trailing = tokenizer.encode(" ignored");
  sampled.insert(sampled.end(), trailing.begin(), trailing.end());
  CHECK(format.decode_response(tokenizer, sampled) == "the reward is good");

  Ids padded(sampled.begin(), sampled.begin() + text_length);
  padded.push_back(tokenizer.pad_id());
  padded.push_back(tokenizer.pad_id());
  CHECK(format.decode_response(tokenizer, padded) == "the reward is good");
  // A response cut off before EOS keeps everything it has; no separator, nothing to drop.
  CHECK(format.decode_response(tokenizer, tokenizer.encode("good")) == "good");
  CHECK(format.decode_response(tokenizer, Ids{tokenizer.eos_id()}) == "");
}

TEST_CASE("options: no BOS/EOS, other prefixes") {
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  ChatFormat format;
  format.add_bos = false;
  format.add_eos = false;
  format.human_prefix = "Q: ";
  format.assistant_prefix = "\nA:";
  const ChatTokens chat = format.encode(tokenizer, "why?", "because");
  CHECK(tokenizer.decode(chat.ids) == "Q: why?\nA: because");
  CHECK(chat.prompt().size() == tokenizer.encode("Q: why?\nA:").size());
  CHECK(tokenizer.decode(chat.response()) == " because");
  CHECK(format.prompt_text("why?") == "Q: why?\nA:");
}

TEST_CASE("a tokenizer without BOS cannot build a BOS-led prompt") {
  BpeSpec spec = testing::small_tokenizer().spec();
  spec.bos = "";
  const BpeTokenizer no_bos(spec);
  CHECK_THROWS_WITH_AS(ChatFormat{}.encode(no_bos, "hi", "there"),
                       "BpeTokenizer: this tokenizer has no BOS token", Error);
}
