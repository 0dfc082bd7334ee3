// tlcr/rlhf/task/oracle.hpp — the programmatic "human" that scores responses word by word.
//
// The oracle reads the response with parse.hpp and walks its clauses in order, recording findings.
// Each finding is worth fixed points, spread evenly over the words it covers; a word's score is the
// sum of the shares it receives, and the sequence score is the sum of the findings' points (so the
// word scores add up to it).
//
//   finding         points  words it covers
//   RequestedFact    +1     the value word of the first correct statement of an asked attribute
//   ExtraFact         0     the value word of the first correct statement of an unasked attribute
//   WrongFact        −1     the value word of a statement about the asked entity that is false
//                           (or states an attribute its category does not have)
//   Repetition       −1     a later correct statement of an attribute already stated correctly,
//                           or a repeated opener / polite phrase (the clause's words)
//   OffTopic         −1     a statement about another entity, or a canned off-topic phrase
//   Rude             −1     each inline rude word; a whole rude phrase ("what a dumb question")
//   Garbled          −1     a clause the grammar does not produce, a stray or malformed joint,
//                           an empty sentence
//   Polite          +0.5    the first polite phrase (later different ones earn nothing: the cap)
//
// So the best response to a prompt asking k attributes scores k + 0.5: every asked fact stated
// correctly once, one polite phrase, nothing negative. Wording, openers, extra true facts and the
// order of sentences are neutral. Words outside the task's vocabulary make their clause Garbled.
// Not here: fixing a response (reviser.hpp), preference sampling (generator.hpp).
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/rlhf/task/parse.hpp"
#include "tlcr/rlhf/task/world.hpp"

namespace tlcr::task {

enum class FindingKind {
  RequestedFact,
  ExtraFact,
  WrongFact,
  Repetition,
  OffTopic,
  Rude,
  Garbled,
  Polite
};

inline const char* finding_name(FindingKind kind) {
  switch (kind) {
    case FindingKind::RequestedFact:
      return "requested_fact";
    case FindingKind::ExtraFact:
      return "extra_fact";
    case FindingKind::WrongFact:
      return "wrong_fact";
    case FindingKind::Repetition:
      return "repetition";
    case FindingKind::OffTopic:
      return "off_topic";
    case FindingKind::Rude:
      return "rude";
    case FindingKind::Garbled:
      return "garbled";
    case FindingKind::Polite:
      return "polite";
  }
  return "?";
}

// Points per finding (see the table above).
inline double finding_points(FindingKind kind) {
  switch (kind) {
    case FindingKind::RequestedFact:
      return 1.0;
    case FindingKind::ExtraFact:
      return 0.0;
    case FindingKind::Polite:
      return 0.5;
    default:
      return -1.0;
  }
}

struct OracleFinding {
  FindingKind kind;
  std::vector<int> words;  // word positions the points are spread over
  double points = 0;
};

struct OracleReport {
  std::vector<std::string> words;  // the response's words (split_words)
  std::vector<OracleFinding> findings;
  std::vector<double> word_scores;  // one per word
  double score = 0;                 // Σ findings' points
  double max_score = 0;             // the best any response to this prompt can score
  int count(FindingKind kind) const {
    int n = 0;
    for (const OracleFinding& f : findings) n += f.kind == kind;
    return n;
  }
};

// The best score a response to `prompt` can reach: one point per asked attribute, plus politeness.
inline double oracle_max_score(const TaskPrompt& prompt) {
  return double(prompt.attributes.size()) * finding_points(FindingKind::RequestedFact) +
         finding_points(FindingKind::Polite);
}

inline OracleReport oracle_report(const TaskWorld& world, const TaskPrompt& prompt,
                                  std::string_view response) {
  const int asked = prompt.entity;
  const ParsedResponse parsed = parse_response(world, response, asked);
  OracleReport report;
  report.words = parsed.words;
  report.max_score = oracle_max_score(prompt);

  auto add = [&](FindingKind kind, std::vector<int> words) {
    report.findings.push_back({kind, std::move(words), finding_points(kind)});
  };
  auto span_words = [](WordSpan span) {
    std::vector<int> out;
    for (int w = span.begin; w < span.end; ++w) out.push_back(w);
    return out;
  };
  auto requested = [&](int attribute) {
    return std::find(prompt.attributes.begin(), prompt.attributes.end(), attribute) !=
           prompt.attributes.end();
  };

  std::vector<bool> stated_correctly(kAttributeCount, false);
  std::set<std::string> canned_seen;  // openers and polite phrases already used
  bool polite_counted = false;

  for (const ParsedSentence& sentence : parsed.sentences) {
    if (sentence.clauses.empty()) {
      add(FindingKind::Garbled, span_words(sentence.span));  // ". ." or ", ."
      continue;
    }
    for (WordSpan stray : sentence.stray_connectors) add(FindingKind::Garbled, span_words(stray));
    for (WordSpan joint : sentence.joints)
      if (!is_valid_joint(parsed.words, joint)) add(FindingKind::Garbled, span_words(joint));

    for (const ParsedClause& clause : sentence.clauses) {
      for (int w : clause.rude_words) add(FindingKind::Rude, {w});
      switch (clause.kind) {
        case ClauseKind::Rude:
          add(FindingKind::Rude, span_words(clause.span));
          break;
        case ClauseKind::Garbled:
          add(FindingKind::Garbled, clause.plain_words());
          break;
        case ClauseKind::OffTopic:
          add(FindingKind::OffTopic, clause.plain_words());
          break;
        case ClauseKind::Opener:
        case ClauseKind::Polite:
          if (!canned_seen.insert(clause.text).second) {
            add(FindingKind::Repetition, clause.plain_words());
          } else if (clause.kind == ClauseKind::Polite && !polite_counted) {
            polite_counted = true;
            add(FindingKind::Polite, clause.plain_words());
          }
          break;
        case ClauseKind::Fact: {
          const int a = clause.attribute;
          if (clause.subject != asked) {
            add(FindingKind::OffTopic, clause.plain_words());
          } else if (world.fact(asked, a) != parsed.words[clause.value_word]) {
            add(FindingKind::WrongFact, {clause.value_word});
          } else if (stated_correctly[a]) {
            add(FindingKind::Repetition, clause.plain_words());
          } else {
            stated_correctly[a] = true;
            add(requested(a) ? FindingKind::RequestedFact : FindingKind::ExtraFact,
                {clause.value_word});
          }
          break;
        }
      }
    }
  }

  report.word_scores.assign(report.words.size(), 0.0);
  for (const OracleFinding& finding : report.findings) {
    report.score += finding.points;
    for (int w : finding.words)
      report.word_scores[w] += finding.points / double(finding.words.size());
  }
  return report;
}

inline OracleReport oracle_report(const TaskWorld& world, std::string_view prompt,
                                  std::string_view response) {
  return oracle_report(world, world.find_prompt(prompt), response);
}

// The sequence score of a response (see the table at the top).
inline double oracle_score(const TaskWorld& world, std::string_view prompt,
                           std::string_view response) {
  return oracle_report(world, prompt, response).score;
}

// One score per word of split_words(response); they sum to oracle_score.
inline std::vector<double> oracle_token_scores(const TaskWorld& world, std::string_view prompt,
                                               std::string_view response) {
  return oracle_report(world, prompt, response).word_scores;
}

}  // namespace tlcr::task
