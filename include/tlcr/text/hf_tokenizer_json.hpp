// tlcr/text/hf_tokenizer_json.hpp — a Hugging Face tokenizer.json (a BPE model) as a BpeSpec.
//
// Reads the two BPE families of the hub, as the `tokenizers` library runs them:
//   byte-level   pre_tokenizer ByteLevel (GPT-2), or Sequence [Split(<pattern>), ByteLevel] with
//                the cl100k pattern (Llama 3); vocabulary in GPT-2's printable byte alphabet;
//                model.ignore_merges → whole_pieces_first.
//   SentencePiece-style   model.byte_fallback with <0x00>…<0xFF> tokens, spaces as "▁": normalizer
//                Sequence [Prepend "▁", Replace " " → "▁"] (Llama 2), or pre_tokenizer Metaspace
//                (split false); vocabulary in UTF-8; model.unk_token, fuse_unk.
// Every added token becomes a special token (matched by encode_with_special_tokens); an added
// token that is also in the vocabulary leaves it. The roles BOS / EOS / PAD come from
// tokenizer_config.json when it is given (bos_token, eos_token, pad_token: a string or
// {"content": ...}); without it, from the usual names (<s>, <|begin_of_text|>, ...).
// What the file asks for and this reader cannot do exactly (another model type, another split
// pattern, a normalizer such as NFC, dropout, subword prefixes) is an error naming the field,
// never a silently different tokenization. The post-processor (BOS added by encode in Python) is
// not applied: callers add BOS where they need it.
// Not here: finding the file (io/tokenizer_file.hpp: open_tokenizer), our own format
// (tokenizer_json.hpp), the encoding itself (bpe.hpp).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/text/bpe.hpp"
#include "tlcr/text/byte_alphabet.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

namespace detail {

// The pre-tokenizer patterns the hand-written splitters of pretokenizer.hpp implement.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Reads a tokenizer.json, naming `source` and the field of every problem.
class HfTokenizerReader {
 public:
  HfTokenizerReader(const nlohmann::json& json, const nlohmann::json* config,
                    std::string_view source)
      : json_(json), config_(config), source_(source) {}

  BpeSpec read() {
    if (!json_.is_object()) fail(source_, ": expected a JSON object, found ", describe_json(json_));
    const nlohmann::json& model = field(json_, "model", "model");
    if (!model.is_object()) fail(source_, ": field 'model': expected an object");
    const std::string type = optional_string(model, "type", "model.type", "BPE");
    if (type != "BPE")
      fail(source_, ": field 'model.type' is '", type, "'; only BPE tokenizers are supported");
    check_unsupported_model_options(model);

    const bool byte_level = read_pre_tokenizer();
    spec_.units = byte_level ? BpeUnits::bytes : BpeUnits::characters;
    if (byte_level) {
      if (json_.contains("normalizer") && !json_["normalizer"].is_null())
        fail(source_, ": field 'normalizer': a byte-level tokenizer with a normalizer (",
             describe_json(json_["normalizer"]), ") is not supported");
    } else {
      read_space_marker();
    }
    spec_.ranking = MergeRanking::merge_list;
    spec_.whole_pieces_first = optional_flag(model, "ignore_merges", "model.ignore_merges", false);
    read_vocabulary(field(model, "vocab", "model.vocab"));
    read_merges(field(model, "merges", "model.merges"));
    read_added_tokens();
    if (!byte_level) read_unknown_and_fallback(model);
    read_roles();
    return std::move(spec_);
  }

 private:
  template <class... Parts>
  [[noreturn]] void fail(Parts&&... parts) const {
    detail::fail(std::forward<Parts>(parts)...);
  }

  const nlohmann::json& field(const nlohmann::json& object, const char* key,
                              std::string_view where) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(source_, ": missing field '", where, "'");
    return *it;
  }
  std::string optional_string(const nlohmann::json& object, const char* key, std::string_view where,
                              std::string fallback) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_string())
      fail(source_, ": field '", where, "': expected a string, found ", describe_json(*it));
    return it->get<std::string>();
  }
  bool optional_flag(const nlohmann::json& object, const char* key, std::string_view where,
                     bool fallback) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_boolean())
      fail(source_, ": field '", where, "': expected true or false, found ", describe_json(*it));
    return it->get<bool>();
  }

  void check_unsupported_model_options(const nlohmann::json& model) const {
    if (model.contains("dropout") && !model["dropout"].is_null() &&
        !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
      fail(source_, ": field 'model.dropout' is ", describe_json(model["dropout"]),
           "; BPE dropout is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (!optional_string(model, key, std::string("model.") + key, "").empty())
        fail(source_, ": field 'model.", key, "' is set; subword prefixes and suffixes are not ",
             "supported");
  }

  // True for byte-level BPE; sets the pre-tokenizer.
  bool read_pre_tokenizer() {
    const auto it = json_.find("pre_tokenizer");
    if (it == json_.end() || it->is_null()) {
      spec_.pretokenizer = Pretokenizer::none;
      return false;
    }
    const nlohmann::json& pre = *it;
    const std::string type =
        pre.is_object() ? optional_string(pre, "type", "pre_tokenizer.type", "") : std::string();
    if (type == "ByteLevel") {
      check_byte_level(pre, "pre_tokenizer", /*splits=*/true);
      spec_.pretokenizer = Pretokenizer::gpt2;
      return true;
    }
    if (type == "Metaspace") {
      read_metaspace(pre);
      spec_.pretokenizer = Pretokenizer::none;
      return false;
    }
    if (type == "Sequence") {
      const nlohmann::json& steps = field(pre, "pretokenizers", "pre_tokenizer.pretokenizers");
      if (steps.is_array() && steps.size() == 2 && steps[0].is_object() && steps[1].is_object() &&
          steps[0].value("type", "") == "Split" && steps[1].value("type", "") == "ByteLevel") {
        spec_.pretokenizer = split_pattern(steps[0]);
        check_byte_level(steps[1], "pre_tokenizer.pretokenizers[1]", /*splits=*/false);
        return true;
      }
    }
    fail(source_, ": field 'pre_tokenizer': ", describe_json(pre),
         " is not supported (supported: ByteLevel; Sequence [Split, ByteLevel] with GPT-2's or ",
         "cl100k's pattern; Metaspace; none)");
  }

  void check_byte_level(const nlohmann::json& step, std::string_view where, bool splits) const {
    const std::string at(where);
    if (optional_flag(step, "add_prefix_space", at + ".add_prefix_space", false))
      fail(source_, ": field '", at, ".add_prefix_space' is true; this is not supported");
    if (optional_flag(step, "use_regex", at + ".use_regex", true) != splits)
      fail(source_, ": field '", at, ".use_regex' is ", splits ? "false" : "true",
           splits ? "; a ByteLevel pre-tokenizer must split with GPT-2's pattern"
                  : " after a Split; the text would be split twice");
  }

  Pretokenizer split_pattern(const nlohmann::json& split) const {
    const std::string where = "pre_tokenizer.pretokenizers[0]";
    const nlohmann::json& pattern = field(split, "pattern", where + ".pattern");
    const std::string behavior = optional_string(split, "behavior", where + ".behavior", "");
    if (behavior != "Isolated" || optional_flag(split, "invert", where + ".invert", false))
      fail(source_, ": field '", where, "': only Split with behavior Isolated, not inverted, is ",
           "supported");
    if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
      const std::string regex = pattern["Regex"].get<std::string>();
      if (regex == kCl100kPattern) return Pretokenizer::cl100k;
      if (regex == kGpt2Pattern) return Pretokenizer::gpt2;
    }
    fail(source_, ": field '", where, ".pattern': ", describe_json(pattern),
         " is not a pattern this build implements (GPT-2's or cl100k's)");
  }

  void read_metaspace(const nlohmann::json& pre) {
    const std::string replacement = optional_string(pre, "replacement", "pre_tokenizer.replacement",
                                                    std::string(kSpaceMarkerText));
    if (replacement != kSpaceMarkerText)
      fail(source_, ": field 'pre_tokenizer.replacement' is '", replacement, "'; only \"",
           kSpaceMarkerText, "\" is supported");
    if (optional_flag(pre, "split", "pre_tokenizer.split", true))
      fail(source_, ": field 'pre_tokenizer.split': a Metaspace that splits into words is not ",
           "supported (split must be false)");
    std::string scheme = optional_string(pre, "prepend_scheme", "pre_tokenizer.prepend_scheme", "");
    if (scheme.empty())  // files older than prepend_scheme: add_prefix_space, default true
      scheme = optional_flag(pre, "add_prefix_space", "pre_tokenizer.add_prefix_space", true)
                   ? "always"
                   : "never";
    if (scheme == "always")
      metaspace_ = SpaceMarker::every_segment;
    else if (scheme == "first")
      metaspace_ = SpaceMarker::first_segment;
    else
      fail(source_, ": field 'pre_tokenizer.prepend_scheme' is '", scheme,
           "'; supported: always, first");
  }

  // A SentencePiece-style tokenizer's spaces: the Prepend + Replace normalizer, or Metaspace.
  void read_space_marker() {
    const auto it = json_.find("normalizer");
    const bool has_normalizer = it != json_.end() && !it->is_null();
    if (metaspace_) {
      if (has_normalizer)
        fail(source_, ": field 'normalizer': ", describe_json(*it),
             " next to a Metaspace pre-tokenizer is not supported");
      spec_.space_marker = *metaspace_;
      return;
    }
    const nlohmann::json expected = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", kSpaceMarkerText}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMarkerText}}}}};
    if (!has_normalizer || *it != expected)
      fail(source_,
           ": field 'normalizer': ", has_normalizer ? describe_json(*it) : std::string("none"),
           " is not supported for a tokenizer without a byte-level pre-tokenizer (expected ",
           "Sequence [Prepend \"", kSpaceMarkerText, "\", Replace \" \" → \"", kSpaceMarkerText,
           "\"], as in Llama 2)");
    spec_.space_marker = SpaceMarker::every_segment;
  }

  // The bytes of a vocabulary entry: GPT-2's printable alphabet (byte-level) or UTF-8 as is.
  std::string token_bytes(const std::string& text, std::string_view where) const {
    if (spec_.units == BpeUnits::characters) return text;
    std::optional<std::string> bytes = printable_to_bytes(text);
    if (!bytes)
      fail(source_, ": ", where, ": '", text,
           "' has a character outside GPT-2's printable byte alphabet");
    return std::move(*bytes);
  }

  void read_vocabulary(const nlohmann::json& vocab) {
    if (!vocab.is_object())
      fail(source_, ": field 'model.vocab': expected an object {token: id}, found ",
           describe_json(vocab));
    for (const auto& [text, value] : vocab.items()) {
      const std::string where = "model.vocab['" + text + "']";
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > kMaxTokenId)
        fail(source_, ": ", where, ": expected an id in [0, ", kMaxTokenId, "], found ",
             describe_json(value));
      const TokenId id = TokenId(value.get<std::int64_t>());
      if (TokenId(spec_.tokens.size()) <= id) spec_.tokens.resize(std::size_t(id) + 1);
      if (const auto [it, inserted] = text_by_id_.emplace(id, text); !inserted)
        fail(source_, ": model.vocab: tokens '", it->second, "' and '", text, "' share id ", id);
      std::string bytes = token_bytes(text, where);
      if (bytes.empty()) fail(source_, ": ", where, ": an empty token");
      id_by_text_.emplace(text, id);
      spec_.tokens[id] = std::move(bytes);
    }
  }

  TokenId vocabulary_id(const std::string& text, std::string_view where) const {
    const auto it = id_by_text_.find(text);
    if (it == id_by_text_.end())
      fail(source_, ": ", where, ": '", text, "' is not in the vocabulary");
    return it->second;
  }

  // Merges as "left right" strings (older files) or ["left", "right"] pairs (newer ones).
  void read_merges(const nlohmann::json& merges) {
    if (!merges.is_array()) fail(source_, ": field 'model.merges': expected an array");
    spec_.merges.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const nlohmann::json& merge = merges[rank];
      const std::string where = "model.merges[" + std::to_string(rank) + "]";
      std::string left, right;
      if (merge.is_string()) {
        const std::string text = merge.get<std::string>();
        const std::size_t space = text.find(' ');
        if (space == 0 || space == std::string::npos || space + 1 == text.size() ||
            text.find(' ', space + 1) != std::string::npos)
          fail(source_, ": ", where, ": expected \"left right\", found ", describe_json(merge));
        left = text.substr(0, space), right = text.substr(space + 1);
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
                 merge[1].is_string()) {
        left = merge[0].get<std::string>(), right = merge[1].get<std::string>();
      } else {
        fail(source_, ": ", where, ": expected \"left right\" or [left, right], found ",
             describe_json(merge));
      }
      spec_.merges.emplace_back(vocabulary_id(left, where), vocabulary_id(right, where));
    }
  }

  void read_added_tokens() {
    const auto it = json_.find("added_tokens");
    if (it == json_.end() || it->is_null()) return;
    if (!it->is_array()) fail(source_, ": field 'added_tokens': expected an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const nlohmann::json& added = (*it)[i];
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      if (!added.is_object()) fail(source_, ": ", where, ": expected an object");
      const nlohmann::json& id_value = field(added, "id", where + ".id");
      if (!id_value.is_number_integer() || id_value.get<std::int64_t>() < 0 ||
          id_value.get<std::int64_t>() > kMaxTokenId)
        fail(source_, ": ", where, ".id: expected an id in [0, ", kMaxTokenId, "], found ",
             describe_json(id_value));
      const TokenId id = TokenId(id_value.get<std::int64_t>());
      const nlohmann::json& content = field(added, "content", where + ".content");
      if (!content.is_string() || content.get<std::string>().empty())
        fail(source_, ": ", where, ".content: expected a non-empty string, found ",
             describe_json(content));
      // An added token with a vocabulary id is that id's special form: the id leaves the
      // ordinary tokens (so no merge may use it).
      if (id < TokenId(spec_.tokens.size())) spec_.tokens[id].reset();
      spec_.special_tokens.push_back({content.get<std::string>(), id});
    }
  }

  void read_unknown_and_fallback(const nlohmann::json& model) {
    spec_.fuse_unk = optional_flag(model, "fuse_unk", "model.fuse_unk", false);
    spec_.unk = optional_string(model, "unk_token", "model.unk_token", "");
    if (!spec_.unk.empty() && !has_special(spec_.unk)) {
      // The unknown token in the vocabulary only: it becomes special (it never merges).
      const TokenId id = vocabulary_id(spec_.unk, "model.unk_token");
      spec_.tokens[id].reset();
      spec_.special_tokens.push_back({spec_.unk, id});
    }
    if (!optional_flag(model, "byte_fallback", "model.byte_fallback", false)) return;
    for (int byte = 0; byte < 256; ++byte) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", byte);
      spec_.byte_fallback.push_back(vocabulary_id(name, "model.byte_fallback"));
    }
  }

  bool has_special(std::string_view text) const {
    for (const SpecialToken& special : spec_.special_tokens)
      if (special.text == text) return true;
    return false;
  }

  // A role's token from tokenizer_config.json: a string or {"content": ...}; "" when absent.
  std::string config_role(const char* key) const {
    if (config_ == nullptr || !config_->is_object() || !config_->contains(key)) return "";
    const nlohmann::json& value = (*config_)[key];
    if (value.is_null()) return "";
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
      return value["content"].get<std::string>();
    fail("tokenizer_config.json: field '", key, "': expected a string or {\"content\": ...}, ",
         "found ", describe_json(value));
  }

  void read_roles() {
    struct Role {
      const char* key;
      std::string* text;
      std::vector<std::string_view> usual;
    };
    const Role roles[] = {
        {"bos_token", &spec_.bos, {"<s>", "<|begin_of_text|>", "<bos>", "<|endoftext|>"}},
        {"eos_token", &spec_.eos, {"</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>"}},
        {"pad_token", &spec_.pad, {"<pad>", "<|pad|>"}}};
    for (const Role& role : roles) {
      if (config_ != nullptr) {
        const std::string text = config_role(role.key);
        if (!text.empty() && !has_special(text))
          fail("tokenizer_config.json: field '", role.key, "' is '", text,
               "', which is not an added token of ", source_);
        *role.text = text;
        continue;
      }
      for (std::string_view name : role.usual)
        if (has_special(name)) {
          *role.text = std::string(name);
          break;
        }
    }
  }

  const nlohmann::json& json_;
  const nlohmann::json* config_;
  std::string_view source_;
  BpeSpec spec_;
  std::optional<SpaceMarker> metaspace_;
  std::unordered_map<std::string, TokenId> id_by_text_;
  std::unordered_map<TokenId, std::string> text_by_id_;
};

}  // namespace detail

// Whether parsed JSON looks like a Hugging Face tokenizer.json (it has a "model" object).
inline bool is_hf_tokenizer_json(const nlohmann::json& json) {
  return json.is_object() && json.contains("model") && json["model"].is_object();
}

// A BpeTokenizer from a parsed Hugging Face tokenizer.json and, if given, its
// tokenizer_config.json (for the BOS / EOS / PAD roles). `source` prefixes every error.
inline BpeTokenizer tokenizer_from_hf_json(const nlohmann::json& json,
                                           const nlohmann::json* tokenizer_config = nullptr,
                                           std::string_view source = "tokenizer.json") {
  BpeSpec spec;
  try {
    spec = detail::HfTokenizerReader(json, tokenizer_config, source).read();
  } catch (const nlohmann::json::exception& error) {  // a value of an unexpected type
    detail::fail(source, ": ", error.what());
  }
  try {
    return BpeTokenizer(std::move(spec));
  } catch (const Error& error) {
    detail::fail(source, ": ", error.what());
  }
}

}  // namespace tlcr
