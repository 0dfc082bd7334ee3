// tlcr/rlhf/task/parse.hpp — reading a response of the built-in task into sentences and clauses.
//
// A response is cut into sentences after each terminal mark (". ! ?"); the last sentence may lack
// one. Inside a sentence, joints ("," or "and" or ", and") separate clauses. Each clause is matched
// against the grammar — the clause templates of the world's attributes and its canned phrases —
// after taking out inline rude words ("the dumb fox is red" reads as "the fox is red" plus one rude
// word). A clause the grammar does not produce, with unknown words or scrambled order, is Garbled.
// Anything can be parsed: garbled text just yields Garbled clauses and stray connectors.
//
// Subjects: "it" always means the entity the prompt asks about; "the X", "a X", "an X" mean X.
// Not here: what the clauses are worth (oracle.hpp) or how to fix them (reviser.hpp).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/rlhf/task/world.hpp"

namespace tlcr::task {

// A run of words [begin, end) in the response.
struct WordSpan {
  int begin = 0, end = 0;
  int size() const { return end - begin; }
};

struct ParsedClause {
  WordSpan span;  // the clause's words, joints excluded
  ClauseKind kind = ClauseKind::Garbled;
  std::vector<int> rude_words;  // positions of inline rude words (not for Rude clauses)
  std::string text;             // the clause without its rude words: the key for repetition
  // Fact clauses only:
  int subject = -1;     // entity index ("it" → the asked entity)
  int attribute = -1;   // attribute the value word belongs to
  int value_word = -1;  // position of the value word in the response

  // Positions of the clause's words other than inline rude words.
  std::vector<int> plain_words() const {
    std::vector<int> out;
    for (int w = span.begin; w < span.end; ++w)
      if (std::find(rude_words.begin(), rude_words.end(), w) == rude_words.end()) out.push_back(w);
    return out;
  }
};

struct ParsedSentence {
  WordSpan span;  // including the terminal mark, if any
  bool terminated = false;
  std::vector<ParsedClause> clauses;
  std::vector<WordSpan> joints;  // joints[k] separates clauses[k] and clauses[k + 1]
  std::vector<WordSpan>
      stray_connectors;  // connector runs before the first / after the last clause
};

struct ParsedResponse {
  std::vector<std::string> words;
  std::vector<ParsedSentence> sentences;
};

inline bool is_terminal_mark(std::string_view w) {
  return w == "." || w == "!" || w == "?";
}
inline bool is_connector(std::string_view w) {
  return w == "," || w == "and";
}

// A joint the grammar allows: "," or "and" or ", and".
inline bool is_valid_joint(const std::vector<std::string>& words, WordSpan joint) {
  if (joint.size() == 1) return true;
  return joint.size() == 2 && words[joint.begin] == "," && words[joint.begin + 1] == "and";
}

namespace detail {

struct PatternMatch {
  bool matched = false;
  int subject = -1;     // entity, or the asked entity for "it"
  int value_word = -1;  // position of the value word in the response
};

// Does `words` (positions into `all`) match `pattern` exactly?
inline PatternMatch match_pattern(const TaskWorld& world, const ClausePattern& pattern,
                                  const std::vector<std::string>& all,
                                  const std::vector<int>& words, int asked_entity) {
  PatternMatch m;
  std::size_t w = 0;
  for (const std::string& token : pattern.tokens) {
    if (w >= words.size()) return {};
    const std::string& word = all[words[w]];
    if (token == "{s}") {
      if (word == "it") {
        m.subject = asked_entity;
        ++w;
      } else if ((word == "the" || word == "a" || word == "an") && w + 1 < words.size() &&
                 world.entity_index(all[words[w + 1]]) >= 0) {
        m.subject = world.entity_index(all[words[w + 1]]);
        w += 2;
      } else {
        return {};
      }
    } else if (token == "{v}") {
      if (world.value_attribute(word) != pattern.attribute) return {};
      m.value_word = words[w];
      ++w;
    } else {
      if (word != token) return {};
      ++w;
    }
  }
  m.matched = w == words.size();
  return m;
}

}  // namespace detail

// Classifies the clause made of `positions` (words of `all`). Inline rude words are taken out
// first, unless the whole clause is a canned rude phrase or consists of rude words only.
inline ParsedClause classify_clause(const TaskWorld& world, const std::vector<std::string>& all,
                                    const std::vector<int>& positions, int asked_entity) {
  ParsedClause clause;
  if (!positions.empty()) clause.span = {positions.front(), positions.back() + 1};
  const auto& patterns = world.clause_patterns();
  for (const auto& pattern : patterns)
    if (pattern.kind == ClauseKind::Rude &&
        detail::match_pattern(world, pattern, all, positions, asked_entity).matched) {
      clause.kind = ClauseKind::Rude;
      return clause;
    }
  std::vector<int> plain;
  std::vector<std::string> plain_text;
  for (int p : positions) {
    if (world.is_rude_word(all[p])) {
      clause.rude_words.push_back(p);
    } else {
      plain.push_back(p);
      plain_text.push_back(all[p]);
    }
  }
  if (plain.empty()) {  // "ugh", "duh"
    clause.kind = ClauseKind::Rude;
    clause.rude_words.clear();
    return clause;
  }
  clause.text = join_words(plain_text);
  for (const auto& pattern : patterns) {
    if (pattern.kind == ClauseKind::Rude) continue;
    const auto m = detail::match_pattern(world, pattern, all, plain, asked_entity);
    if (!m.matched) continue;
    clause.kind = pattern.kind;
    if (pattern.kind == ClauseKind::Fact) {
      clause.subject = m.subject;
      clause.attribute = pattern.attribute;
      clause.value_word = m.value_word;
    }
    return clause;
  }
  clause.kind = ClauseKind::Garbled;
  return clause;
}

inline ParsedResponse parse_response(const TaskWorld& world, std::vector<std::string> words,
                                     int asked_entity) {
  ParsedResponse parsed;
  parsed.words = std::move(words);
  const auto& all = parsed.words;
  const int n = static_cast<int>(all.size());
  int start = 0;
  while (start < n) {
    ParsedSentence sentence;
    int end = start;
    while (end < n && !is_terminal_mark(all[end])) ++end;
    sentence.terminated = end < n;
    const int body_end = end;
    sentence.span = {start, sentence.terminated ? end + 1 : end};

    // Alternate clause runs and connector runs inside the body.
    std::vector<WordSpan> connector_runs;
    std::vector<std::vector<int>> clause_runs;
    std::vector<int> order;  // 0 = clause run, 1 = connector run, in text order
    for (int w = start; w < body_end;) {
      const bool connector = is_connector(all[w]);
      int run_end = w;
      while (run_end < body_end && is_connector(all[run_end]) == connector) ++run_end;
      if (connector) {
        connector_runs.push_back({w, run_end});
        order.push_back(1);
      } else {
        std::vector<int> run;
        for (int p = w; p < run_end; ++p) run.push_back(p);
        clause_runs.push_back(std::move(run));
        order.push_back(0);
      }
      w = run_end;
    }
    std::size_t next_clause = 0, next_connector = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i] == 0) {
        sentence.clauses.push_back(
            classify_clause(world, all, clause_runs[next_clause++], asked_entity));
      } else {
        const WordSpan run = connector_runs[next_connector++];
        const bool between = i > 0 && i + 1 < order.size();
        (between ? sentence.joints : sentence.stray_connectors).push_back(run);
      }
    }
    parsed.sentences.push_back(std::move(sentence));
    start = parsed.sentences.back().span.end;
  }
  return parsed;
}

inline ParsedResponse parse_response(const TaskWorld& world, std::string_view response,
                                     int asked_entity) {
  return parse_response(world, split_words(response), asked_entity);
}

}  // namespace tlcr::task
