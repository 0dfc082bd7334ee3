// tlcr/rlhf/task/world.hpp — the built-in task's world: entities, their facts, the phrases
// responses are made of, and every prompt the task can ask.
//
// The world is fixed (it does not depend on a seed): 24 animals and 16 fruits, each with one true
// value per attribute that applies to its category. Text is lower-case words and punctuation
// separated by single spaces ("what colour is the fox ?").
//   animals: colour, home, food, sound, size      fruits: colour, taste, grows, size
// An attribute's value words are disjoint from every other attribute's, so a value word alone says
// which attribute a clause states.
// Not here: reading responses (parse.hpp), scoring (oracle.hpp), sampling (generator.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tlcr/config.hpp"

namespace tlcr::task {

// ---- words ------------------------------------------------------------------------------------

// The words of a text: maximal runs of characters other than space, tab, CR and LF.
inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

inline std::string join_words(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) text += ' ';
    text += word;
  }
  return text;
}

// ---- the world --------------------------------------------------------------------------------

enum class TaskCategory { Animal, Fruit };

// Attribute indices (the order of TaskWorld::attributes()).
enum TaskAttributeId : int {
  kColour,
  kHome,
  kFood,
  kSound,
  kSize,
  kTaste,
  kGrows,
  kAttributeCount
};

struct TaskAttribute {
  std::string name;
  // How a response states it: "{s}" is the subject ("it", "the fox", "a fox"), "{v}" the value.
  std::vector<std::string> clause_templates;
  // How a prompt asks for it; "{s}" as above. Two per attribute.
  std::vector<std::string> questions;
};

struct TaskEntity {
  std::string name;
  TaskCategory category;
  std::vector<std::string> facts;  // per attribute: the true value word, "" where it does not apply
};

// What a clause of a response is, as the grammar reads it.
enum class ClauseKind { Fact, Opener, Polite, OffTopic, Rude, Garbled };

// One production of the clause grammar: literal words plus at most one "{s}" and one "{v}" slot.
struct ClausePattern {
  ClauseKind kind;
  int attribute = -1;               // Fact patterns: whose values fill "{v}"
  std::vector<std::string> tokens;  // e.g. {"{s}", "lives", "in", "the", "{v}"}
};

struct TaskPrompt {
  std::string text;
  int entity = -1;
  std::vector<int> attributes;  // what it asks for, in asking order
};

class TaskWorld {
 public:
  TaskWorld() {
    build_attributes();
    build_entities();
    build_phrases();
    build_indices();
    build_patterns();
    build_prompts();
  }

  const std::vector<TaskAttribute>& attributes() const { return attributes_; }
  const std::vector<TaskEntity>& entities() const { return entities_; }
  const std::vector<TaskPrompt>& prompts() const { return prompts_; }

  // Canned clauses (each a space-separated phrase without punctuation).
  const std::vector<std::string>& openers() const { return openers_; }        // neutral
  const std::vector<std::string>& polite_phrases() const { return polite_; }  // +0.5 once
  const std::vector<std::string>& off_topic_phrases() const { return off_topic_; }
  const std::vector<std::string>& rude_phrases() const { return rude_phrases_; }
  // Single rude words: adjectives put before a noun ("the dumb fox") and interjections ("ugh").
  const std::vector<std::string>& rude_adjectives() const { return rude_adjectives_; }
  const std::vector<std::string>& rude_interjections() const { return rude_interjections_; }
  // The clause grammar: every attribute's templates, then the canned phrases.
  const std::vector<ClausePattern>& clause_patterns() const { return patterns_; }

  bool is_rude_word(std::string_view word) const {
    return rude_words_.count(std::string(word)) > 0;
  }

  // Attributes that apply to an entity's category, in attribute order.
  const std::vector<int>& category_attributes(TaskCategory category) const {
    return category == TaskCategory::Animal ? animal_attributes_ : fruit_attributes_;
  }
  // What "tell me about ..." asks for.
  const std::vector<int>& describe_attributes(TaskCategory category) const {
    return category == TaskCategory::Animal ? animal_describe_ : fruit_describe_;
  }

  bool applies(int entity, int attribute) const { return !fact(entity, attribute).empty(); }
  const std::string& fact(int entity, int attribute) const {
    return entities_.at(entity).facts.at(attribute);
  }
  // Values of `attribute` that are true for some other entity of the same category but not for
  // this one: the world's plausible wrong answers. Sorted.
  std::vector<std::string> wrong_values(int entity, int attribute) const {
    std::set<std::string> values;
    for (std::size_t other = 0; other < entities_.size(); ++other)
      if (entities_[other].category == entities_[entity].category && applies(int(other), attribute))
        values.insert(fact(int(other), attribute));
    values.erase(fact(entity, attribute));
    return {values.begin(), values.end()};
  }

  // Entity whose name is `word`, or −1.
  int entity_index(std::string_view word) const {
    const auto it = entity_by_name_.find(std::string(word));
    return it == entity_by_name_.end() ? -1 : it->second;
  }
  // Attribute whose value set holds `word`, or −1.
  int value_attribute(std::string_view word) const {
    const auto it = attribute_by_value_.find(std::string(word));
    return it == attribute_by_value_.end() ? -1 : it->second;
  }

  // "the fox" or "a fox" / "an owl".
  std::vector<std::string> noun_phrase(int entity, bool definite) const {
    const std::string& name = entities_.at(entity).name;
    const bool vowel = std::string_view("aeiou").find(name[0]) != std::string_view::npos;
    return {definite ? "the" : (vowel ? "an" : "a"), name};
  }

  // The prompt with this text (whitespace-insensitive); throws if it is not one of the task's.
  // Whether `text` is one of the task's prompts (spacing aside).
  bool has_prompt(std::string_view text) const {
    return prompt_by_text_.count(join_words(split_words(text))) > 0;
  }

  const TaskPrompt& find_prompt(std::string_view text) const {
    const auto it = prompt_by_text_.find(join_words(split_words(text)));
    TLCR_CHECK(it != prompt_by_text_.end(), "task oracle: expected one of the built-in task's ",
               prompts_.size(), " prompts, found '", text, "'");
    return prompts_[it->second];
  }

  // Every word a prompt or a generated response can contain, sorted.
  std::vector<std::string> vocabulary() const {
    std::set<std::string> words{".", "!", "?", ",", "and", "it", "the", "a", "an"};
    auto add = [&](const std::string& text) {
      for (const std::string& w : split_words(text))
        if (w != "{s}" && w != "{v}") words.insert(w);
    };
    for (const TaskAttribute& a : attributes_) {
      for (const std::string& t : a.clause_templates) add(t);
      for (const std::string& q : a.questions) add(q);
    }
    for (const TaskEntity& e : entities_) {
      words.insert(e.name);
      for (const std::string& v : e.facts)
        if (!v.empty()) words.insert(v);
    }
    for (const auto* list : {&openers_, &polite_, &off_topic_, &rude_phrases_, &rude_adjectives_,
                             &rude_interjections_, &describe_questions_})
      for (const std::string& phrase : *list) add(phrase);
    return {words.begin(), words.end()};
  }

 private:
  void build_attributes() {
    attributes_.resize(kAttributeCount);
    attributes_[kColour] = {"colour",
                            {"{s} is {v}", "{s} is {v} in colour", "{s} looks {v}"},
                            {"what colour is {s}", "which colour does {s} have"}};
    attributes_[kHome] = {
        "home",
        {"{s} lives in the {v}", "you can find {s} in the {v}", "{s} makes its home in the {v}"},
        {"where does {s} live", "where can i find {s}"}};
    attributes_[kFood] = {"food",
                          {"{s} eats {v}", "{s} likes to eat {v}", "{s} feeds on {v}"},
                          {"what does {s} eat", "what food does {s} like"}};
    attributes_[kSound] = {"sound",
                           {"{s} {v}", "{s} often {v}", "you can hear {s} when it {v}"},
                           {"what sound does {s} make", "what noise does {s} make"}};
    attributes_[kSize] = {"size",
                          {"{s} is {v}", "{s} is quite {v}", "{s} is {v} in size"},
                          {"how big is {s}", "what size is {s}"}};
    attributes_[kTaste] = {"taste",
                           {"{s} tastes {v}", "{s} has a {v} taste", "{s} tastes quite {v}"},
                           {"how does {s} taste", "what does {s} taste like"}};
    attributes_[kGrows] = {
        "grows",
        {"{s} grows on a {v}", "{s} comes from a {v}", "you can pick {s} from a {v}"},
        {"where does {s} grow", "what does {s} grow on"}};
    animal_attributes_ = {kColour, kHome, kFood, kSound, kSize};
    fruit_attributes_ = {kColour, kTaste, kGrows, kSize};
    animal_describe_ = {kColour, kHome, kFood};
    fruit_describe_ = {kColour, kTaste, kGrows};
  }

  void build_entities() {
    // name, colour, home, food, sound, size
    const char* animals[][6] = {
        {"fox", "red", "forest", "mice", "yelps", "small"},
        {"bear", "brown", "forest", "honey", "growls", "huge"},
        {"cat", "grey", "house", "fish", "meows", "small"},
        {"dog", "brown", "house", "meat", "barks", "big"},
        {"cow", "white", "barn", "grass", "moos", "huge"},
        {"horse", "brown", "field", "hay", "neighs", "huge"},
        {"sheep", "white", "field", "grass", "baas", "big"},
        {"pig", "pink", "barn", "corn", "oinks", "big"},
        {"duck", "yellow", "pond", "seeds", "quacks", "small"},
        {"owl", "brown", "forest", "mice", "hoots", "small"},
        {"frog", "green", "pond", "flies", "croaks", "tiny"},
        {"mouse", "grey", "house", "cheese", "squeaks", "tiny"},
        {"rabbit", "white", "field", "carrots", "squeals", "small"},
        {"lion", "golden", "savanna", "meat", "roars", "huge"},
        {"tiger", "orange", "jungle", "meat", "roars", "huge"},
        {"wolf", "grey", "forest", "meat", "howls", "big"},
        {"whale", "blue", "sea", "krill", "sings", "huge"},
        {"bee", "yellow", "hive", "nectar", "buzzes", "tiny"},
        {"snake", "green", "desert", "mice", "hisses", "small"},
        {"camel", "brown", "desert", "leaves", "grunts", "huge"},
        {"penguin", "black", "snow", "fish", "squawks", "small"},
        {"elephant", "grey", "savanna", "grass", "trumpets", "huge"},
        {"monkey", "brown", "jungle", "fruit", "chatters", "small"},
        {"chicken", "white", "barn", "seeds", "clucks", "small"},
    };
    // name, colour, taste, grows, size
    const char* fruits[][5] = {
        {"banana", "yellow", "sweet", "plant", "big"},
        {"apple", "red", "sweet", "tree", "small"},
        {"lemon", "yellow", "sour", "tree", "small"},
        {"lime", "green", "sour", "tree", "small"},
        {"cherry", "red", "sweet", "tree", "tiny"},
        {"grape", "purple", "sweet", "vine", "tiny"},
        {"melon", "green", "sweet", "vine", "huge"},
        {"pumpkin", "orange", "mild", "vine", "huge"},
        {"plum", "purple", "tangy", "tree", "small"},
        {"peach", "orange", "sweet", "tree", "small"},
        {"pear", "green", "sweet", "tree", "small"},
        {"blueberry", "blue", "sweet", "bush", "tiny"},
        {"coconut", "brown", "mild", "palm", "big"},
        {"kiwi", "brown", "tangy", "vine", "small"},
        {"mango", "yellow", "sweet", "tree", "big"},
        {"olive", "green", "bitter", "tree", "tiny"},
    };
    for (const auto& row : animals) {
      TaskEntity e{row[0], TaskCategory::Animal, std::vector<std::string>(kAttributeCount)};
      for (int k = 0; k < 5; ++k) e.facts[animal_attributes_[k]] = row[k + 1];
      entities_.push_back(std::move(e));
    }
    for (const auto& row : fruits) {
      TaskEntity e{row[0], TaskCategory::Fruit, std::vector<std::string>(kAttributeCount)};
      for (int k = 0; k < 4; ++k) e.facts[fruit_attributes_[k]] = row[k + 1];
      entities_.push_back(std::move(e));
    }
  }

  void build_phrases() {
    openers_ = {"sure", "of course", "okay", "good question", "let me see", "let me think"};
    polite_ = {"i hope this helps", "thank you for asking", "have a nice day", "happy to help"};
    off_topic_ = {"i like trains",        "the weather is nice today",
                  "my phone is broken",   "football is fun to watch",
                  "i had soup for lunch", "cars can go very fast"};
    rude_phrases_ = {"what a dumb question", "you should know this", "stop asking me things",
                     "figure it out yourself", "i do not care"};
    rude_adjectives_ = {"dumb", "stupid", "silly"};
    rude_interjections_ = {"ugh", "duh"};
    describe_questions_ = {"tell me about {s} .", "describe {s} .", "what do you know about {s} ?"};
  }

  void build_indices() {
    for (std::size_t e = 0; e < entities_.size(); ++e) {
      const bool fresh = entity_by_name_.emplace(entities_[e].name, int(e)).second;
      TLCR_CHECK(fresh, "task world: entity '", entities_[e].name, "' listed twice");
      for (int a = 0; a < kAttributeCount; ++a) {
        const std::string& value = entities_[e].facts[a];
        if (value.empty()) continue;
        const auto [it, added] = attribute_by_value_.emplace(value, a);
        TLCR_CHECK(it->second == a, "task world: value '", value, "' belongs to two attributes");
      }
    }
    for (const auto* list : {&rude_adjectives_, &rude_interjections_})
      rude_words_.insert(list->begin(), list->end());
  }

  void build_patterns() {
    for (int a = 0; a < kAttributeCount; ++a)
      for (const std::string& t : attributes_[a].clause_templates)
        patterns_.push_back({ClauseKind::Fact, a, split_words(t)});
    auto add = [&](ClauseKind kind, const std::vector<std::string>& phrases) {
      for (const std::string& p : phrases) patterns_.push_back({kind, -1, split_words(p)});
    };
    add(ClauseKind::Opener, openers_);
    add(ClauseKind::Polite, polite_);
    add(ClauseKind::OffTopic, off_topic_);
    add(ClauseKind::Rude, rude_phrases_);
  }

  void build_prompts() {
    auto fill = [](const std::string& pattern, const std::vector<std::string>& subject) {
      std::vector<std::string> out;
      for (const std::string& w : split_words(pattern)) {
        if (w == "{s}")
          out.insert(out.end(), subject.begin(), subject.end());
        else
          out.push_back(w);
      }
      return out;
    };
    auto add = [&](int entity, std::vector<std::string> words, std::vector<int> asked) {
      TaskPrompt prompt{join_words(words), entity, std::move(asked)};
      prompt_by_text_.emplace(prompt.text, prompts_.size());
      prompts_.push_back(std::move(prompt));
    };
    for (int e = 0; e < int(entities_.size()); ++e) {
      const auto& asked = category_attributes(entities_[e].category);
      // "what colour is the fox ?" and "which colour does a fox have ?"
      for (int a : asked)
        for (int q = 0; q < 2; ++q) {
          auto words = fill(attributes_[a].questions[q], noun_phrase(e, q == 0));
          words.push_back("?");
          add(e, words, {a});
        }
      // "what colour is the fox and where does it live ?"
      for (std::size_t i = 0; i < asked.size(); ++i)
        for (std::size_t j = i + 1; j < asked.size(); ++j) {
          const int first = asked[i], second = asked[j];
          const std::size_t wording = (i + j + 1) % 2;
          auto words = fill(attributes_[first].questions[wording], noun_phrase(e, true));
          words.push_back("and");
          const auto rest = fill(attributes_[second].questions[wording], {"it"});
          words.insert(words.end(), rest.begin(), rest.end());
          words.push_back("?");
          add(e, words, {first, second});
        }
      // "tell me about the fox ."
      for (std::size_t q = 0; q < describe_questions_.size(); ++q)
        add(e, fill(describe_questions_[q], noun_phrase(e, q != 1)),
            describe_attributes(entities_[e].category));
    }
  }

  std::vector<TaskAttribute> attributes_;
  std::vector<TaskEntity> entities_;
  std::vector<TaskPrompt> prompts_;
  std::vector<ClausePattern> patterns_;
  std::vector<int> animal_attributes_, fruit_attributes_, animal_describe_, fruit_describe_;
  std::vector<std::string> openers_, polite_, off_topic_, rude_phrases_, rude_adjectives_,
      rude_interjections_, describe_questions_;
  std::set<std::string> rude_words_;
  std::map<std::string, int> entity_by_name_, attribute_by_value_;
  std::map<std::string, std::size_t> prompt_by_text_;
};

// The one built-in world (built on first use; thread-safe).
inline const TaskWorld& task_world() {
  static const TaskWorld world;
  return world;
}

}  // namespace tlcr::task
