// Tests for text/hf_tokenizer_json.hpp and the BPE settings it uses (bpe.hpp: character units,
// byte fallback, the space marker, whole pieces first): small hand-written tokenizer.json files
// with hand-checked ids, the tlcr format round trip, and the errors for what is not supported.
// The real hub files are tested in test_gpt2_files.cpp.
#include <doctest/doctest.h>
#include <tlcr/io/tokenizer_file.hpp>
#include <tlcr/text/hf_tokenizer_json.hpp>

#include "text_testing.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace tlcr;
using Ids = std::vector<TokenId>;
using Json = nlohmann::json;

namespace {

const std::string kMark = "\xE2\x96\x81";  // ▁

// A Llama 2-style file: <unk> <s> </s>, the 256 byte-fallback tokens (ids 3…258), then
// ▁ a b ▁a ab ▁ab (259…264) with merges "▁ a" < "a b" < "▁a b".
Json sentencepiece_file() {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    vocab[name] = 3 + byte;
  }
  vocab[kMark] = 259, vocab["a"] = 260, vocab["b"] = 261, vocab[kMark + "a"] = 262;
  vocab["ab"] = 263, vocab[kMark + "ab"] = 264;
  Json added = Json::array();
  for (int id = 0; id < 3; ++id)
    added.push_back({{"id", id},
                     {"content", id == 0   ? "<unk>"
                                 : id == 1 ? "<s>"
                                           : "</s>"},
                     {"special", true}});
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", kMark}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMark}}}}}},
          {"pre_tokenizer", nullptr},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"vocab", vocab},
            {"merges", {kMark + " a", "a b", kMark + "a b"}}}}};
}

// A byte-level file: the 256 bytes in GPT-2's alphabet, then "ab" (256), "bc" (257), "abc"
// (258) with merges "b c" < "a b" (no merge makes abc from ab + c), and <|end|> (259).
Json byte_level_file(bool ignore_merges) {
  Json vocab = Json::object();
  for (int byte = 0; byte < 256; ++byte)
    vocab[bytes_to_printable(std::string(1, char(byte)))] = byte;
  vocab["ab"] = 256, vocab["bc"] = 257, vocab["abc"] = 258;
  return {
      {"added_tokens", {{{"id", 259}, {"content", "<|end|>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"ignore_merges", ignore_merges},
        {"vocab", vocab},
        {"merges", Json::array({Json::array({"b", "c"}), Json::array({"a", "b"})})}}}};
}

}  // namespace

TEST_CASE("SentencePiece-style BPE: the space marker, merges and byte fallback, hand-checked") {
  const BpeTokenizer t = tokenizer_from_hf_json(sentencepiece_file());
  CHECK(t.spec().units == BpeUnits::characters);
  CHECK(t.spec().space_marker == SpaceMarker::every_segment);
  // "ab ab" → "▁ab▁ab": ▁ a b ▁ a b → (▁ a) twice → (▁a b) twice.
  CHECK(t.encode("ab ab") == Ids{264, 264});
  CHECK(t.decode(Ids{264, 264}) == "ab ab");
  // "ba" → "▁ba": ▁ b a; only "▁ a" could merge and ▁ is not next to a.
  CHECK(t.encode("ba") == Ids{259, 261, 260});
  // é (C3 A9) has no token: its bytes' fallback tokens 3 + 0xC3, 3 + 0xA9.
  CHECK(t.encode("\xC3\xA9") == Ids{259, 3 + 0xC3, 3 + 0xA9});
  CHECK(t.decode(Ids{259, 3 + 0xC3, 3 + 0xA9}) == "\xC3\xA9");
  CHECK(t.token_text(3 + 0x41) == "<0x41>");
  // A leading space survives: "▁▁a" decodes to "  a", minus the marker's space.
  CHECK(t.encode(" a") == Ids{259, 262});
  CHECK(t.decode(t.encode(" a")) == " a");
  // Special tokens are split first; each stretch of text gets its own "▁" (Prepend).
  CHECK(t.encode_with_special_tokens("<s>ab</s>") == Ids{1, 264, 2});
  CHECK(t.bos_id() == 1);
  CHECK(t.eos_id() == 2);
  CHECK(t.encode("").empty());
  // A continuation gets no marker of its own: " ab" after a prompt is "▁ab", as in one text.
  CHECK(t.encode_continuation(" ab") == Ids{264});
  CHECK(t.encode_continuation("ab") == Ids{263});
  CHECK(t.decode(Ids{264}) == "ab");  // the leading space reads as the marker's
  // Any bytes round-trip (invalid UTF-8 goes through byte fallback).
  Rng rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const std::string bytes = testing::random_bytes(rng, rng.uniform_int(60));
    REQUIRE(t.decode(t.encode(bytes)) == bytes);
  }
}

TEST_CASE("without byte fallback, unknown characters fuse into one unknown token") {
  Json file = sentencepiece_file();
  file["model"]["byte_fallback"] = false;
  const BpeTokenizer fused = tokenizer_from_hf_json(file);
  CHECK(fused.encode("a\xC3\xA9\xC3\xA9") == Ids{262, 0});
  file["model"]["fuse_unk"] = false;
  const BpeTokenizer unfused = tokenizer_from_hf_json(file);
  CHECK(unfused.encode("a\xC3\xA9\xC3\xA9") == Ids{262, 0, 0});
}

TEST_CASE("Metaspace with prepend_scheme first marks only the text's start") {
  Json file = sentencepiece_file();
  file["normalizer"] = nullptr;
  file["pre_tokenizer"] = {
      {"type", "Metaspace"}, {"replacement", kMark}, {"prepend_scheme", "first"}, {"split", false}};
  const BpeTokenizer t = tokenizer_from_hf_json(file);
  CHECK(t.spec().space_marker == SpaceMarker::first_segment);
  CHECK(t.encode_with_special_tokens("ab<s>ab") == Ids{264, 1, 263});
  file["pre_tokenizer"]["prepend_scheme"] = "always";
  CHECK(tokenizer_from_hf_json(file).encode_with_special_tokens("ab<s>ab") == Ids{264, 1, 264});
}

TEST_CASE("byte-level BPE: merges by rank, or the whole piece first (ignore_merges)") {
  const BpeTokenizer by_merges = tokenizer_from_hf_json(byte_level_file(false));
  // "abc": "b c" (rank 0) wins over "a b" (rank 1); a + bc never merges.
  CHECK(by_merges.encode("abc") == Ids{'a', 257});
  CHECK(by_merges.encode("ab") == Ids{256});
  const BpeTokenizer whole = tokenizer_from_hf_json(byte_level_file(true));
  CHECK(whole.spec().whole_pieces_first);
  CHECK(whole.encode("abc") == Ids{258});
  CHECK(whole.encode("abc abc") == Ids{258, ' ', 'a', 257});  // " abc" is no token: merges
  CHECK(whole.encode_continuation(" abc") == whole.encode(" abc"));
  CHECK(whole.encode_with_special_tokens("ab<|end|>") == Ids{256, 259});
  CHECK(whole.has_eos() == false);  // no usual name and no tokenizer_config.json
}

TEST_CASE("tokenizer_config.json gives the roles") {
  const Json config = {
      {"bos_token", {{"content", "<|end|>"}}}, {"eos_token", "<|end|>"}, {"pad_token", nullptr}};
  const BpeTokenizer t = tokenizer_from_hf_json(byte_level_file(false), &config);
  CHECK(t.bos_id() == 259);
  CHECK(t.eos_id() == 259);
  CHECK_FALSE(t.has_pad());
  const Json wrong = {{"eos_token", "<|nope|>"}};
  CHECK_THROWS_WITH_AS(tokenizer_from_hf_json(byte_level_file(false), &wrong),
                       "tokenizer_config.json: field 'eos_token' is '<|nope|>', which is not an "
                       "added token of tokenizer.json",
                       Error);
}

TEST_CASE("Hugging Face tokenizers survive our JSON format (version 2) and open_tokenizer") {
  const testing::ScratchDir dir("hf_tokenizer");
  for (const Json& file : {sentencepiece_file(), byte_level_file(true)}) {
    const BpeTokenizer original = tokenizer_from_hf_json(file);
    save_tokenizer(original, dir.path / "ours.json");
    const BpeTokenizer ours = open_tokenizer(dir.path / "ours.json");
    CHECK(load_tokenizer(dir.path / "ours.json").spec().units == original.spec().units);
    std::filesystem::create_directories(dir.path / "hub");
    dir.write("hub/tokenizer.json", file.dump());
    const BpeTokenizer hub = open_tokenizer(dir.path / "hub");
    Rng rng(13);
    for (int trial = 0; trial < 30; ++trial) {
      const std::string text = testing::random_text(rng, 12) + " ab abc";
      REQUIRE(ours.encode(text) == original.encode(text));
      REQUIRE(hub.encode(text) == original.encode(text));
    }
  }
  // A tokenizer that needs no version-2 setting is still written as version 1.
  save_tokenizer(testing::small_tokenizer(), dir.path / "v1.json");
  CHECK(open_tokenizer(dir.path / "v1.json").spec().units == BpeUnits::bytes);
  std::ifstream saved(dir.path / "v1.json");
  const std::string text((std::istreambuf_iterator<char>(saved)), {});
  CHECK(text.find("\"version\": 1,") != std::string::npos);
}

TEST_CASE("what a tokenizer.json asks for and this reader cannot do is an error naming the field") {
  const auto error_of = [](const Json& file) -> std::string {
    try {
      tokenizer_from_hf_json(file, nullptr, "t.json");
    } catch (const Error& error) {
      return error.what();
    }
    return "(no error)";
  };
  Json file = byte_level_file(false);
  file["model"]["type"] = "WordPiece";
  CHECK(error_of(file) ==
        "t.json: field 'model.type' is 'WordPiece'; only BPE tokenizers are supported");
  file = byte_level_file(false);
  file["model"]["dropout"] = 0.1;
  CHECK(error_of(file) == "t.json: field 'model.dropout' is 0.1; BPE dropout is not supported");
  file = byte_level_file(false);
  file["normalizer"] = {{"type", "NFC"}};
  CHECK(error_of(file).starts_with(
      "t.json: field 'normalizer': a byte-level tokenizer with a normalizer"));
  file = byte_level_file(false);
  file["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", "\\p{N}"}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  CHECK(error_of(file).find("is not a pattern this build implements") != std::string::npos);
  file = byte_level_file(false);
  file["model"]["merges"][1] = "a";
  CHECK(error_of(file) == "t.json: model.merges[1]: expected \"left right\", found \"a\"");
  file["model"]["merges"][1] = 5;
  CHECK(error_of(file) ==
        "t.json: model.merges[1]: expected \"left right\" or [left, right], found 5");
  file = byte_level_file(false);
  file["model"]["merges"][1] = Json::array({"a", "zz"});
  CHECK(error_of(file) == "t.json: model.merges[1]: 'zz' is not in the vocabulary");
  file = byte_level_file(false);
  file["model"]["vocab"]["xyz"] = 3;
  CHECK(error_of(file) == "t.json: model.vocab: tokens 'xyz' and '" + bytes_to_printable("\x03") +
                              "' share id 3");  // keys in nlohmann-json's (sorted) order
  file = byte_level_file(false);
  file["model"]["vocab"]["ab"] = "256";
  CHECK(error_of(file).starts_with("t.json: model.vocab['ab']: expected an id in [0, "));
  file = sentencepiece_file();
  file["model"]["vocab"].erase("<0x41>");
  CHECK(error_of(file) == "t.json: model.byte_fallback: '<0x41>' is not in the vocabulary");
  file = sentencepiece_file();
  file["normalizer"] = nullptr;
  CHECK(
      error_of(file).find("is not supported for a tokenizer without a byte-level pre-tokenizer") !=
      std::string::npos);
  file = byte_level_file(false);
  file["pre_tokenizer"]["type"] = 7;
  CHECK(error_of(file).starts_with("t.json: field 'pre_tokenizer.type': expected a string"));
  CHECK(error_of(Json::array()) == "t.json: expected a JSON object, found []");
}
