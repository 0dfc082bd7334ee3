// Tests for io/tokenizer_file.hpp and text/tokenizer_json.hpp: save/load round trips (merge_list
// and token_rank, special tokens, unused ids), the file's shape, and errors that name the file and
// the field.
#include <doctest/doctest.h>
#include <tlcr/io/tokenizer_file.hpp>

#include "text/text_testing.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

using namespace tlcr;

namespace {

void check_same_tokenizer(const BpeTokenizer& a, const BpeTokenizer& b) {
  CHECK(a.spec().pretokenizer == b.spec().pretokenizer);
  CHECK(a.spec().ranking == b.spec().ranking);
  CHECK(a.spec().tokens == b.spec().tokens);
  CHECK(a.spec().merges == b.spec().merges);
  CHECK(a.spec().bos == b.spec().bos);
  CHECK(a.spec().eos == b.spec().eos);
  CHECK(a.spec().pad == b.spec().pad);
  REQUIRE(a.spec().special_tokens.size() == b.spec().special_tokens.size());
  for (std::size_t i = 0; i < a.spec().special_tokens.size(); ++i) {
    CHECK(a.spec().special_tokens[i].text == b.spec().special_tokens[i].text);
    CHECK(a.spec().special_tokens[i].id == b.spec().special_tokens[i].id);
  }
  Rng rng(1);
  for (int trial = 0; trial < 30; ++trial) {
    const std::string text = testing::random_text(rng, 40) + testing::random_bytes(rng, 20);
    CHECK(a.encode(text) == b.encode(text));
  }
}

// A minimal valid file body with one field replaced.
std::string file_with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> fields = {{"format", "\"tlcr-bpe\""},
                                               {"version", "1"},
                                               {"pretokenizer", "\"gpt2\""},
                                               {"merge_ranking", "\"merge_list\""},
                                               {"merges", "[]"},
                                               {"special_tokens", "[]"},
                                               {"bos", "\"\""},
                                               {"eos", "\"\""},
                                               {"pad", "\"\""}};
  std::string tokens = "[";
  for (int byte = 0; byte < 256; ++byte) {
    if (byte > 0) tokens += ",";
    tokens += nlohmann::json(bytes_to_printable(std::string(1, char(byte)))).dump();
  }
  fields["tokens"] = tokens + "]";
  if (value.empty()) {
    fields.erase(field);
  } else {
    fields[field] = value;
  }
  std::string text = "{";
  for (const auto& [key, body] : fields) {
    if (text.size() > 1) text += ",";
    text += "\"" + key + "\":" + body;
  }
  return text + "}";
}

}  // namespace

TEST_CASE("a trained tokenizer survives save and load") {
  const testing::ScratchDir dir("tokenizer_file");
  const BpeTokenizer& tokenizer = testing::small_tokenizer();
  const auto path = dir.path / "sub" / "tokenizer.json";
  save_tokenizer(tokenizer, path);
  const BpeTokenizer loaded = load_tokenizer(path);
  check_same_tokenizer(tokenizer, loaded);
  CHECK(loaded.eos_id() == tokenizer.eos_id());
  // Valid JSON, one token per line in the printable alphabet, no temporary left behind.
  const std::string text = testing::read_file(path);
  CHECK(nlohmann::json::parse(text)["tokens"][32] == "Ġ");
  CHECK(text.find("\n    \"Ġ\",\n") != std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path / "sub"),
                      std::filesystem::directory_iterator()) == 1);
  // Saving again gives the same bytes.
  save_tokenizer(loaded, dir.path / "again.json");
  CHECK(testing::read_file(dir.path / "again.json") == text);
}

TEST_CASE("a token_rank tokenizer with unused ids and special tokens survives save and load") {
  BpeSpec spec = testing::small_tokenizer().spec();
  spec.ranking = MergeRanking::token_rank;
  spec.pretokenizer = Pretokenizer::cl100k;
  spec.merges.clear();
  spec.tokens[300].reset();  // an unused id in the middle
  spec.special_tokens = {{"<|endoftext|>", 500}, {"<|x|>", 300}};
  spec.bos = spec.eos = "<|endoftext|>";
  spec.pad = "";
  const BpeTokenizer tokenizer(spec);
  const testing::ScratchDir dir("tokenizer_file_rank");
  save_tokenizer(tokenizer, dir.path / "t.json");
  const BpeTokenizer loaded = load_tokenizer(dir.path / "t.json");
  check_same_tokenizer(tokenizer, loaded);
  CHECK(loaded.vocab_size() == 501);
  CHECK(loaded.encode_with_special_tokens("a<|x|>") == std::vector<TokenId>{'a', 300});
}

TEST_CASE("loading names the file and the field of each problem") {
  const testing::ScratchDir dir("tokenizer_file_errors");
  const auto load = [&](const std::string& contents) {
    return load_tokenizer(dir.write("bad.json", contents));
  };
  const std::string name = (dir.path / "bad.json").string();
  CHECK_NOTHROW(load(file_with("pad", "\"\"")));
  CHECK_THROWS_WITH_AS(load_tokenizer(dir.path / "missing.json"),
                       doctest::Contains("cannot open tokenizer file '"), Error);
  CHECK_THROWS_WITH_AS(load("{\"format\": "), testing::contains(name + ": not valid JSON: "),
                       Error);
  CHECK_THROWS_WITH_AS(load(file_with("format", "\"other\"")),
                       testing::message(name + ": field 'format' is 'other', expected 'tlcr-bpe'"),
                       Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("version", "7")),
      testing::message(name + ": field 'version' is 7, this build reads versions 1 to 2"), Error);
  CHECK_THROWS_WITH_AS(load(file_with("tokens", "")),
                       testing::message(name + ": missing field 'tokens'"), Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("pretokenizer", "\"bert\"")),
      testing::message(
          name + ": unknown pre-tokenizer 'bert' (expected \"gpt2\", \"cl100k\" or \"none\")"),
      Error);
  CHECK_THROWS_WITH_AS(load(file_with("eos", "3")),
                       testing::message(name + ": field 'eos': expected a string, found number"),
                       Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("tokens", "[\"a\", 5]")),
      testing::message(name + ": tokens[1]: expected a string or null, found number"), Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("tokens", "[\"a b\"]")),
      testing::message(name + ": tokens[0]: 'a b' has a character outside GPT-2's printable "
                              "byte alphabet"),
      Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("merges", "[[1, 2], [3]]")),
      testing::message(name + ": merges[1]: expected [left id, right id], found [3]"), Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("merges", "[[1, -2]]")),
      testing::message(name + ": merges[0]: expected a token id in [0, 16777215], found -2"),
      Error);
  CHECK_THROWS_WITH_AS(
      load(file_with("special_tokens", "[{\"text\": \"<s>\", \"id\": 99999999}]")),
      testing::message(name + ": special_tokens[0]: field 'id': expected a token id in [0, "
                              "16777215], found 99999999"),
      Error);
  CHECK_THROWS_WITH_AS(load(file_with("special_tokens", "[{\"text\": \"<s>\"}]")),
                       testing::message(name + ": special_tokens[0]: missing field 'id'"), Error);
  // Consistency problems found by BpeTokenizer are reported with the file name too.
  CHECK_THROWS_WITH_AS(
      load(file_with("merges", "[[97, 122]]")),
      testing::message(name + ": BpeTokenizer: merge 0 (97, 122) makes 'az', which is not a token"),
      Error);
}
