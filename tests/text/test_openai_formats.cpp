// Tests for text/openai_files.hpp and text/byte_alphabet.hpp on small hand-made files: GPT-2's
// byte alphabet, vocab.json + merges.txt, *.tiktoken, base64, and error messages that name the
// file and line. (The real published files are tested in test_gpt2_files.cpp.)
#include <doctest/doctest.h>
#include <tlcr/text/openai_files.hpp>

#include "text_testing.hpp"

#include <string>
#include <vector>

using namespace tlcr;
using Ids = std::vector<TokenId>;

namespace {

// vocab.json with the 256 byte tokens (id = byte), "Ġt", "he", "Ġthe" and <|endoftext|>.
std::string small_vocab_json(const std::string& extra_entries = "") {
  nlohmann::json vocab = nlohmann::json::object();
  for (int byte = 0; byte < 256; ++byte)
    vocab[bytes_to_printable(std::string(1, char(byte)))] = byte;
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  vocab["<|endoftext|>"] = 259;
  std::string text = vocab.dump();
  if (!extra_entries.empty()) text.insert(text.size() - 1, "," + extra_entries);
  return text;
}

const std::string small_merges = "#version: 0.2\nĠ t\nh e\nĠt he\n";

// A .tiktoken file: the 256 bytes with rank = byte, then "ab" 256 and "abc" 257.
std::string small_tiktoken() {
  std::string text;
  const auto base64 = [](const std::string& bytes) {
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
      std::uint32_t chunk = std::uint8_t(bytes[i]) << 16;
      if (i + 1 < bytes.size()) chunk |= std::uint8_t(bytes[i + 1]) << 8;
      if (i + 2 < bytes.size()) chunk |= std::uint8_t(bytes[i + 2]);
      out += alphabet[(chunk >> 18) & 63];
      out += alphabet[(chunk >> 12) & 63];
      out += i + 1 < bytes.size() ? alphabet[(chunk >> 6) & 63] : '=';
      out += i + 2 < bytes.size() ? alphabet[chunk & 63] : '=';
    }
    return out;
  };
  for (int byte = 0; byte < 256; ++byte)
    text += base64(std::string(1, char(byte))) + " " + std::to_string(byte) + "\n";
  return text + base64("ab") + " 256\n" + base64("abc") + " 257\n";
}

}  // namespace

TEST_CASE("GPT-2's byte alphabet: printable bytes stand for themselves, the rest shift up") {
  CHECK(byte_to_printable('A') == U'A');
  CHECK(byte_to_printable(' ') == U'Ġ');   // U+0120
  CHECK(byte_to_printable('\n') == U'Ċ');  // U+010A
  CHECK(byte_to_printable(0x00) == U'Ā');  // U+0100, the first stand-in
  CHECK(byte_to_printable(0xAD) == U'Ń');  // U+0143, the last stand-in
  CHECK(byte_to_printable(0xE9) == U'é');
  CHECK(bytes_to_printable(" hello\n") == "ĠhelloĊ");
  CHECK(printable_to_bytes("ĠhelloĊ") == " hello\n");
  CHECK_FALSE(printable_to_bytes("a b"));   // a real space is not in the alphabet
  CHECK_FALSE(printable_to_bytes("\xFF"));  // nor is invalid UTF-8
  // A bijection on all 256 bytes.
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all += char(byte);
  CHECK(printable_to_bytes(bytes_to_printable(all)) == all);
  CHECK(is_valid_utf8(bytes_to_printable(all)));
}

TEST_CASE("decode_base64") {
  CHECK(detail::decode_base64("") == "");
  CHECK(detail::decode_base64("YQ==") == "a");
  CHECK(detail::decode_base64("YWI=") == "ab");
  CHECK(detail::decode_base64("YWJj") == "abc");
  CHECK(detail::decode_base64("IFBhcmlz") == " Paris");
  CHECK(detail::decode_base64("/w==") == "\xFF");
  CHECK_FALSE(detail::decode_base64("YQ="));   // length not a multiple of 4
  CHECK_FALSE(detail::decode_base64("Y=Q="));  // padding inside
  CHECK_FALSE(detail::decode_base64("Y!=="));  // not in the alphabet
  CHECK_FALSE(detail::decode_base64("Y==="));  // three padding characters
}

TEST_CASE("load_gpt2_tokenizer reads vocab.json + merges.txt") {
  const testing::ScratchDir dir("gpt2_small");
  const BpeTokenizer tokenizer = load_gpt2_tokenizer(dir.write("vocab.json", small_vocab_json()),
                                                     dir.write("merges.txt", small_merges));
  CHECK(tokenizer.vocab_size() == 260);
  CHECK(tokenizer.spec().merges.size() == 3);
  CHECK(tokenizer.encode(" the") == Ids{258});
  CHECK(tokenizer.encode("the the") == Ids{'t', 257, 258});
  CHECK(tokenizer.eos_id() == 259);
  CHECK(tokenizer.bos_id() == 259);
  CHECK(tokenizer.encode_with_special_tokens("<|endoftext|> the") == Ids{259, 258});
  CHECK(tokenizer.decode(Ids{259, 258}) == "<|endoftext|> the");
}

TEST_CASE("load_gpt2_tokenizer names the file and line of each problem") {
  const testing::ScratchDir dir("gpt2_errors");
  const auto vocab = dir.write("vocab.json", small_vocab_json());
  const auto load_merges = [&](const std::string& merges) {
    return load_gpt2_tokenizer(vocab, dir.write("merges.txt", merges));
  };
  const std::string merges_name = (dir.path / "merges.txt").string();
  const std::string vocab_name = vocab.string();
  CHECK_THROWS_WITH_AS(
      load_merges("#version: 0.2\nĠt\n"),
      testing::message(merges_name + ":2: expected two tokens separated by one space, found 'Ġt'"),
      Error);
  CHECK_THROWS_WITH_AS(
      load_merges("Ġ t\nh  e\n"),
      testing::message(merges_name +
                       ":2: expected two tokens separated by one space, found 'h  e'"),
      Error);
  CHECK_THROWS_WITH_AS(load_merges("Ġ t\nzz e\n"),
                       testing::message(merges_name + ":2: 'zz' is not a token of " + vocab_name),
                       Error);
  CHECK_THROWS_WITH_AS(
      load_merges("#version: 0.2\nĠ t\na b\n"),
      testing::message(merges_name +
                       ":3: merging 'a' and 'b' makes 'ab', which is not a token of " + vocab_name),
      Error);
  CHECK_THROWS_WITH_AS(load_merges("h e\nĠ t\r\nh e\n"),
                       testing::message(merges_name + ":3: merge 'h e' appears twice"), Error);

  const auto merges = dir.write("merges.txt", small_merges);
  const auto load_vocab = [&](const std::string& text) {
    return load_gpt2_tokenizer(dir.write("vocab.json", text), merges);
  };
  CHECK_THROWS_WITH_AS(load_vocab("{\"a\": 1"), testing::contains(vocab_name + ": not valid JSON"),
                       Error);
  CHECK_THROWS_WITH_AS(
      load_vocab("[1, 2]"),
      testing::message(vocab_name + ": expected an object {token: id}, found array"), Error);
  CHECK_THROWS_WITH_AS(
      load_vocab(small_vocab_json("\"xyz\": \"7\"")),
      testing::message(vocab_name +
                       ": token 'xyz': expected an integer id in [0, 16777215], found \"7\""),
      Error);
  CHECK_THROWS_WITH_AS(load_vocab(small_vocab_json("\"xyz\": 257")),
                       doctest::Contains("' share id 257"), Error);
  CHECK_THROWS_WITH_AS(
      load_vocab(small_vocab_json("\"x y\": 300")),
      testing::message(vocab_name + ": token 'x y' (id 300) has a character outside GPT-2's "
                                    "printable byte alphabet"),
      Error);
  CHECK_THROWS_WITH_AS(load_gpt2_tokenizer(dir.path / "none.json", merges),
                       doctest::Contains("load_gpt2_tokenizer: cannot open '"), Error);
  // A vocabulary without every byte fails in BpeTokenizer, reported with both file names.
  nlohmann::json partial = nlohmann::json::parse(small_vocab_json());
  partial.erase("Ā");
  CHECK_THROWS_WITH_AS(
      load_vocab(partial.dump()),
      testing::message(vocab_name + " + " + merges_name +
                       ": BpeTokenizer: byte 0 has no token; a byte-level vocabulary needs all "
                       "256 single bytes"),
      Error);
}

TEST_CASE("load_tiktoken reads rank files under tiktoken's merge rule") {
  const testing::ScratchDir dir("tiktoken_small");
  const auto path = dir.write("small.tiktoken", small_tiktoken());
  const BpeTokenizer tokenizer =
      load_tiktoken(path, Pretokenizer::gpt2, {{"<|endoftext|>", 300}}, "<|endoftext|>");
  CHECK(tokenizer.spec().ranking == MergeRanking::token_rank);
  CHECK(tokenizer.vocab_size() == 301);
  CHECK(tokenizer.encode("abc") == Ids{257});
  CHECK(tokenizer.encode("abcab") == Ids{257, 256});
  CHECK(tokenizer.encode("cab") == Ids{'c', 256});
  CHECK(tokenizer.eos_id() == 300);
  CHECK_THROWS_WITH_AS(load_tiktoken(path, "o200k_base"),
                       "load_tiktoken: unknown encoding 'o200k_base' (known: r50k_base, "
                       "p50k_base, p50k_edit, cl100k_base)",
                       Error);
}

TEST_CASE("load_tiktoken names the file and line of each problem") {
  const testing::ScratchDir dir("tiktoken_errors");
  const auto load = [&](const std::string& text) {
    return load_tiktoken(dir.write("bad.tiktoken", text), Pretokenizer::gpt2, {});
  };
  const std::string name = (dir.path / "bad.tiktoken").string();
  CHECK_THROWS_WITH_AS(
      load("YQ== 0\nYg==\n"),
      testing::message(name + ":2: expected '<base64 token> <rank>', found 'Yg=='"), Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nY!== 1\n"),
                       testing::message(name + ":2: 'Y!==' is not valid base64 token bytes"),
                       Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nYg== one\n"),
                       testing::message(name + ":2: rank 'one' is not an integer in [0, 16777215]"),
                       Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nYg== -1\n"),
                       testing::message(name + ":2: rank '-1' is not an integer in [0, 16777215]"),
                       Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nYg== 16777216\n"),
                       testing::message(name + ":2: rank '16777216' is not an integer in [0, "
                                               "16777215]"),
                       Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nYg== 1\nYQ== 2\n"),
                       testing::message(name + ":3: token 'YQ==' already appeared on line 1"),
                       Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\nYg== 0\n"),
                       testing::message(name + ":2: rank 0 appears twice"), Error);
  CHECK_THROWS_WITH_AS(load("YQ== 0\n"),
                       testing::contains(name + ": BpeTokenizer: byte 0 has no token"), Error);
}
