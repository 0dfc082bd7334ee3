// Tests against OpenAI's published tokenizer files: GPT-2's encoder.json + vocab.bpe and the
// r50k / p50k / cl100k *.tiktoken rank files, fetched from npm by fetch_tokenizer_files.cmake.
//
// The files are looked for in $TLCR_TOKENIZER_DATA, else in "tokenizer_data" beside this test
// executable. A missing file FAILS the test, unless TLCR_SKIP_NETWORK_TESTS=1.
// The expected ids below were produced by the reference JavaScript encoders of the npm packages
// gpt-3-encoder 1.1.4 (GPT-2) and gpt-tokenizer 4.0.0 (cl100k_base); TestPlans.txt, shipped with
// gpt-tokenizer 2.1.1, adds 256 more samples across four encodings.
// Hugging Face tokenizer.json files of GPT-2, Mistral 7B (SentencePiece-style BPE with byte
// fallback, as in Llama 2) and Llama 3, from npm @lenml/tokenizer-*, are checked against the test
// cases of mistral-tokenizer-js and llama3-tokenizer-js, whose expected ids their authors took
// from the reference tokenizers (SentencePiece, tiktoken).
#include <doctest/doctest.h>
#include <tlcr/io/tokenizer_file.hpp>
#include <tlcr/text/hf_tokenizer_json.hpp>
#include <tlcr/text/openai_files.hpp>

#include "text_testing.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace tlcr;
using Ids = std::vector<TokenId>;
namespace fs = std::filesystem;

namespace {

fs::path data_dir() {
  if (const char* dir = std::getenv("TLCR_TOKENIZER_DATA")) return dir;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  return (error ? fs::current_path() : executable.parent_path()) / "tokenizer_data";
}

// The path of a fetched file; nothing (with a failed check, or a skip note) when it is missing.
std::optional<fs::path> data_file(const std::string& relative) {
  const fs::path path = data_dir() / relative;
  if (fs::exists(path)) return path;
  const char* skip = std::getenv("TLCR_SKIP_NETWORK_TESTS");
  if (skip != nullptr && std::string(skip) == "1") {
    MESSAGE("skipped (TLCR_SKIP_NETWORK_TESTS=1): " << path << " is missing");
  } else {
    FAIL_CHECK(path << " is missing. Fetch it with\n  cmake -DDEST=" << data_dir()
                    << " -P tests/text/fetch_tokenizer_files.cmake\nor set "
                       "TLCR_SKIP_NETWORK_TESTS=1 to skip these tests.");
  }
  return std::nullopt;
}

// Each tokenizer is loaded once per run; nullptr (and a failed check in the calling test) while
// its files are missing.
const BpeTokenizer* gpt2() {
  static std::unique_ptr<BpeTokenizer> tokenizer;
  if (tokenizer == nullptr) {
    const auto vocab = data_file("gpt2/encoder.json"), merges = data_file("gpt2/vocab.bpe");
    if (!vocab || !merges) return nullptr;
    tokenizer = std::make_unique<BpeTokenizer>(load_gpt2_tokenizer(*vocab, *merges));
  }
  return tokenizer.get();
}

const BpeTokenizer* tiktoken(const std::string& encoding) {
  static std::map<std::string, std::unique_ptr<BpeTokenizer>> loaded;
  if (loaded.count(encoding) == 0) {
    const std::string file = encoding == "p50k_edit" ? "p50k_base" : encoding;
    const auto path = data_file("tiktoken/" + file + ".tiktoken");
    if (!path) return nullptr;
    loaded[encoding] = std::make_unique<BpeTokenizer>(load_tiktoken(*path, encoding));
  }
  return loaded[encoding].get();
}

struct KnownIds {
  std::string text;
  Ids ids;
};

const std::vector<KnownIds> gpt2_known = {
    {"Hello world", {15496, 995}},
    {"I'm sure they'll say it's what we've done, isn't it? You'd think so.",
     {40,   1101, 1654, 484, 1183, 910, 340, 338,  644, 356, 1053,
      1760, 11,   2125, 470, 340,  30,  921, 1549, 892, 523, 13}},
    {"IT'S ALL CAPS, WE'RE SHOUTING",
     {2043, 6, 50, 11096, 20176, 50, 11, 12887, 6, 2200, 6006, 12425, 2751}},
    {"Привет, мир! Как дела?",
     {140, 253,   21169, 18849, 38857, 16843, 20375, 11,    12466, 120,   18849, 21169,
      0,   12466, 248,   16142, 31583, 12466, 112,   16843, 30143, 16142, 30}},
    {"中文分词测试，我们今天去公园。",
     {40792, 23877, 229,   26344, 228,   46237, 235,   38184, 233, 46237, 243, 171,   120, 234,
      22755, 239,   20015, 105,   20015, 232,   25465, 43889, 119, 17739, 105, 32368, 255, 16764}},
    {"こんにちは、世界！",
     {46036, 22174, 28618, 2515, 94, 31676, 23513, 10310, 244, 45911, 234, 171, 120, 223}},
    {"👍🏽 🇺🇸 😀😀😀 👨‍👩‍👧",
     {41840, 235,   8582, 237,   121, 12520, 229, 118,   8582, 229, 116, 30325, 222, 47249,
      222,   47249, 222,  50169, 101, 447,   235, 41840, 102,  447, 235, 41840, 100}},
    {"The year 2024 had 366 days; pi ≈ 3.14159265358979.",
     {464, 614, 48609, 550, 44856, 1528, 26, 31028, 15139, 230, 513, 13, 1415, 19707, 22980, 2327,
      4531, 3720, 13}},
    {"    four spaces before, two after  ",
     {220, 220, 220, 1440, 9029, 878, 11, 734, 706, 220, 220}},
    {"tabs\tand\t\tnewlines\n\nmixed  \n  in",
     {8658, 82, 197, 392, 197, 197, 3605, 6615, 198, 198, 76, 2966, 220, 220, 198, 220, 287}},
    {"def f(x):\n    return x ** 2\n",
     {4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 12429, 362, 198}},
    {"Straße über naïve café résumé",
     {41347, 39683, 68, 6184, 120, 527, 41492, 40304, 40560, 16345, 2634}},
    {"a  b   c    d", {64, 220, 275, 220, 220, 269, 220, 220, 220, 288}},
};

const std::vector<KnownIds> cl100k_known = {
    {"Hello world", {9906, 1917}},
    {"I'm sure they'll say it's what we've done, isn't it? You'd think so.",
     {40,   2846, 2771, 814, 3358, 2019, 433,  596,  1148, 584, 3077,
      2884, 11,   4536, 956, 433,  30,   1472, 4265, 1781, 779, 13}},
    {"IT'S ALL CAPS, WE'RE SHOUTING",
     {964, 13575, 13398, 27193, 50, 11, 20255, 95253, 6570, 3740, 1753}},
    {"Привет, мир! Как дела?",
     {54745, 28089, 8341, 11, 11562, 78746, 0, 36479, 16248, 95369, 1506, 30}},
    {"中文分词测试，我们今天去公园。",
     {16325, 17161, 17620, 6744, 235, 82805, 3922, 98739, 37271, 36827, 86436, 35417, 9921, 255,
      1811}},
    {"こんにちは、世界！", {90115, 5486, 3574, 244, 98220, 6447}},
    {"👍🏽 🇺🇸 😀😀😀 👨‍👩‍👧",
     {9468,  239, 235,   9468, 237, 121, 11410, 229, 118, 9468, 229, 116,  91416, 76460, 222,
      76460, 222, 62904, 101,  378, 235, 9468,  239, 102, 378,  235, 9468, 239,   100}},
    {"The year 2024 had 366 days; pi ≈ 3.14159265358979.",
     {791,   1060, 220, 2366, 19, 1047, 220,   18044, 2919,  26,   9115,
      21784, 230,  220, 18,   13, 9335, 20128, 21598, 22905, 4643, 13}},
    {"    four spaces before, two after  ", {262, 3116, 12908, 1603, 11, 1403, 1306, 256}},
    {"tabs\tand\t\tnewlines\n\nmixed  \n  in",
     {32093, 53577, 197, 8808, 8128, 271, 57785, 2355, 220, 304}},
    {"def f(x):\n    return x ** 2\n", {755, 282, 2120, 997, 262, 471, 865, 3146, 220, 17, 198}},
    {"Straße über naïve café résumé", {77414, 24352, 14104, 95980, 588, 53050, 9517, 1264, 978}},
    {"a  b   c    d", {64, 220, 293, 256, 272, 262, 294}},
};

void check_known(const BpeTokenizer& tokenizer, const std::vector<KnownIds>& known) {
  for (const KnownIds& k : known) {
    CAPTURE(k.text);
    CHECK(tokenizer.encode(k.text) == k.ids);
    CHECK(tokenizer.decode(k.ids) == k.text);
  }
}

}  // namespace

TEST_CASE("GPT-2 vocab.json + merges.txt: ids of known strings") {
  const BpeTokenizer* tokenizer = gpt2();
  if (tokenizer == nullptr) return;
  CHECK(tokenizer->vocab_size() == 50257);
  CHECK(tokenizer->spec().merges.size() == 50000);
  check_known(*tokenizer, gpt2_known);
}

TEST_CASE("cl100k_base.tiktoken: ids of known strings") {
  const BpeTokenizer* tokenizer = tiktoken("cl100k_base");
  if (tokenizer == nullptr) return;
  CHECK(tokenizer->vocab_size() == 100277);
  check_known(*tokenizer, cl100k_known);
}

TEST_CASE("r50k_base.tiktoken encodes exactly like GPT-2's merge files") {
  const BpeTokenizer* merges = gpt2();
  const BpeTokenizer* ranks = tiktoken("r50k_base");
  if (merges == nullptr || ranks == nullptr) return;
  check_known(*ranks, gpt2_known);
  Rng rng(101);
  for (int trial = 0; trial < 200; ++trial) {
    const std::string text = trial % 2 == 0 ? testing::random_text(rng, 50)
                                            : testing::random_bytes(rng, rng.uniform_int(300));
    REQUIRE(ranks->encode(text) == merges->encode(text));
  }
}

TEST_CASE("every sample of TestPlans.txt (r50k, p50k, p50k_edit, cl100k)") {
  const auto plans = data_file("tiktoken/TestPlans.txt");
  if (!plans) return;
  const std::string text = detail::read_whole_file(*plans, "TestPlans");
  std::string encoding, sample;
  int checked = 0;
  bool missing = false;
  detail::for_each_line(text, [&](std::size_t line_number, std::string_view line) {
    if (line.starts_with("EncodingName: ")) encoding = line.substr(14);
    if (line.starts_with("Sample: ")) sample = line.substr(8);
    if (!line.starts_with("Encoded: ")) return;
    const Ids expected = nlohmann::json::parse(line.substr(9)).get<Ids>();
    const BpeTokenizer* tokenizer = tiktoken(encoding);
    if (tokenizer == nullptr) {
      missing = true;
      return;
    }
    CAPTURE(line_number);
    CAPTURE(encoding);
    CAPTURE(sample);
    CHECK(tokenizer->encode(sample) == expected);
    ++checked;
  });
  if (!missing) CHECK(checked == 256);
}

TEST_CASE("special tokens of the real vocabularies") {
  const BpeTokenizer* gpt2_tokenizer = gpt2();
  const BpeTokenizer* cl100k = tiktoken("cl100k_base");
  if (gpt2_tokenizer == nullptr || cl100k == nullptr) return;
  CHECK(gpt2_tokenizer->eos_id() == 50256);
  CHECK(gpt2_tokenizer->encode_with_special_tokens("Hi<|endoftext|>") == Ids{17250, 50256});
  CHECK(gpt2_tokenizer->encode("<|endoftext|>") == Ids{27, 91, 437, 1659, 5239, 91, 29});
  CHECK(cl100k->eos_id() == 100257);
  CHECK(cl100k->encode_with_special_tokens("<|fim_prefix|>x<|endofprompt|>") ==
        Ids{100258, 87, 100276});
  CHECK(cl100k->decode(Ids{100257}) == "<|endoftext|>");
}

TEST_CASE("real vocabularies round-trip random bytes") {
  const BpeTokenizer* gpt2_tokenizer = gpt2();
  const BpeTokenizer* cl100k = tiktoken("cl100k_base");
  if (gpt2_tokenizer == nullptr || cl100k == nullptr) return;
  Rng rng(103);
  for (int trial = 0; trial < 100; ++trial) {
    const std::string bytes = testing::random_bytes(rng, rng.uniform_int(400));
    REQUIRE(gpt2_tokenizer->decode(gpt2_tokenizer->encode(bytes)) == bytes);
    REQUIRE(cl100k->decode(cl100k->encode(bytes)) == bytes);
  }
}

TEST_CASE("GPT-2 and cl100k survive our JSON format") {
  const BpeTokenizer* gpt2_tokenizer = gpt2();
  const BpeTokenizer* cl100k = tiktoken("cl100k_base");
  if (gpt2_tokenizer == nullptr || cl100k == nullptr) return;
  const testing::ScratchDir dir("real_tokenizers");
  save_tokenizer(*gpt2_tokenizer, dir.path / "gpt2.json");
  save_tokenizer(*cl100k, dir.path / "cl100k.json");
  check_known(load_tokenizer(dir.path / "gpt2.json"), gpt2_known);
  check_known(load_tokenizer(dir.path / "cl100k.json"), cl100k_known);
}

// ---- Hugging Face tokenizer.json ----------------------------------------------------------------

namespace {

// A tokenizer of the hub, opened from its directory as every command opens it.
const BpeTokenizer* hub(const std::string& model) {
  static std::map<std::string, std::unique_ptr<BpeTokenizer>> loaded;
  if (loaded.count(model) == 0) {
    const auto path = data_file("hf/" + model + "/tokenizer.json");
    if (!path) return nullptr;
    loaded[model] = std::make_unique<BpeTokenizer>(open_tokenizer(path->parent_path()));
  }
  return loaded[model].get();
}

struct GoldenCase {
  std::string text;
  Ids ids;
};

std::vector<GoldenCase> golden(const std::string& model) {
  const auto path = data_file("hf/" + model + "_golden.json");
  if (!path) return {};
  std::vector<GoldenCase> cases;
  for (const auto& entry : nlohmann::json::parse(detail::read_whole_file(*path, "golden")))
    cases.push_back({entry.at("text").get<std::string>(), entry.at("ids").get<Ids>()});
  return cases;
}

}  // namespace

TEST_CASE("GPT-2's Hugging Face tokenizer.json encodes like its merge files") {
  const BpeTokenizer* merges = gpt2();
  const BpeTokenizer* hf = hub("gpt2");
  if (merges == nullptr || hf == nullptr) return;
  CHECK(hf->vocab_size() == 50257);
  CHECK(hf->eos_id() == 50256);
  check_known(*hf, gpt2_known);
  Rng rng(107);
  for (int trial = 0; trial < 200; ++trial) {
    const std::string text = trial % 2 == 0 ? testing::random_text(rng, 50)
                                            : testing::random_bytes(rng, rng.uniform_int(300));
    REQUIRE(hf->encode(text) == merges->encode(text));
  }
}

TEST_CASE(
    "Mistral's tokenizer.json (Llama 2-style BPE with byte fallback) gives the reference ids") {
  const BpeTokenizer* llama2 = hub("mistral");
  const std::vector<GoldenCase> cases = golden("mistral");
  if (llama2 == nullptr || cases.empty()) return;
  CHECK(llama2->vocab_size() == 32000);
  CHECK(llama2->spec().units == BpeUnits::characters);
  CHECK(llama2->bos_id() == 1);
  CHECK(llama2->eos_id() == 2);
  CHECK(cases.size() >= 10);
  for (const GoldenCase& c : cases) {
    CAPTURE(c.text);
    // The reference adds BOS (id 1) in front; our encode leaves it to the caller.
    REQUIRE(c.ids.front() == 1);
    const Ids expected(c.ids.begin() + 1, c.ids.end());
    CHECK(llama2->encode_with_special_tokens(c.text) == expected);
    CHECK(llama2->decode(expected) == c.text);
  }
  CHECK(llama2->encode_with_special_tokens("<s>Hi</s>") == Ids{1, 15359, 2});
  CHECK(llama2->encode("") == Ids{});
}

TEST_CASE(
    "Llama 3's tokenizer.json (byte-level, cl100k pattern, ignore_merges) gives the reference "
    "ids") {
  const BpeTokenizer* llama3 = hub("llama3");
  const std::vector<GoldenCase> cases = golden("llama3");
  if (llama3 == nullptr || cases.empty()) return;
  CHECK(llama3->vocab_size() == 128256);
  CHECK(llama3->pretokenizer() == Pretokenizer::cl100k);
  CHECK(llama3->spec().whole_pieces_first);
  CHECK(llama3->bos_id() == 128000);
  CHECK(cases.size() >= 10);
  int checked = 0;
  for (const GoldenCase& c : cases) {
    CAPTURE(c.text);
    // The test cases are Llama 3.1's, whose <|eom_id|> is a reserved token of this Llama 3 file.
    if (c.text.find("<|eom_id|>") != std::string::npos && !llama3->special_token_id("<|eom_id|>"))
      continue;
    ++checked;
    // Hugging Face's encode, like the reference, maps special-token text to its id.
    CHECK(llama3->encode_with_special_tokens(c.text) == c.ids);
    CHECK(llama3->decode(c.ids) == c.text);
  }
  CHECK(checked + 1 >= int(cases.size()));
}

TEST_CASE("hub tokenizers round-trip random text and survive our JSON format") {
  const BpeTokenizer* llama2 = hub("mistral");
  const BpeTokenizer* llama3 = hub("llama3");
  if (llama2 == nullptr || llama3 == nullptr) return;
  const testing::ScratchDir dir("hub_tokenizers");
  save_tokenizer(*llama2, dir.path / "llama2.json");
  save_tokenizer(*llama3, dir.path / "llama3.json");
  const BpeTokenizer llama2_again = open_tokenizer(dir.path / "llama2.json");
  const BpeTokenizer llama3_again = open_tokenizer(dir.path / "llama3.json");
  Rng rng(109);
  for (int trial = 0; trial < 100; ++trial) {
    const std::string text = testing::random_text(rng, 40);
    CAPTURE(text);
    const Ids ids2 = llama2->encode(text), ids3 = llama3->encode(text);
    REQUIRE(llama2->decode(ids2) == text);
    REQUIRE(llama3->decode(ids3) == text);
    REQUIRE(llama2_again.encode(text) == ids2);
    REQUIRE(llama3_again.encode(text) == ids3);
    // Random bytes (invalid UTF-8): byte fallback and byte-level BPE both keep every byte.
    const std::string bytes = testing::random_bytes(rng, rng.uniform_int(200));
    REQUIRE(llama3->decode(llama3->encode(bytes)) == bytes);
    const Ids fallback = llama2->encode(bytes);
    REQUIRE(llama2->decode(fallback) == bytes);
    REQUIRE(llama2_again.encode(bytes) == fallback);
  }
}
