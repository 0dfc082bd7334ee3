// Tests for rlhf/task/world.hpp, parse.hpp and oracle.hpp: the world's tables, the grammar, and the
// oracle's scores on hand-worked responses (every finding kind, context dependence, garbled text).
#include <doctest/doctest.h>
#include "reward_testing.hpp"
#include <tlcr/rlhf/task.hpp>

#include <cmath>
#include <numeric>
#include <set>

using namespace tlcr;
using namespace tlcr::task;

namespace {
using tlcr::testing::world;

double score(const std::string& prompt, const std::string& response) {
  return oracle_score(world, prompt, response);
}
}  // namespace

TEST_CASE("the world: 40 entities, 824 prompts, a small vocabulary, disjoint value words") {
  CHECK(world.entities().size() == 40);
  CHECK(world.prompts().size() == 824);
  const auto vocabulary = world.vocabulary();
  CHECK(vocabulary.size() >= 150);
  CHECK(vocabulary.size() <= 400);
  std::set<std::string> prompt_texts;
  for (const TaskPrompt& prompt : world.prompts()) {
    CHECK(prompt_texts.insert(prompt.text).second);  // prompts are distinct
    CHECK(&world.find_prompt(prompt.text) == &prompt);
    for (const std::string& w : split_words(prompt.text))
      CHECK(std::binary_search(vocabulary.begin(), vocabulary.end(), w));
    for (int a : prompt.attributes) CHECK(world.applies(prompt.entity, a));
  }
  // Every value word names exactly one attribute; every entity has a value for its attributes only.
  for (int e = 0; e < int(world.entities().size()); ++e) {
    const auto& attributes = world.category_attributes(world.entities()[e].category);
    for (int a = 0; a < kAttributeCount; ++a) {
      const bool listed = std::find(attributes.begin(), attributes.end(), a) != attributes.end();
      CHECK(world.applies(e, a) == listed);
      if (listed) {
        CHECK(world.value_attribute(world.fact(e, a)) == a);
        CHECK(!world.wrong_values(e, a).empty());
        for (const std::string& wrong : world.wrong_values(e, a)) CHECK(wrong != world.fact(e, a));
      }
    }
    CHECK(world.entity_index(world.entities()[e].name) == e);
  }
  // The grammar's phrases never contain joints or terminal marks (they would split clauses).
  for (const ClausePattern& pattern : world.clause_patterns())
    for (const std::string& token : pattern.tokens) {
      CHECK(!is_connector(token));
      CHECK(!is_terminal_mark(token));
    }
  CHECK(world.noun_phrase(world.entity_index("owl"), false) ==
        std::vector<std::string>{"an", "owl"});
}

TEST_CASE("find_prompt ignores spacing and rejects prompts that are not the task's") {
  CHECK(world.find_prompt("  what colour is   the fox ?\n").text == "what colour is the fox ?");
  CHECK_THROWS_WITH_AS(world.find_prompt("what colour is the sky ?"),
                       doctest::Contains("expected one of the built-in task's 824 prompts, found "
                                         "'what colour is the sky ?'"),
                       Error);
}

TEST_CASE("parse_response splits sentences, clauses and joints, and takes out rude words") {
  const int fox = world.entity_index("fox");
  const ParsedResponse parsed =
      parse_response(world, "sure ! the dumb fox is red , and a cat meows . , i like trains", fox);
  REQUIRE(parsed.sentences.size() == 3);
  CHECK(parsed.sentences[0].clauses.at(0).kind == ClauseKind::Opener);
  const ParsedSentence& second = parsed.sentences[1];
  CHECK(second.terminated);
  REQUIRE(second.clauses.size() == 2);
  CHECK(second.joints.at(0).size() == 2);  // ", and"
  const ParsedClause& fact = second.clauses[0];
  CHECK(fact.kind == ClauseKind::Fact);
  CHECK(fact.subject == fox);
  CHECK(fact.attribute == kColour);
  CHECK(parsed.words[fact.value_word] == "red");
  CHECK(fact.rude_words == std::vector<int>{3});
  CHECK(fact.text == "the fox is red");
  CHECK(second.clauses[1].subject == world.entity_index("cat"));
  const ParsedSentence& third = parsed.sentences[2];
  CHECK(!third.terminated);
  CHECK(third.stray_connectors.size() == 1);
  CHECK(third.clauses.at(0).kind == ClauseKind::OffTopic);
}

TEST_CASE(
    "oracle: a correct, polite answer earns the maximum; each mistake costs what the table says") {
  const std::string prompt = "what colour is the fox ?";
  CHECK(oracle_max_score(world.find_prompt(prompt)) == 1.5);
  CHECK(score(prompt, "the fox is red . i hope this helps .") == 1.5);
  CHECK(score(prompt, "sure ! it looks red . thank you for asking !") ==
        1.5);                                                     // wording is neutral
  CHECK(score(prompt, "the fox is red .") == 1.0);                // no politeness
  CHECK(score(prompt, "the fox is red . it is small .") == 1.0);  // a true extra fact is neutral
  CHECK(score(prompt, "the fox is brown .") == -1.0);             // wrong value, no credit
  CHECK(score(prompt, "the fox is small .") == 0.0);              // asked fact missing
  CHECK(score(prompt, "the dumb fox is red .") == 0.0);           // inline rude word
  CHECK(score(prompt, "ugh , the fox is red .") == 0.0);          // rude interjection
  CHECK(score(prompt, "what a dumb question ! the fox is red .") == 0.0);  // rude phrase
  CHECK(score(prompt, "the fox is red . a cat meows .") == 0.0);  // another entity: off-topic
  CHECK(score(prompt, "the fox is red . i like trains .") == 0.0);
  CHECK(score(prompt, "the fox is red . it is red in colour .") == 0.0);  // repetition
  CHECK(score(prompt, "the fox is red . the fox tastes sweet .") ==
        0.0);  // not an animal's attribute
  CHECK(score(prompt, "i hope this helps . i hope this helps .") == -0.5);  // repeated phrase
  CHECK(score(prompt, "i hope this helps . have a nice day .") == 0.5);     // the cap
  CHECK(score(prompt, "fox the red is .") == -1.0);                         // garbled
  CHECK(score(prompt, "the fox is reddish .") == -1.0);                     // unknown word
  CHECK(score(prompt, "the fox is red. i hope this helps .") == -1.0);      // "red." is unknown
  CHECK(score(prompt, "the fox is red and .") == 0.0);                      // stray joint
  CHECK(score(prompt, "the fox is red , , it is small .") == 0.0);          // malformed joint
  CHECK(score(prompt, "the fox is red . .") == 0.0);                        // empty sentence
  CHECK(score(prompt, "") == 0.0);
  CHECK(score(prompt, "the fox is red") == 1.0);  // a missing final mark is not penalised
  // Several mistakes add up.
  CHECK(score(prompt, "ugh , the dumb fox is brown . i like trains . it is brown .") == -5.0);
}

TEST_CASE("oracle: a fact is right only for the entity the prompt asks about") {
  CHECK(score("what colour is the banana ?", "it is yellow .") == 1.0);
  CHECK(score("what colour is the apple ?", "it is yellow .") == -1.0);
  CHECK(score("what colour is the apple ?", "it is red .") == 1.0);
  // Naming the asked entity counts; naming another is off-topic even when true of it.
  CHECK(score("what colour is the apple ?", "the apple is red .") == 1.0);
  CHECK(score("what colour is the apple ?", "the banana is yellow .") == -1.0);
  // A wrong statement before a correct one: −1 for the wrong one, +1 for the first correct one.
  CHECK(score("what colour is the apple ?", "it is green . it is red .") == 0.0);
  // Two-attribute and description prompts need every asked fact.
  const std::string pair = "what colour is the fox and where does it live ?";
  CHECK(oracle_max_score(world.find_prompt(pair)) == 2.5);
  CHECK(score(pair, "the fox is red and it lives in the forest . have a nice day !") == 2.5);
  CHECK(score(pair, "the fox is red . have a nice day !") == 1.5);
  const std::string describe = "tell me about the fox .";
  CHECK(oracle_max_score(world.find_prompt(describe)) == 3.5);
  CHECK(score(describe,
              "the fox is red , it lives in the forest . it eats mice . happy to help .") == 3.5);
}

TEST_CASE("oracle: word scores sit on the words each finding covers and sum to the score") {
  const std::string prompt = "what colour is the fox ?";
  const OracleReport report =
      oracle_report(world, prompt, "the dumb fox is red . i like trains . i hope this helps .");
  REQUIRE(report.words.size() == 15);
  REQUIRE(report.word_scores.size() == 15);
  CHECK(report.word_scores[1] == -1.0);                       // "dumb"
  CHECK(report.word_scores[4] == 1.0);                        // "red"
  CHECK(report.word_scores[6] == doctest::Approx(-1.0 / 3));  // "i like trains"
  CHECK(report.word_scores[9] == 0.0);                        // "."
  CHECK(report.word_scores[10] == doctest::Approx(0.5 / 4));  // "i hope this helps"
  CHECK(report.score == 0.5 - 1.0 + 1.0 - 1.0);
  CHECK(report.count(FindingKind::Rude) == 1);
  CHECK(report.count(FindingKind::OffTopic) == 1);
  CHECK(report.count(FindingKind::RequestedFact) == 1);
  CHECK(report.count(FindingKind::Polite) == 1);
  CHECK(oracle_token_scores(world, prompt, "the dumb fox is red .") ==
        std::vector<double>{0, -1, 0, 0, 1, 0});

  // On arbitrary text the word scores still add up to the score.
  Rng rng(31);
  const auto vocabulary = world.vocabulary();
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    for (uint64_t k = rng.uniform_int(30); k > 0; --k)
      text += vocabulary[rng.uniform_int(vocabulary.size())] + " ";
    const TaskPrompt& p = world.prompts()[rng.uniform_int(world.prompts().size())];
    const OracleReport r = oracle_report(world, p, text);
    CHECK(r.word_scores.size() == split_words(text).size());
    CHECK(std::accumulate(r.word_scores.begin(), r.word_scores.end(), 0.0) ==
          doctest::Approx(r.score));
    CHECK(r.score <= r.max_score);
    CHECK(r.score == oracle_score(world, p.text, text));
  }
}
