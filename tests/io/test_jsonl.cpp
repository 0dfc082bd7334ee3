// Tests for io/jsonl.hpp: every record type round-trips through a file; bad records are reported
// as file:line: field 'x': expected …, found …, and either fail the read or are skipped and
// counted.
#include <tlcr/io/jsonl.hpp>
#include <tlcr/rlhf/records.hpp>
#include <tlcr/train/sft_data.hpp>
#include "support/testing.hpp"

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {

fs::path jsonl_dir() {
  const fs::path dir = fs::temp_directory_path() / ("tlcr_jsonl_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// Reads `text` as records of type R from a stream named "data.jsonl"; fails on the first bad one.
template <class R>
std::vector<R> read_text(const std::string& text) {
  std::istringstream in(text);
  return read_jsonl<R>(in, "data.jsonl").records;
}

}  // namespace

TEST_CASE("each record type round-trips through a JSONL file, keys in schema order") {
  const fs::path dir = jsonl_dir();
  const std::vector<PromptRecord> prompts{{"what colour is the fox ?"},
                                          {"naïve “quotes” \\ and \n"}};
  const std::vector<SftRecord> sft{{"p1", "r1"}, {"p2", ""}};
  const std::vector<PreferenceRecord> preferences{{"p", "good answer", "bad answer"}};
  const std::vector<RevisionRecord> revisions{{"p", "c", "r", "m"}};
  const std::vector<LabelRecord> labels{{{5, 6, 7}, "USD", {5, 9}, "UA"}, {{}, "", {-3}, "A"}};

  write_jsonl(dir / "prompts.jsonl", prompts);
  write_jsonl(dir / "sft.jsonl", sft);
  write_jsonl(dir / "preferences.jsonl", preferences);
  write_jsonl(dir / "revisions.jsonl", revisions);
  write_jsonl(dir / "labels.jsonl", labels);

  CHECK(read_jsonl<PromptRecord>(dir / "prompts.jsonl").records == prompts);
  CHECK(read_jsonl<SftRecord>(dir / "sft.jsonl").records == sft);
  CHECK(read_jsonl<PreferenceRecord>(dir / "preferences.jsonl").records == preferences);
  CHECK(read_jsonl<RevisionRecord>(dir / "revisions.jsonl").records == revisions);
  CHECK(read_jsonl<LabelRecord>(dir / "labels.jsonl").records == labels);

  CHECK(testing::read_file(dir / "preferences.jsonl") ==
        "{\"prompt\":\"p\",\"chosen\":\"good answer\",\"rejected\":\"bad answer\"}\n");
  CHECK(testing::read_file(dir / "labels.jsonl") ==
        "{\"rejected_ids\":[5,6,7],\"rejected_ops\":\"USD\",\"revised_ids\":[5,9],\"revised_ops\":"
        "\"UA\"}\n"
        "{\"rejected_ids\":[],\"rejected_ops\":\"\",\"revised_ids\":[-3],\"revised_ops\":\"A\"}\n");
  fs::remove_all(dir);
}

TEST_CASE("blank lines, CRLF endings, a BOM and extra fields are read without complaint") {
  const auto records = read_text<SftRecord>(
      "\xEF\xBB\xBF{\"prompt\":\"a\",\"response\":\"b\"}\r\n"
      "\n   \n"
      "{\"response\":\"d\",\"prompt\":\"c\",\"meta\":{\"source\":\"x\"}}\n");
  REQUIRE(records.size() == 2);
  CHECK(records[0] == SftRecord{"a", "b"});
  CHECK(records[1] == SftRecord{"c", "d"});
}

TEST_CASE("bad records name the file, the line, the field, what was expected and what was found") {
  struct Bad {
    const char* line;
    const char* message;
  };
  const Bad preference_cases[] = {
      {R"({"prompt":"p","chosen":"c"})",
       "data.jsonl:2: field 'rejected': expected a string, found nothing (missing)"},
      {R"({"prompt":"p","chosen":42,"rejected":"r"})",
       "data.jsonl:2: field 'chosen': expected a string, found a number (42)"},
      {R"({"prompt":null,"chosen":"c","rejected":"r"})",
       "data.jsonl:2: field 'prompt': expected a string, found null"},
      {R"({"prompt":["p"],"chosen":"c","rejected":"r"})",
       "data.jsonl:2: field 'prompt': expected a string, found an array of 1"},
      {R"(["p","c","r"])", "data.jsonl:2: expected a JSON object, found an array of 3"},
      {R"({"prompt":"p","chosen":"c","rejected":"r")",
       "data.jsonl:2: expected a JSON object, found malformed JSON"},
  };
  const std::string good = R"({"prompt":"p","chosen":"c","rejected":"r"})";
  for (const Bad& bad : preference_cases) {
    const std::string line = bad.line;
    CAPTURE(line);
    CHECK_THROWS_WITH_AS(read_text<PreferenceRecord>(good + "\n" + bad.line + "\n"),
                         doctest::Contains(bad.message), Error);
  }

  const Bad label_cases[] = {
      {R"({"rejected_ids":[1,2],"rejected_ops":"UA","revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ops': expected letters from \"USD\", found 'A' at position "
       "1"},
      {R"({"rejected_ids":[1],"rejected_ops":"U","revised_ids":[1,2],"revised_ops":"UD"})",
       "data.jsonl:2: field 'revised_ops': expected letters from \"USA\", found 'D' at position 1"},
      {R"({"rejected_ids":[1,2,3],"rejected_ops":"UU","revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ops': expected length 3 (the length of 'rejected_ids'), "
       "found 2"},
      {R"({"rejected_ids":[1,2.5],"rejected_ops":"UU","revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ids': expected an array of 32-bit integers, found a number "
       "(2.5) at index 1"},
      {R"({"rejected_ids":[1,"2"],"rejected_ops":"UU","revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ids': expected an array of 32-bit integers, found a string "
       "(\"2\") at index 1"},
      {R"({"rejected_ids":[],"rejected_ops":"","revised_ids":[4294967296],"revised_ops":"U"})",
       "data.jsonl:2: field 'revised_ids': expected an array of 32-bit integers, found a number "
       "(4294967296) at index 0"},
      {R"({"rejected_ids":[],"rejected_ops":"","revised_ids":[-2147483649],"revised_ops":"U"})",
       "found a number (-2147483649) at index 0"},
      {R"({"rejected_ids":"1 2","rejected_ops":"UU","revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ids': expected an array of 32-bit integers, found a string"},
      {R"({"rejected_ids":[1],"rejected_ops":["U"],"revised_ids":[],"revised_ops":""})",
       "data.jsonl:2: field 'rejected_ops': expected a string of letters from \"USD\", found an "
       "array of 1"},
  };
  const std::string good_label =
      R"({"rejected_ids":[7],"rejected_ops":"D","revised_ids":[],"revised_ops":""})";
  for (const Bad& bad : label_cases) {
    const std::string line = bad.line;
    CAPTURE(line);
    CHECK_THROWS_WITH_AS(read_text<LabelRecord>(good_label + "\n" + bad.line + "\n"),
                         doctest::Contains(bad.message), Error);
  }
  // The extremes of int32 are accepted.
  const auto extremes = read_text<LabelRecord>(
      R"({"rejected_ids":[-2147483648],"rejected_ops":"U","revised_ids":[2147483647],"revised_ops":"S"})");
  CHECK(extremes.at(0).rejected_ids == std::vector<int32_t>{INT32_MIN});
  CHECK(extremes.at(0).revised_ids == std::vector<int32_t>{INT32_MAX});
}

TEST_CASE("skip mode leaves bad records out, keeps the good ones and lists each problem") {
  std::istringstream in(
      "{\"prompt\":\"one\"}\n"
      "{\"prompt\":1}\n"
      "not json\n"
      "{\"prompt\":\"two\"}\n"
      "{}\n");
  const auto result = read_jsonl<PromptRecord>(in, "prompts.jsonl", OnBadRecord::Skip);
  REQUIRE(result.records.size() == 2);
  CHECK(result.records[0].prompt == "one");
  CHECK(result.records[1].prompt == "two");
  REQUIRE(result.skipped() == 3);
  CHECK(result.warnings[0] ==
        "prompts.jsonl:2: field 'prompt': expected a string, found a number (1)");
  CHECK(result.warnings[1].rfind("prompts.jsonl:3: expected a JSON object, found malformed JSON",
                                 0) == 0);
  CHECK(result.warnings[2] ==
        "prompts.jsonl:5: field 'prompt': expected a string, found nothing (missing)");
}

TEST_CASE("a custom schema validates through jsonl_schema_error") {
  const JsonlSchema schema{{"tokens", JsonlFieldKind::IntArray},
                           {"tags", JsonlFieldKind::OpString, "+-0", "tokens"}};
  CHECK(
      jsonl_schema_error(nlohmann::json::parse(R"({"tokens":[1,2],"tags":"+-"})"), schema).empty());
  CHECK(jsonl_schema_error(nlohmann::json::parse(R"({"tokens":[1,2],"tags":"+x"})"), schema) ==
        "field 'tags': expected letters from \"+-0\", found 'x' at position 1");
  const JsonlSchema broken{{"tags", JsonlFieldKind::OpString, "+-", "absent"}};
  CHECK_THROWS_WITH_AS(jsonl_schema_error(nlohmann::json::parse(R"({"tags":"+"})"), broken),
                       doctest::Contains("must match the length of 'absent'"), Error);
}

TEST_CASE(
    "writing replaces the file atomically, invalid UTF-8 becomes U+FFFD, missing files are "
    "errors") {
  const fs::path dir = jsonl_dir();
  const fs::path file = dir / "out" / "prompts.jsonl";
  write_jsonl(file, std::vector<PromptRecord>{{"old"}});
  CHECK(testing::read_file(file) == "{\"prompt\":\"old\"}\n");

  // Sampled text can stop inside a multi-byte character: such bytes are written as U+FFFD and
  // the file still reads back.
  write_jsonl(file, std::vector<PromptRecord>{{"fine"}, {"bad \xFF byte"}});
  CHECK(testing::read_file(file) ==
        "{\"prompt\":\"fine\"}\n{\"prompt\":\"bad \xEF\xBF\xBD byte\"}\n");
  CHECK(read_jsonl<PromptRecord>(file).records.size() == 2);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(file.parent_path())) ++entries;
  CHECK(entries == 1);  // no temporary file left behind

  write_jsonl(file, std::vector<PromptRecord>{});
  CHECK(testing::read_file(file).empty());
  CHECK(read_jsonl<PromptRecord>(file).records.empty());

  CHECK_THROWS_WITH_AS(read_jsonl<PromptRecord>(dir / "absent.jsonl"),
                       doctest::Contains("cannot open '"), Error);
  fs::remove_all(dir);
}

TEST_CASE("a number JSON cannot hold is a bad line like any other: named, and skippable") {
  const std::string text = "{\"prompt\": \"a\"}\n{\"prompt\": 1e999}\n{\"prompt\": \"b\"}\n";
  {
    std::istringstream in(text);
    CHECK_THROWS_WITH_AS(read_jsonl<PromptRecord>(in, "data.jsonl"),
                         doctest::Contains("data.jsonl:2: a value the JSON reader rejects"), Error);
  }
  std::istringstream in(text);
  const auto read = read_jsonl<PromptRecord>(in, "data.jsonl", OnBadRecord::Skip);
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[1].prompt == "b");
  REQUIRE(read.warnings.size() == 1);
  CHECK(read.warnings[0].rfind("data.jsonl:2: ", 0) == 0);
}

TEST_CASE("each record carries its file line, blank and skipped lines counted") {
  std::istringstream in("{\"prompt\": \"a\"}\n\n{\"prompt\": 3}\n{\"prompt\": \"b\"}\n");
  const auto read = read_jsonl<PromptRecord>(in, "data.jsonl", OnBadRecord::Skip);
  REQUIRE(read.records.size() == 2);
  CHECK(read.lines == std::vector<int64_t>{1, 4});
}
