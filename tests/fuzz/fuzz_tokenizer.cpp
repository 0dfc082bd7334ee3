// Fuzz target: every tokenizer file format (text/tokenizer_json.hpp, text/hf_tokenizer_json.hpp,
// text/openai_files.hpp). The first byte picks the format:
//   0 tlcr's tokenizer.json   1 Hugging Face's tokenizer.json   2 GPT-2's vocab.json and
//   merges.txt (split at the first NUL byte)   3 a *.tiktoken file (gpt2 pattern)   4 (cl100k)
// A tokenizer that loads must encode the input's bytes and decode them back; byte-level ones
// exactly.
#include <tlcr/text/hf_tokenizer_json.hpp>
#include <tlcr/text/openai_files.hpp>
#include <tlcr/text/tokenizer_json.hpp>

#include "fuzz_target.hpp"

namespace {

tlcr::BpeTokenizer load(std::uint8_t format, std::string_view text) {
  using namespace tlcr;
  const auto parsed = [&] {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& error) {  // how the file readers report it
      throw Error(error.what());
    }
  };
  switch (format % 5) {
    case 0:
      return tokenizer_from_json(parsed(), "fuzz.json");
    case 1:
      return tokenizer_from_hf_json(parsed(), nullptr, "fuzz.json");
    case 2: {
      const std::size_t split = std::min(text.find('\0'), text.size());
      return gpt2_tokenizer_from_text(text.substr(0, split),
                                      text.substr(std::min(split + 1, text.size())), "vocab.json",
                                      "merges.txt");
    }
    case 3:
      return tiktoken_from_text(text, "fuzz.tiktoken", Pretokenizer::gpt2, {});
    default:
      return tiktoken_from_text(text, "fuzz.tiktoken", Pretokenizer::cl100k, {});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text = tlcr::fuzz::as_text(data + 1, size - 1);
  tlcr::fuzz::expect_only_tlcr_errors([&] {
    const tlcr::BpeTokenizer tokenizer = load(data[0], text);
    for (const std::string_view sample :
         {text.substr(0, 256), std::string_view("Hello, world! 123")}) {
      const std::vector<tlcr::TokenId> ids = tokenizer.encode_with_special_tokens(sample);
      const std::string decoded = tokenizer.decode(ids);
      if (tokenizer.spec().units == tlcr::BpeUnits::bytes)
        FUZZ_REQUIRE(decoded == sample || !tokenizer.spec().special_tokens.empty());
      const std::vector<tlcr::TokenId> plain = tokenizer.encode(sample);
      if (tokenizer.spec().units == tlcr::BpeUnits::bytes)
        FUZZ_REQUIRE(tokenizer.decode(plain) == sample);
    }
  });
  return 0;
}
