// tlcr/rlhf/task/generator.hpp — the noisy response generator (the SFT demonstrator) and
// Bradley–Terry preference draws.
//
// A response is first planned as sentences of clauses, then mistakes are injected, then rendered:
//   correct plan: [opener] asked facts (1–2 clauses per sentence, varied templates and subjects)
//                 [one extra true fact] [polite phrase]
//   mistakes, each drawn independently with its rate (several can co-occur), applied in this order:
//     MissingFact  drop one asked fact
//     WrongValue   one fact states a value that is true for another entity of the same category
//     Repetition   a sentence repeated verbatim, or a fact restated in other words
//     OffTopic     a sentence about another entity, or a canned off-topic phrase
//     Rude         a rude adjective ("the dumb fox"), interjection ("ugh , ..."), or phrase
// Preferences: P(a ≻ b) = σ((s_a − s_b) / temperature) with s the oracle score.
// Not here: the file exports (records.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tlcr/core/rng.hpp"
#include "tlcr/rlhf/task/oracle.hpp"
#include "tlcr/rlhf/task/world.hpp"

namespace tlcr::task {

enum class MistakeKind { MissingFact, WrongValue, Repetition, OffTopic, Rude };
inline constexpr MistakeKind kAllMistakeKinds[] = {MistakeKind::MissingFact,
                                                   MistakeKind::WrongValue, MistakeKind::Repetition,
                                                   MistakeKind::OffTopic, MistakeKind::Rude};

inline const char* mistake_name(MistakeKind kind) {
  switch (kind) {
    case MistakeKind::MissingFact:
      return "missing_fact";
    case MistakeKind::WrongValue:
      return "wrong_value";
    case MistakeKind::Repetition:
      return "repetition";
    case MistakeKind::OffTopic:
      return "off_topic";
    case MistakeKind::Rude:
      return "rude";
  }
  return "?";
}

// Probability that a response gets each kind of mistake.
struct MistakeRates {
  double missing_fact = 0.20;
  double wrong_value = 0.25;
  double repetition = 0.12;
  double off_topic = 0.15;
  double rude = 0.15;
  double rate(MistakeKind kind) const {
    switch (kind) {
      case MistakeKind::MissingFact:
        return missing_fact;
      case MistakeKind::WrongValue:
        return wrong_value;
      case MistakeKind::Repetition:
        return repetition;
      case MistakeKind::OffTopic:
        return off_topic;
      case MistakeKind::Rude:
        return rude;
    }
    return 0;
  }
};

struct ResponseOptions {
  double opener_rate = 0.4;      // starts with "sure !", "of course ." ...
  double extra_fact_rate = 0.3;  // adds one true fact that was not asked for
  double polite_rate = 0.6;      // ends with "i hope this helps ." ...
  MistakeRates mistakes;
};

// ---- plans ------------------------------------------------------------------------------------

struct PlannedClause {
  std::vector<std::string> words;
  ClauseKind kind = ClauseKind::Opener;
  int entity = -1, attribute = -1;  // Fact clauses
  int value_word = -1;              // index in words of the value (Fact)
  int noun_word = -1;  // index in words of the entity noun after "the"/"a" (Fact), or −1
};

struct PlannedSentence {
  std::vector<PlannedClause> clauses;
  std::vector<std::string> joints;  // joints[k] ("and", ",", ", and") between clauses k and k+1
  std::string terminal = ".";
};

using ResponsePlan = std::vector<PlannedSentence>;

inline std::string render_plan(const ResponsePlan& plan) {
  std::vector<std::string> words;
  for (const PlannedSentence& sentence : plan) {
    for (std::size_t c = 0; c < sentence.clauses.size(); ++c) {
      if (c > 0)
        for (const std::string& w : split_words(sentence.joints[c - 1])) words.push_back(w);
      const auto& clause = sentence.clauses[c].words;
      words.insert(words.end(), clause.begin(), clause.end());
    }
    words.push_back(sentence.terminal);
  }
  return join_words(words);
}

namespace detail {

template <class T>
const T& pick(const std::vector<T>& items, Rng& rng) {
  TLCR_CHECK(!items.empty(), "task generator: nothing to pick from");
  return items[rng.uniform_int(items.size())];
}

enum class SubjectForm { Pronoun, Definite, Indefinite };

inline PlannedClause fact_clause(const TaskWorld& world, int entity, int attribute,
                                 const std::string& value, int template_index, SubjectForm form) {
  PlannedClause clause;
  clause.kind = ClauseKind::Fact;
  clause.entity = entity;
  clause.attribute = attribute;
  for (const std::string& token :
       split_words(world.attributes()[attribute].clause_templates.at(template_index))) {
    if (token == "{s}") {
      if (form == SubjectForm::Pronoun) {
        clause.words.push_back("it");
      } else {
        const auto noun = world.noun_phrase(entity, form == SubjectForm::Definite);
        clause.words.push_back(noun[0]);
        clause.noun_word = int(clause.words.size());
        clause.words.push_back(noun[1]);
      }
    } else if (token == "{v}") {
      clause.value_word = int(clause.words.size());
      clause.words.push_back(value);
    } else {
      clause.words.push_back(token);
    }
  }
  return clause;
}

inline PlannedClause canned_clause(ClauseKind kind, const std::string& phrase) {
  PlannedClause clause;
  clause.kind = kind;
  clause.words = split_words(phrase);
  return clause;
}

inline PlannedClause random_fact_clause(const TaskWorld& world, int entity, int attribute,
                                        SubjectForm form, Rng& rng) {
  const int templates = int(world.attributes()[attribute].clause_templates.size());
  return fact_clause(world, entity, attribute, world.fact(entity, attribute),
                     int(rng.uniform_int(templates)), form);
}

inline SubjectForm noun_form(Rng& rng) {
  return rng.uniform() < 0.6 ? SubjectForm::Definite : SubjectForm::Indefinite;
}

// Appends fact clauses as sentences of one or two clauses.
inline void append_fact_sentences(ResponsePlan& plan, std::vector<PlannedClause> clauses,
                                  Rng& rng) {
  PlannedSentence current;
  for (PlannedClause& clause : clauses) {
    if (current.clauses.size() == 1 && rng.uniform() < 0.5) {
      const double u = rng.uniform();
      current.joints.push_back(u < 0.6 ? "and" : u < 0.8 ? ", and" : ",");
      current.clauses.push_back(std::move(clause));
      continue;
    }
    if (!current.clauses.empty()) plan.push_back(std::move(current));
    current = PlannedSentence{};
    current.clauses.push_back(std::move(clause));
  }
  if (!current.clauses.empty()) plan.push_back(std::move(current));
}

// Positions (sentence, clause) of fact clauses about `entity`, optionally only asked attributes.
inline std::vector<std::pair<int, int>> fact_positions(const ResponsePlan& plan, int entity,
                                                       const std::vector<int>* only = nullptr) {
  std::vector<std::pair<int, int>> out;
  for (int s = 0; s < int(plan.size()); ++s)
    for (int c = 0; c < int(plan[s].clauses.size()); ++c) {
      const PlannedClause& clause = plan[s].clauses[c];
      if (clause.kind != ClauseKind::Fact || clause.entity != entity) continue;
      if (only && std::find(only->begin(), only->end(), clause.attribute) == only->end()) continue;
      out.push_back({s, c});
    }
  return out;
}

inline void remove_clause(ResponsePlan& plan, int s, int c) {
  PlannedSentence& sentence = plan[s];
  sentence.clauses.erase(sentence.clauses.begin() + c);
  if (!sentence.joints.empty())
    sentence.joints.erase(sentence.joints.begin() + (c > 0 ? c - 1 : 0));
  if (sentence.clauses.empty()) plan.erase(plan.begin() + s);
}

}  // namespace detail

// A correct response: every asked fact, true, in varied wording; optional opener, extra fact,
// polite ending. Scores the oracle's maximum exactly when it has a polite ending.
inline ResponsePlan plan_correct_response(const TaskWorld& world, const TaskPrompt& prompt,
                                          const ResponseOptions& options, Rng& rng) {
  using detail::SubjectForm;
  ResponsePlan plan;
  if (rng.uniform() < options.opener_rate) {
    PlannedSentence opener;
    opener.clauses.push_back(
        detail::canned_clause(ClauseKind::Opener, detail::pick(world.openers(), rng)));
    opener.terminal = rng.uniform() < 0.5 ? "!" : ".";
    plan.push_back(std::move(opener));
  }
  const int e = prompt.entity;
  std::vector<PlannedClause> facts;
  auto next_subject = [&] {
    if (facts.empty()) return detail::noun_form(rng);
    return rng.uniform() < 0.7 ? SubjectForm::Pronoun : detail::noun_form(rng);
  };
  for (int a : prompt.attributes)
    facts.push_back(detail::random_fact_clause(world, e, a, next_subject(), rng));
  if (rng.uniform() < options.extra_fact_rate) {
    std::vector<int> unasked;
    for (int a : world.category_attributes(world.entities()[e].category))
      if (std::find(prompt.attributes.begin(), prompt.attributes.end(), a) ==
          prompt.attributes.end())
        unasked.push_back(a);
    if (!unasked.empty())
      facts.push_back(
          detail::random_fact_clause(world, e, detail::pick(unasked, rng), next_subject(), rng));
  }
  detail::append_fact_sentences(plan, std::move(facts), rng);
  if (rng.uniform() < options.polite_rate) {
    PlannedSentence polite;
    polite.clauses.push_back(
        detail::canned_clause(ClauseKind::Polite, detail::pick(world.polite_phrases(), rng)));
    polite.terminal = rng.uniform() < 0.3 ? "!" : ".";
    plan.push_back(std::move(polite));
  }
  return plan;
}

// Injects one mistake of `kind`; returns false (plan unchanged) where it cannot apply.
inline bool inject_mistake(const TaskWorld& world, const TaskPrompt& prompt, ResponsePlan& plan,
                           MistakeKind kind, Rng& rng) {
  using detail::SubjectForm;
  const int e = prompt.entity;
  switch (kind) {
    case MistakeKind::MissingFact: {
      const auto asked = detail::fact_positions(plan, e, &prompt.attributes);
      if (asked.empty()) return false;
      const auto [s, c] = detail::pick(asked, rng);
      detail::remove_clause(plan, s, c);
      if (plan.empty()) {  // nothing left to say: a non-answer
        PlannedSentence filler;
        filler.clauses.push_back(detail::canned_clause(ClauseKind::Opener, "let me think"));
        plan.push_back(std::move(filler));
      }
      return true;
    }
    case MistakeKind::WrongValue: {
      const auto facts = detail::fact_positions(plan, e);
      if (facts.empty()) return false;
      const auto [s, c] = detail::pick(facts, rng);
      PlannedClause& clause = plan[s].clauses[c];
      clause.words[clause.value_word] = detail::pick(world.wrong_values(e, clause.attribute), rng);
      return true;
    }
    case MistakeKind::Repetition: {
      if (plan.empty()) return false;
      const auto facts = detail::fact_positions(plan, e);
      if (!facts.empty() && rng.uniform() < 0.5) {  // the same fact again, in other words
        const auto [s, c] = detail::pick(facts, rng);
        const PlannedClause& original = plan[s].clauses[c];
        const int templates = int(world.attributes()[original.attribute].clause_templates.size());
        PlannedSentence again;
        again.clauses.push_back(detail::fact_clause(
            world, e, original.attribute, original.words[original.value_word],
            int(rng.uniform_int(templates)),
            rng.uniform() < 0.5 ? SubjectForm::Pronoun : detail::noun_form(rng)));
        plan.insert(plan.begin() + s + 1, std::move(again));
      } else {  // a sentence twice in a row
        const std::size_t s = rng.uniform_int(plan.size());
        PlannedSentence copy = plan[s];
        plan.insert(plan.begin() + std::ptrdiff_t(s) + 1, std::move(copy));
      }
      return true;
    }
    case MistakeKind::OffTopic: {
      PlannedSentence off;
      if (rng.uniform() < 0.5) {
        off.clauses.push_back(detail::canned_clause(ClauseKind::OffTopic,
                                                    detail::pick(world.off_topic_phrases(), rng)));
      } else {
        int other = int(rng.uniform_int(world.entities().size() - 1));
        if (other >= e) ++other;
        const auto& attributes = world.category_attributes(world.entities()[other].category);
        off.clauses.push_back(detail::random_fact_clause(
            world, other, detail::pick(attributes, rng), detail::noun_form(rng), rng));
      }
      plan.insert(plan.begin() + std::ptrdiff_t(rng.uniform_int(plan.size() + 1)), std::move(off));
      return true;
    }
    case MistakeKind::Rude: {
      std::vector<std::pair<int, int>> nouns;  // fact clauses with "the X" / "a X" about e
      for (const auto& [s, c] : detail::fact_positions(plan, e))
        if (plan[s].clauses[c].noun_word >= 0) nouns.push_back({s, c});
      const int way = int(rng.uniform_int(3));
      if (way == 0 && !nouns.empty()) {  // "the dumb fox"
        const auto [s, c] = detail::pick(nouns, rng);
        PlannedClause& clause = plan[s].clauses[c];
        clause.words.insert(clause.words.begin() + clause.noun_word,
                            detail::pick(world.rude_adjectives(), rng));
        if (clause.value_word >= clause.noun_word) ++clause.value_word;
        ++clause.noun_word;
      } else if (way == 1 && !plan.empty()) {  // "ugh , the fox is red ." / "... , duh ."
        PlannedSentence& sentence = plan[rng.uniform_int(plan.size())];
        PlannedClause interjection =
            detail::canned_clause(ClauseKind::Rude, detail::pick(world.rude_interjections(), rng));
        if (rng.uniform() < 0.5) {
          sentence.clauses.insert(sentence.clauses.begin(), std::move(interjection));
          sentence.joints.insert(sentence.joints.begin(), ",");
        } else {
          sentence.clauses.push_back(std::move(interjection));
          sentence.joints.push_back(",");
        }
      } else {  // "what a dumb question !"
        PlannedSentence rude;
        rude.clauses.push_back(
            detail::canned_clause(ClauseKind::Rude, detail::pick(world.rude_phrases(), rng)));
        rude.terminal = rng.uniform() < 0.5 ? "!" : ".";
        plan.insert(plan.begin() + std::ptrdiff_t(rng.uniform_int(plan.size() + 1)),
                    std::move(rude));
      }
      return true;
    }
  }
  return false;
}

struct GeneratedResponse {
  std::string text;
  std::vector<MistakeKind> mistakes;  // the kinds injected, in injection order
};

// One response from the noisy demonstrator.
inline GeneratedResponse generate_response(const TaskWorld& world, const TaskPrompt& prompt,
                                           const ResponseOptions& options, Rng& rng) {
  ResponsePlan plan = plan_correct_response(world, prompt, options, rng);
  GeneratedResponse out;
  for (MistakeKind kind : kAllMistakeKinds)
    if (rng.uniform() < options.mistakes.rate(kind) &&
        inject_mistake(world, prompt, plan, kind, rng))
      out.mistakes.push_back(kind);
  out.text = render_plan(plan);
  return out;
}

// A paragraph of true statements about one entity (every attribute it has): pretraining text.
inline std::string describe_entity(const TaskWorld& world, int entity, Rng& rng) {
  std::vector<int> attributes = world.category_attributes(world.entities()[entity].category);
  for (std::size_t i = attributes.size(); i > 1; --i)  // Fisher–Yates
    std::swap(attributes[i - 1], attributes[rng.uniform_int(i)]);
  std::vector<PlannedClause> facts;
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    const auto form =
        i == 0 || rng.uniform() < 0.3 ? detail::noun_form(rng) : detail::SubjectForm::Pronoun;
    facts.push_back(detail::random_fact_clause(world, entity, attributes[i], form, rng));
  }
  ResponsePlan plan;
  detail::append_fact_sentences(plan, std::move(facts), rng);
  return render_plan(plan);
}

// ---- preferences ------------------------------------------------------------------------------

inline double bradley_terry_probability(double score_a, double score_b, double temperature) {
  TLCR_CHECK(temperature > 0, "bradley_terry_probability: temperature must be > 0, found ",
             temperature);
  return 1.0 / (1.0 + std::exp(-(score_a - score_b) / temperature));
}

struct PreferenceDraw {
  std::string chosen, rejected;
  double chosen_score = 0, rejected_score = 0;
  double probability_a_preferred = 0;  // σ((s_a − s_b) / T)
  bool a_chosen = false;
};

// The annotator: compares a and b by the oracle and picks one with Bradley–Terry noise.
inline PreferenceDraw draw_preference(const TaskWorld& world, const TaskPrompt& prompt,
                                      const std::string& a, const std::string& b,
                                      double temperature, Rng& rng) {
  const double sa = oracle_report(world, prompt, a).score;
  const double sb = oracle_report(world, prompt, b).score;
  PreferenceDraw draw;
  draw.probability_a_preferred = bradley_terry_probability(sa, sb, temperature);
  draw.a_chosen = rng.uniform() < draw.probability_a_preferred;
  draw.chosen = draw.a_chosen ? a : b;
  draw.rejected = draw.a_chosen ? b : a;
  draw.chosen_score = draw.a_chosen ? sa : sb;
  draw.rejected_score = draw.a_chosen ? sb : sa;
  return draw;
}

}  // namespace tlcr::task
