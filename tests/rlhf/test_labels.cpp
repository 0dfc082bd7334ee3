// Tests for rlhf/labels.hpp: labels from revisions use the policy's response tokenization
// (separator + text, no EOS) on each side separately, mark substitutions, deletions and additions
// on hand cases, hold the U/S/D – U/S/A invariants on the built-in task, and the label file
// round-trips and reports bad records by file, line and field.
#include <doctest/doctest.h>
#include <tlcr/rlhf/labels.hpp>

#include <fstream>

#include "reward_testing.hpp"

using namespace tlcr;
using Ids = std::vector<TokenId>;

namespace {
// A tokenizer whose every word below is a single token (with its leading space).
const BpeTokenizer& word_tokenizer() {
  static const BpeTokenizer tokenizer = [] {
    std::vector<std::string> texts;
    for (int i = 0; i < 20; ++i)
      texts.push_back(
          "the fox is red . ugh , the dumb fox is grey . i hope this helps . a cow moos .");
    BpeTrainOptions options;
    options.vocab_size = 320;
    return train_bpe(texts, options);
  }();
  return tokenizer;
}

Ids encode(const std::string& text) {
  return word_tokenizer().encode(text);
}
}  // namespace

TEST_CASE("the tokenizer used by the hand cases has one token per word") {
  for (const char* word : {" the", " fox", " is", " red", " grey", " ugh", " ,", " dumb", " .",
                           " i", " hope", " this", " helps", " a", " cow", " moos"})
    CHECK(encode(word).size() == 1);
}

TEST_CASE("label_tokens is encode_response without EOS: separator + text") {
  const BpeTokenizer& tokenizer = word_tokenizer();
  const ChatFormat format;
  const Ids ids = label_tokens(tokenizer, format, "the fox is red .");
  CHECK(ids == encode(" the fox is red ."));
  CHECK(tokenizer.decode(ids) == " the fox is red .");
  Ids with_eos = format.encode_response(tokenizer, "the fox is red .");
  REQUIRE(with_eos.back() == tokenizer.eos_id());
  with_eos.pop_back();
  CHECK(ids == with_eos);
  // A format without a separator or EOS is followed as it is.
  ChatFormat bare;
  bare.response_separator = "";
  bare.add_eos = false;
  CHECK(label_tokens(tokenizer, bare, "the fox") == encode("the fox"));
}

TEST_CASE("hand cases: substitution, deletion, addition") {
  const BpeTokenizer& tokenizer = word_tokenizer();
  SUBCASE("a wrong value is substituted") {
    const auto out = label_revision(tokenizer, {"what colour is the fox ?", "the fox is red .",
                                                "the fox is grey .", "the fox is red ."});
    CHECK(out.prompt == "what colour is the fox ?");
    CHECK(out.chosen == "the fox is red .");
    CHECK(out.labels.rejected_ids == encode(" the fox is grey ."));
    CHECK(out.labels.revised_ids == encode(" the fox is red ."));
    CHECK(out.labels.rejected_ops == "UUUSU");
    CHECK(out.labels.revised_ops == "UUUSU");
  }
  SUBCASE("a rude interjection and a rude word are deleted") {
    const auto out =
        label_revision(tokenizer, {"p", "c", "ugh , the dumb fox is red .", "the fox is red ."});
    CHECK(out.labels.rejected_ops == "DDUDUUUU");
    CHECK(out.labels.revised_ops == "UUUUU");
  }
  SUBCASE("a polite phrase is added") {
    const auto out = label_revision(
        tokenizer, {"p", "c", "the fox is red .", "the fox is red . i hope this helps ."});
    CHECK(out.labels.rejected_ops == "UUUUU");
    // The backtrace runs from the end, so the rejected '.' pairs with the revision's last '.'.
    CHECK(out.labels.revised_ops == "UUUUAAAAAU");
  }
  SUBCASE("an unchanged response is all kept") {
    const auto out = label_revision(tokenizer, {"p", "c", "a cow moos .", "a cow moos ."});
    CHECK(out.labels.rejected_ops == "UUUU");
    CHECK(out.labels.revised_ops == "UUUU");
    CHECK(count_labels(std::vector{out}).unchanged_records == 1);
  }
  SUBCASE("the first token carries the separator, so a revised first word is one substitution") {
    const auto out = label_revision(tokenizer, {"p", "c", "ugh the fox", "the fox"});
    CHECK(out.labels.rejected_ops == "DUU");
    CHECK(out.labels.revised_ops == "UU");
  }
}

TEST_CASE("labels on the built-in task keep the alignment invariants") {
  const testing::SmallTask task = testing::make_small_task(200, 7);
  const ChatFormat format;
  const auto labelled = label_revisions(task.tokenizer, task.data.revisions, format);
  REQUIRE(labelled.size() == task.data.revisions.size());
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    const RevisionRecord& r = task.data.revisions[i];
    const LabelRecord& l = labelled[i].labels;
    CAPTURE(r.rejected);
    CAPTURE(r.revised);
    CHECK(task.tokenizer.decode(l.rejected_ids) == " " + r.rejected);
    CHECK(task.tokenizer.decode(l.revised_ids) == " " + r.revised);
    REQUIRE(l.rejected_ops.size() == l.rejected_ids.size());
    REQUIRE(l.revised_ops.size() == l.revised_ids.size());
    CHECK(l.rejected_ops.find_first_not_of("USD") == std::string::npos);
    CHECK(l.revised_ops.find_first_not_of("USA") == std::string::npos);
    // Kept tokens pair up one to one and in order: the U subsequences are equal.
    Ids kept_rejected, kept_revised;
    for (std::size_t k = 0; k < l.rejected_ids.size(); ++k)
      if (l.rejected_ops[k] == 'U') kept_rejected.push_back(l.rejected_ids[k]);
    for (std::size_t k = 0; k < l.revised_ids.size(); ++k)
      if (l.revised_ops[k] == 'U') kept_revised.push_back(l.revised_ids[k]);
    CHECK(kept_rejected == kept_revised);
    const bool same = r.rejected == r.revised;
    CHECK(same == (l.rejected_ops.find_first_not_of('U') == std::string::npos &&
                   l.revised_ops.find_first_not_of('U') == std::string::npos));
  }
  const LabelCounts counts = count_labels(labelled);
  CHECK(counts.records == 200);
  CHECK(counts.negative() > 0);
  CHECK(counts.positive() > 0);
  CHECK(counts.neutral() > counts.negative() + counts.positive());
  CHECK(counts.rejected_substituted == counts.revised_substituted);
}

TEST_CASE("the label file round-trips, reads as plain LabelRecords and reports bad records") {
  testing::ScratchDir dir("labels");
  const BpeTokenizer& tokenizer = word_tokenizer();
  const std::vector<PromptLabelRecord> records = {
      label_revision(tokenizer,
                     {"q1", "the fox is red .", "the fox is grey .", "the fox is red ."}),
      label_revision(tokenizer,
                     {"q2 \"quoted\"", "a cow moos .", "ugh , a cow moos .", "a cow moos ."})};
  const auto path = dir.path / "labels.jsonl";
  write_labels(path, records);
  CHECK(read_labels(path).records == records);
  const auto plain = read_jsonl<LabelRecord>(path).records;
  REQUIRE(plain.size() == 2);
  CHECK(plain[1] == records[1].labels);

  // Line 2: one op letter too few for its ids.
  std::ofstream(dir.path / "bad.jsonl")
      << to_jsonl_line(records[0]) << "\n"
      << R"({"prompt":"p","chosen":"c","rejected_ids":[1,2],"rejected_ops":"U","revised_ids":[1],"revised_ops":"U"})"
      << "\n";
  CHECK_THROWS_WITH_AS(read_labels(dir.path / "bad.jsonl"),
                       doctest::Contains("bad.jsonl:2: field 'rejected_ops': expected length 2"),
                       Error);
  // Line 1: the prompt is missing.
  std::ofstream(dir.path / "bad2.jsonl")
      << R"({"chosen":"c","rejected_ids":[1],"rejected_ops":"U","revised_ids":[1],"revised_ops":"U"})"
      << "\n";
  CHECK_THROWS_WITH_AS(read_labels(dir.path / "bad2.jsonl"),
                       doctest::Contains("bad2.jsonl:1: field 'prompt'"), Error);
  const auto skipped = read_labels(dir.path / "bad.jsonl", OnBadRecord::Skip);
  CHECK(skipped.records.size() == 1);
  CHECK(skipped.skipped() == 1);
}
