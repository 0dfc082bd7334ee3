// Tests for rlhf/task/reviser.hpp: hand-worked revisions with their exact edit distances, undoing
// each injected mistake exactly, and on generated, mutated and random text: the revision always
// reaches the oracle's maximum, leaves perfect responses alone, and is a fixed point.
#include <doctest/doctest.h>
#include "reward_testing.hpp"
#include <tlcr/rlhf/edit_labels.hpp>
#include <tlcr/rlhf/task.hpp>

using namespace tlcr;
using namespace tlcr::task;

namespace {
using tlcr::testing::world;

int64_t word_distance(const std::string& a, const std::string& b) {
  return edit_labels(split_words(a), split_words(b)).distance;
}

struct Case {
  const char* prompt;
  const char* chosen;
  const char* rejected;
  const char* revised;
  int64_t distance;  // word-level Levenshtein distance rejected → revised
};
}  // namespace

TEST_CASE("revise: hand-worked cases, each with the fewest edits that fix it") {
  const char* colour = "what colour is the fox ?";
  const char* pair = "what colour is the fox and where does it live ?";
  const Case cases[] = {
      // Perfect already: unchanged.
      {colour, "", "the fox is red . i hope this helps .", "the fox is red . i hope this helps .",
       0},
      // Rude word deleted, wrong value substituted, off-topic sentence deleted: 1 + 1 + 4.
      {colour, "the fox is red .",
       "sure ! the dumb fox is brown . i like trains . i hope this helps .",
       "sure ! the fox is red . i hope this helps .", 6},
      // Missing fact inserted in the chosen response's wording, after the last fact.
      {pair, "okay . you can find the fox in the forest .", "the fox is red . have a nice day !",
       "the fox is red . you can find the fox in the forest . have a nice day !", 9},
      // ...or from the first template when the chosen response does not state it.
      {pair, "the fox is red .", "the fox is red . have a nice day !",
       "the fox is red . it lives in the forest . have a nice day !", 6},
      // Missing politeness: the chosen response's polite phrase, at the end.
      {colour, "it is red . have a nice day !", "the fox is red .",
       "the fox is red . have a nice day !", 5},
      // An unterminated last sentence gets its mark before the insertion.
      {colour, "", "the fox is red", "the fox is red . i hope this helps .", 6},
      // Verbatim repetition: one copy deleted.
      {colour, "", "the fox is red . the fox is red . i hope this helps .",
       "the fox is red . i hope this helps .", 5},
      // A wrong statement of an attribute stated correctly elsewhere is deleted, not substituted.
      {colour, "", "it is grey . it is red . i hope this helps .",
       "it is red . i hope this helps .", 4},
      // A garbled clause that one deletion repairs.
      {colour, "", "the fox is is red . happy to help .", "the fox is red . happy to help .", 1},
      // An off-topic clause inside a sentence goes with its joint.
      {colour, "", "the fox is red and a cat meows . happy to help .",
       "the fox is red . happy to help .", 4},
      {colour, "", "ugh , the fox is red . happy to help .", "the fox is red . happy to help .", 2},
      {colour, "", "the fox is red , duh . happy to help .", "the fox is red . happy to help .", 2},
      // An attribute foxes do not have: deleted; the asked fact inserted where it stood.
      {colour, "", "the fox tastes sweet . happy to help .", "the fox is red . happy to help .", 2},
      // Nothing usable: everything inserted, after a leading opener.
      {pair, "", "sure !", "sure ! the fox is red . it lives in the forest . i hope this helps .",
       16},
      {colour, "", "", "the fox is red . i hope this helps .", 10},
      {colour, "", "red fox the is . . and", "the fox is red . i hope this helps .", 8},
  };
  for (const Case& c : cases) {
    const std::string rejected = c.rejected;
    CAPTURE(rejected);
    const std::string revised = revise(world, c.prompt, c.chosen, c.rejected);
    CHECK(revised == c.revised);
    CHECK(word_distance(c.rejected, revised) == c.distance);
    CHECK(oracle_score(world, c.prompt, revised) == oracle_max_score(world.find_prompt(c.prompt)));
  }
}

TEST_CASE("revise: each injected mistake is undone exactly") {
  Rng rng(4242);
  ResponseOptions polite;  // clean plans end politely, so they score the maximum
  polite.polite_rate = 1.0;
  int checked[5] = {};
  for (int trial = 0; trial < 1500; ++trial) {
    const TaskPrompt& prompt = world.prompts()[rng.uniform_int(world.prompts().size())];
    const ResponsePlan clean_plan = plan_correct_response(world, prompt, polite, rng);
    const std::string clean = render_plan(clean_plan);
    REQUIRE(oracle_score(world, prompt.text, clean) == oracle_max_score(prompt));
    CHECK(revise(world, prompt, clean, clean) == clean);

    const MistakeKind kind = kAllMistakeKinds[trial % 5];
    ResponsePlan plan = clean_plan;
    if (!inject_mistake(world, prompt, plan, kind, rng)) continue;
    const std::string rejected = render_plan(plan);
    const std::string revised = revise(world, prompt, clean, rejected);
    CAPTURE(rejected);
    CHECK(oracle_score(world, prompt.text, revised) == oracle_max_score(prompt));
    if (kind == MistakeKind::MissingFact) {
      // Only insertions: the rejected words survive in order, so distance = words added.
      const EditLabels labels = edit_labels(split_words(rejected), split_words(revised));
      CHECK(labels.distance ==
            int64_t(split_words(revised).size()) - int64_t(split_words(rejected).size()));
      CHECK(labels.rejected_ops == std::string(labels.rejected_ops.size(), 'U'));
    } else {
      CHECK(revised == clean);  // the mistake's words, and only those, are edited away
    }
    ++checked[int(kind)];
  }
  for (int count : checked) CHECK(count > 100);
}

TEST_CASE("revise: on generated, mutated and random text the revision reaches the maximum") {
  Rng rng(777);
  const ResponseOptions options;
  auto vocabulary = world.vocabulary();
  vocabulary.push_back("zebra");  // not in the task's language
  vocabulary.push_back("red.");
  int improved = 0, unchanged = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const TaskPrompt& prompt = world.prompts()[rng.uniform_int(world.prompts().size())];
    std::vector<std::string> words =
        split_words(generate_response(world, prompt, options, rng).text);
    if (trial % 3 == 1) {  // a few random word edits
      for (uint64_t k = 1 + rng.uniform_int(3); k > 0; --k) {
        const std::string word = vocabulary[rng.uniform_int(vocabulary.size())];
        const uint64_t at = rng.uniform_int(words.size() + 1);
        if (rng.uniform() < 0.5 || at == words.size())
          words.insert(words.begin() + std::ptrdiff_t(at), word);
        else
          words[at] = word;
      }
    } else if (trial % 3 == 2) {  // word salad
      words.assign(rng.uniform_int(25), "");
      for (auto& w : words) w = vocabulary[rng.uniform_int(vocabulary.size())];
    }
    const std::string rejected = join_words(words);
    const std::string chosen = generate_response(world, prompt, options, rng).text;
    const std::string revised = revise(world, prompt, chosen, rejected);
    const double before = oracle_score(world, prompt.text, rejected);
    const double after = oracle_score(world, prompt.text, revised);
    CAPTURE(rejected);
    CAPTURE(revised);
    CHECK(after == oracle_max_score(prompt));
    if (before < after) {
      ++improved;
    } else {
      CHECK(revised == rejected);  // already perfect: nothing to fix
      ++unchanged;
    }
    CHECK(revise(world, prompt, chosen, revised) == revised);  // a fixed point
  }
  CHECK(improved > 2000);
  CHECK(unchanged > 50);
}
