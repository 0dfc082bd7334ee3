// Tests for text/json_describe.hpp, and that every JSON reader in tlcr reports a value nested
// 100 000 levels deep as an error instead of overflowing the stack (each reader used to dump() the
// untrusted value into its message, which recurses once per level).
#include "support/testing.hpp"
#include "text/text_testing.hpp"

using namespace tlcr;

namespace {

constexpr int kDepth = 100000;

// "[[[…[1]…]]]" or "{"a":{"a":…1…}}", kDepth levels.
std::string deep_array() {
  std::string text(kDepth, '[');
  text += '1';
  text.append(kDepth, ']');  // (one string, appended to: GCC 12 misreads a + b + c here)
  return text;
}
std::string deep_object() {
  std::string text;
  for (int i = 0; i < kDepth; ++i) text += "{\"a\":";
  return text + "1" + std::string(kDepth, '}');
}

// The message of the tlcr::Error that `read` throws; fails the test when it throws nothing.
template <class Read>
std::string error_of(Read&& read) {
  try {
    read();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a tlcr::Error");
  return {};
}

}  // namespace

TEST_CASE("describe_json shows scalars and short flat containers, sizes otherwise") {
  CHECK(describe_json(nlohmann::json(nullptr)) == "null");
  CHECK(describe_json(nlohmann::json(true)) == "true");
  CHECK(describe_json(nlohmann::json(-42)) == "-42");
  CHECK(describe_json(nlohmann::json(2.5)) == "2.5");
  CHECK(describe_json(nlohmann::json("ab")) == "\"ab\"");
  CHECK(describe_json(nlohmann::json(std::string(100, 'x'))) ==
        "\"" + std::string(36, 'x') + "...");
  CHECK(describe_json(nlohmann::json::parse("[1, 2]")) == "[1,2]");
  CHECK(describe_json(nlohmann::ordered_json::parse(R"({"b": 1, "a": "x"})")) ==
        R"({"b":1,"a":"x"})");
  CHECK(describe_json(nlohmann::json::parse("[1, [2, 3], {}]")) == "an array of 3");
  CHECK(describe_json(nlohmann::json::parse("[1, 2, 3, 4, 5, 6, 7, 8, 9]")) == "an array of 9");
  CHECK(describe_json(nlohmann::json(std::vector<std::string>(3, std::string(20, 'y')))) ==
        "an array of 3");
  CHECK(describe_json(nlohmann::ordered_json::parse(R"({"b": 1, "a": [2]})")) ==
        "an object of 2 fields");
  // A deep value is described without recursion.
  CHECK(describe_json(nlohmann::json::parse(deep_array())) == "an array of 1");
  CHECK(describe_json(nlohmann::json::parse(deep_object())) == "an object of 1 fields");
}

TEST_CASE("every JSON reader reports a value nested 100k deep as an error") {
  const testing::ScratchDir dir("deep_json");

  SUBCASE("config.json") {
    nlohmann::json config = to_json(TransformerConfig::gpt2(50, 32, 2, 2, 16));
    config["n_embd"] = nlohmann::json::parse(deep_array());
    const std::string message = error_of([&] { config_from_json(config, "deep/config.json"); });
    CHECK(message.find(
              "deep/config.json: field 'n_embd': expected an integer, found an array of 1") !=
          std::string::npos);
  }
  SUBCASE("safetensors header") {
    const std::string header =
        R"({"x": {"dtype": )" + deep_array() + R"(, "shape": [1], "data_offsets": [0, 4]}})";
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    file += header + std::string(4, '\0');
    const auto path = dir.write("deep.safetensors", file);
    const std::string message = error_of([&] { safetensors::read_header(path); });
    CHECK(message.find("an array of 1") != std::string::npos);
  }
  SUBCASE("tlcr tokenizer JSON") {
    nlohmann::json tokenizer =
        nlohmann::json::parse(tokenizer_to_json_text(testing::small_tokenizer()));
    tokenizer["version"] = nlohmann::json::parse(deep_object());
    const std::string message = error_of([&] { tokenizer_from_json(tokenizer, "deep.json"); });
    CHECK(message.find("deep.json: field 'version' is an object of 1 fields") != std::string::npos);
  }
  SUBCASE("GPT-2 vocab.json") {
    const auto vocab = dir.write("vocab.json", R"({"a": 0, "b": )" + deep_array() + "}");
    const auto merges = dir.write("merges.txt", "#version: 0.2\n");
    const std::string message = error_of([&] { load_gpt2_tokenizer(vocab, merges); });
    CHECK(message.find("an array of 1") != std::string::npos);
  }
  SUBCASE("PPO settings") {
    const nlohmann::json settings = {{"kl_estimator", nlohmann::json::parse(deep_array())}};
    const std::string message =
        error_of([&] { apply_ppo_config_json(PpoConfig{}, settings, "deep.json"); });
    CHECK(message.find("expected a string, found an array of 1") != std::string::npos);
  }
  SUBCASE("JSONL records") {
    const auto prompts = dir.write("prompts.jsonl", R"({"prompt": )" + deep_object() + "}\n");
    const std::string message = error_of([&] { read_jsonl<PromptRecord>(prompts); });
    CHECK(message.find("prompts.jsonl:1: field 'prompt': expected a string, found an object") !=
          std::string::npos);
  }
}

TEST_CASE("a number JSON cannot hold (1e999) is an error about the file, in every reader") {
  const testing::ScratchDir dir("json_1e999");
  const auto tokenizer = dir.write("tokenizer.json", R"({"format": "tlcr-bpe", "version": 1e999})");
  CHECK_THROWS_WITH_AS(load_tokenizer(tokenizer),
                       doctest::Contains("tokenizer.json: not valid JSON"), Error);
  const auto vocab = dir.write("vocab.json", R"({"a": 1e999})");
  const auto merges = dir.write("merges.txt", "#version: 0.2\n");
  CHECK_THROWS_WITH_AS(load_gpt2_tokenizer(vocab, merges),
                       doctest::Contains("vocab.json: not valid JSON"), Error);
  const std::string header = R"({"x": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  const auto weights = dir.write("w.safetensors", file + header + std::string(4, '\0'));
  CHECK_THROWS_WITH_AS(safetensors::read_header(weights),
                       doctest::Contains("the header is not valid JSON"), Error);
}
