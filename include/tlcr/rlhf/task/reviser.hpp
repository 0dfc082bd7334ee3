// tlcr/rlhf/task/reviser.hpp — the stand-in for the strong LM: a minimal-edit revision of the
// rejected response that fixes every mistake the oracle sees and leaves the rest alone.
//
// Given (prompt, chosen, rejected), revise() edits the rejected response word by word:
//   substitute  a wrong value by the true one ("the fox is brown" → "the fox is red"), when that
//               attribute is not stated correctly anywhere else;
//   delete      inline rude words; rude, off-topic and garbled clauses; statements about other
//               entities; repeated statements and phrases; wrong statements whose attribute is
//               stated correctly elsewhere (substituting would only repeat it); stray joints;
//               a garbled clause that one deleted word repairs loses just that word;
//   insert      each asked fact the response lacks, as its own sentence, after the last sentence
//               that states a fact (or after the openers); and one polite phrase at the end when
//               none is left. Wording for insertions is taken from the chosen response when it
//               states that fact (or has a polite phrase) cleanly, else from the first template.
// Everything else keeps its words and order. Like the paper's reviser, which is told why the chosen
// response is preferred, this one knows the oracle's reasons (it reads the response with the same
// parser and rules), so the result always reaches the oracle's maximum for the prompt and the edits
// carry the whole of the oracle's preference; a rejected response that already scores the maximum
// comes back unchanged. What labels still cannot carry is listed in rlhf/task.hpp.
// Not here: the token alignment that turns the edit into labels (rlhf/edit_labels.hpp).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/rlhf/task/oracle.hpp"
#include "tlcr/rlhf/task/parse.hpp"
#include "tlcr/rlhf/task/world.hpp"

namespace tlcr::task {

namespace detail {

// Pass 1: a garbled clause that becomes grammatical without one of its words loses that word
// ("the fox is is red" → "the fox is red"). Returns the words with those deletions applied.
inline std::vector<std::string> repair_garbled_clauses(const TaskWorld& world,
                                                       const ParsedResponse& parsed, int asked) {
  std::vector<bool> drop(parsed.words.size(), false);
  for (const ParsedSentence& sentence : parsed.sentences)
    for (const ParsedClause& clause : sentence.clauses) {
      if (clause.kind != ClauseKind::Garbled) continue;
      std::vector<int> positions;
      for (int w = clause.span.begin; w < clause.span.end; ++w) positions.push_back(w);
      for (std::size_t skip = 0; skip < positions.size(); ++skip) {
        std::vector<int> rest = positions;
        rest.erase(rest.begin() + std::ptrdiff_t(skip));
        const ClauseKind kind = classify_clause(world, parsed.words, rest, asked).kind;
        if (kind != ClauseKind::Garbled && kind != ClauseKind::Rude) {
          drop[positions[skip]] = true;
          break;
        }
      }
    }
  std::vector<std::string> out;
  for (std::size_t w = 0; w < parsed.words.size(); ++w)
    if (!drop[w]) out.push_back(parsed.words[w]);
  return out;
}

// The words of the first clean, correct statement of `attribute` in a response, or of its first
// polite phrase (attribute −1), with the sentence's terminal mark; empty if there is none.
inline std::vector<std::string> borrow_clause(const TaskWorld& world, const ParsedResponse& parsed,
                                              int asked, int attribute) {
  for (const ParsedSentence& sentence : parsed.sentences)
    for (const ParsedClause& clause : sentence.clauses) {
      if (!clause.rude_words.empty()) continue;
      const bool wanted = attribute < 0
                              ? clause.kind == ClauseKind::Polite
                              : clause.kind == ClauseKind::Fact && clause.attribute == attribute &&
                                    clause.subject == asked &&
                                    parsed.words[clause.value_word] == world.fact(asked, attribute);
      if (!wanted) continue;
      std::vector<std::string> words(parsed.words.begin() + clause.span.begin,
                                     parsed.words.begin() + clause.span.end);
      words.push_back(sentence.terminated ? parsed.words[sentence.span.end - 1] : ".");
      return words;
    }
  return {};
}

// "{s} lives in the {v}" filled in for the asked entity, as a sentence.
inline std::vector<std::string> canonical_fact_sentence(const TaskWorld& world, int entity,
                                                        int attribute, bool use_pronoun) {
  std::vector<std::string> words;
  for (const std::string& token : split_words(world.attributes()[attribute].clause_templates[0])) {
    if (token == "{s}") {
      const auto subject =
          use_pronoun ? std::vector<std::string>{"it"} : world.noun_phrase(entity, true);
      words.insert(words.end(), subject.begin(), subject.end());
    } else {
      words.push_back(token == "{v}" ? world.fact(entity, attribute) : token);
    }
  }
  words.push_back(".");
  return words;
}

}  // namespace detail

inline std::string revise(const TaskWorld& world, const TaskPrompt& prompt, std::string_view chosen,
                          std::string_view rejected) {
  const int asked = prompt.entity;
  const ParsedResponse first = parse_response(world, rejected, asked);
  const ParsedResponse parsed =
      parse_response(world, detail::repair_garbled_clauses(world, first, asked), asked);
  const std::vector<std::string>& words = parsed.words;

  // Which attributes have a correct statement somewhere: their wrong statements are deleted.
  std::vector<bool> correct_somewhere(kAttributeCount, false);
  for (const ParsedSentence& sentence : parsed.sentences)
    for (const ParsedClause& clause : sentence.clauses)
      if (clause.kind == ClauseKind::Fact && clause.subject == asked &&
          words[clause.value_word] == world.fact(asked, clause.attribute))
        correct_somewhere[clause.attribute] = true;

  std::vector<bool> keep(words.size(), true);
  std::vector<std::string> replacement(words.size());  // non-empty: substitute this word
  auto drop = [&](WordSpan span) {
    for (int w = span.begin; w < span.end; ++w) keep[w] = false;
  };
  std::vector<bool> stated(kAttributeCount, false);
  std::set<std::string> canned_seen;
  bool polite_kept = false;

  struct KeptSentence {
    int last_word;  // position of its last kept word in `words`
    bool terminated, has_fact, opener_only;
  };
  std::vector<KeptSentence> kept_sentences;

  for (const ParsedSentence& sentence : parsed.sentences) {
    std::vector<bool> keep_clause(sentence.clauses.size(), false);
    bool has_fact = false, opener_only = true;
    for (std::size_t c = 0; c < sentence.clauses.size(); ++c) {
      const ParsedClause& clause = sentence.clauses[c];
      bool keep_it = false;
      switch (clause.kind) {
        case ClauseKind::Opener:
        case ClauseKind::Polite:
          keep_it = canned_seen.insert(clause.text).second;
          if (keep_it && clause.kind == ClauseKind::Polite) polite_kept = true;
          break;
        case ClauseKind::Fact: {
          const int a = clause.attribute;
          if (clause.subject != asked || stated[a]) break;
          const bool correct = words[clause.value_word] == world.fact(asked, a);
          if (!correct && (correct_somewhere[a] || !world.applies(asked, a))) break;
          if (!correct) replacement[clause.value_word] = world.fact(asked, a);
          stated[a] = keep_it = true;
          break;
        }
        default:
          break;  // Rude, OffTopic, Garbled
      }
      keep_clause[c] = keep_it;
      if (keep_it) {
        for (int w : clause.rude_words) keep[w] = false;
        has_fact |= clause.kind == ClauseKind::Fact;
        opener_only &= clause.kind == ClauseKind::Opener;
      } else {
        drop(clause.span);
      }
    }
    for (WordSpan stray : sentence.stray_connectors) drop(stray);
    // Kept clauses are joined by the joint in front of each but the first; a malformed joint
    // keeps only its first word ("," or "and").
    bool any_kept = false;
    for (std::size_t c = 0; c < sentence.clauses.size(); ++c) {
      if (c > 0) {
        const WordSpan joint = sentence.joints[c - 1];
        if (!keep_clause[c] || !any_kept)
          drop(joint);
        else if (!is_valid_joint(words, joint))
          drop({joint.begin + 1, joint.end});
      }
      any_kept |= keep_clause[c];
    }
    if (!any_kept) {
      drop(sentence.span);
      continue;
    }
    int last = sentence.span.end - 1;
    while (!keep[last]) --last;
    kept_sentences.push_back({last, sentence.terminated, has_fact, opener_only});
  }

  // Where missing facts go: after the last sentence with a fact, else after the leading openers.
  int insert_after = -1;  // index into kept_sentences; −1 = at the start
  for (std::size_t s = 0; s < kept_sentences.size(); ++s)
    if (kept_sentences[s].has_fact) insert_after = int(s);
  if (insert_after < 0)
    while (insert_after + 1 < int(kept_sentences.size()) &&
           kept_sentences[insert_after + 1].opener_only)
      ++insert_after;

  const ParsedResponse chosen_parsed = parse_response(world, chosen, asked);
  std::vector<std::string> facts_to_insert;
  bool mentioned = insert_after >= 0 && kept_sentences[insert_after].has_fact;
  for (int a : prompt.attributes) {
    if (stated[a]) continue;
    std::vector<std::string> sentence = detail::borrow_clause(world, chosen_parsed, asked, a);
    if (sentence.empty()) sentence = detail::canonical_fact_sentence(world, asked, a, mentioned);
    facts_to_insert.insert(facts_to_insert.end(), sentence.begin(), sentence.end());
    stated[a] = mentioned = true;
  }
  std::vector<std::string> polite_to_insert;
  if (!polite_kept) {
    polite_to_insert = detail::borrow_clause(world, chosen_parsed, asked, -1);
    if (polite_to_insert.empty()) polite_to_insert = {"i", "hope", "this", "helps", "."};
  }

  // Assemble: kept words (with substitutions), insertions at their places. A sentence that gets
  // text after it but has no terminal mark receives a ".".
  std::vector<std::string> out;
  auto append = [&](const std::vector<std::string>& more) {
    out.insert(out.end(), more.begin(), more.end());
  };
  auto insert_facts_here = [&](int sentence_index) {
    if (facts_to_insert.empty() || insert_after != sentence_index) return;
    if (sentence_index >= 0 && !kept_sentences[sentence_index].terminated) out.push_back(".");
    append(facts_to_insert);
  };
  insert_facts_here(-1);
  std::size_t next_sentence = 0;
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (!keep[w]) continue;
    out.push_back(replacement[w].empty() ? words[w] : replacement[w]);
    if (next_sentence < kept_sentences.size() && int(w) == kept_sentences[next_sentence].last_word)
      insert_facts_here(int(next_sentence++));
  }
  if (!polite_to_insert.empty()) {
    if (!out.empty() && !is_terminal_mark(out.back())) out.push_back(".");
    append(polite_to_insert);
  }
  return join_words(out);
}

inline std::string revise(const TaskWorld& world, std::string_view prompt, std::string_view chosen,
                          std::string_view rejected) {
  return revise(world, world.find_prompt(prompt), chosen, rejected);
}

}  // namespace tlcr::task
