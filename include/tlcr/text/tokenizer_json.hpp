// tlcr/text/tokenizer_json.hpp — a BpeTokenizer as one JSON document (our format), both ways.
//
//   {
//     "format": "tlcr-bpe", "version": 1,
//     "pretokenizer": "gpt2",                 // or "cl100k"
//     "merge_ranking": "merge_list",          // or "token_rank" (tiktoken's rule; no merges)
//     "tokens": ["!", "\"", ..., "Ġthe", null, ...],   // index = id; GPT-2's printable bytes
//     "merges": [[71, 80], ...],              // (left id, right id), best first
//     "special_tokens": [{"text": "<|bos|>", "id": 4093}, ...],
//     "bos": "<|bos|>", "eos": "<|eos|>", "pad": "<|pad|>"   // "" = no such role
//   }
//
// Version 2 adds, for tokenizers read from Hugging Face files (bpe.hpp explains each):
//     "units": "characters", "whole_pieces_first": true, "byte_fallback": [3, 4, ...],
//     "unk": "<unk>", "fuse_unk": true, "space_marker": "every_segment"
// A tokenizer that needs none of them is written as version 1, so older readers still read it.
//
// Token bytes are spelled in GPT-2's printable byte alphabet (byte_alphabet.hpp), so the file is
// valid UTF-8 whatever the bytes; null marks an id that is special or unused. Tokens and merges
// are written one per line. Reading names the source and the field of any problem.
// Not here: the file on disk (io/tokenizer_file.hpp: save_tokenizer, load_tokenizer), GPT-2 /
// tiktoken files (openai_files.hpp).
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/text/bpe.hpp"
#include "tlcr/text/byte_alphabet.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

inline constexpr int kTokenizerFileVersion = 2;

namespace detail {
// Whether the spec uses a setting that version 1 of the format cannot express.
inline bool needs_version_2(const BpeSpec& spec) {
  return spec.units != BpeUnits::bytes || spec.whole_pieces_first || !spec.byte_fallback.empty() ||
         !spec.unk.empty() || spec.space_marker != SpaceMarker::none;
}
}  // namespace detail

// The JSON text of a tokenizer, tokens and merges one per line.
inline std::string tokenizer_to_json_text(const BpeTokenizer& tokenizer) {
  const BpeSpec& spec = tokenizer.spec();
  const auto quoted = [](std::string_view text) { return nlohmann::json(text).dump(); };
  std::ostringstream out;
  const bool version_2 = detail::needs_version_2(spec);
  out << "{\n  \"format\": \"tlcr-bpe\",\n  \"version\": " << (version_2 ? 2 : 1) << ",\n";
  out << "  \"pretokenizer\": " << quoted(pretokenizer_name(spec.pretokenizer)) << ",\n";
  out << "  \"merge_ranking\": " << quoted(merge_ranking_name(spec.ranking)) << ",\n";
  out << "  \"tokens\": [";
  for (std::size_t id = 0; id < spec.tokens.size(); ++id) {
    out << (id == 0 ? "\n    " : ",\n    ");
    out << (spec.tokens[id] ? quoted(bytes_to_printable(*spec.tokens[id])) : "null");
  }
  out << "\n  ],\n  \"merges\": [";
  for (std::size_t rank = 0; rank < spec.merges.size(); ++rank) {
    out << (rank == 0 ? "\n    [" : ",\n    [") << spec.merges[rank].first << ", "
        << spec.merges[rank].second << "]";
  }
  out << "\n  ],\n  \"special_tokens\": [";
  for (std::size_t i = 0; i < spec.special_tokens.size(); ++i) {
    out << (i == 0 ? "\n    " : ",\n    ") << "{\"text\": " << quoted(spec.special_tokens[i].text)
        << ", \"id\": " << spec.special_tokens[i].id << "}";
  }
  out << "\n  ],\n";
  out << "  \"bos\": " << quoted(spec.bos) << ",\n";
  out << "  \"eos\": " << quoted(spec.eos) << ",\n";
  out << "  \"pad\": " << quoted(spec.pad);
  if (version_2) {
    out << ",\n  \"units\": " << quoted(bpe_units_name(spec.units));
    out << ",\n  \"whole_pieces_first\": " << (spec.whole_pieces_first ? "true" : "false");
    out << ",\n  \"byte_fallback\": " << nlohmann::json(spec.byte_fallback).dump();
    out << ",\n  \"unk\": " << quoted(spec.unk);
    out << ",\n  \"fuse_unk\": " << (spec.fuse_unk ? "true" : "false");
    out << ",\n  \"space_marker\": " << quoted(space_marker_name(spec.space_marker));
  }
  out << "\n}\n";
  return out.str();
}

namespace detail {

// json[key], or an error naming the source and the missing field.
inline const nlohmann::json& required_field(const nlohmann::json& object, const char* key,
                                            std::string_view source) {
  if (!object.is_object()) fail(source, ": expected a JSON object, found ", object.type_name());
  const auto it = object.find(key);
  if (it == object.end()) fail(source, ": missing field '", key, "'");
  return *it;
}

inline std::string string_field(const nlohmann::json& object, const char* key,
                                std::string_view source) {
  const nlohmann::json& value = required_field(object, key, source);
  if (!value.is_string())
    fail(source, ": field '", key, "': expected a string, found ", value.type_name());
  return value.get<std::string>();
}

inline TokenId id_value(const nlohmann::json& value, std::string_view source,
                        std::string_view where) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
      value.get<std::int64_t>() > kMaxTokenId)
    fail(source, ": ", where, ": expected a token id in [0, ", kMaxTokenId, "], found ",
         describe_json(value));
  return TokenId(value.get<std::int64_t>());
}

}  // namespace detail

// Builds a tokenizer from parsed JSON; `source` (a file name) prefixes every error.
inline BpeTokenizer tokenizer_from_json(const nlohmann::json& json,
                                        std::string_view source = "tokenizer JSON") {
  using detail::fail;
  const std::string format = detail::string_field(json, "format", source);
  if (format != "tlcr-bpe") fail(source, ": field 'format' is '", format, "', expected 'tlcr-bpe'");
  const nlohmann::json& version = detail::required_field(json, "version", source);
  if (version != 1 && version != 2)
    fail(source, ": field 'version' is ", describe_json(version),
         ", this build reads versions 1 to ", kTokenizerFileVersion);

  BpeSpec spec;
  try {
    spec.pretokenizer = pretokenizer_from_name(detail::string_field(json, "pretokenizer", source));
    spec.ranking = merge_ranking_from_name(detail::string_field(json, "merge_ranking", source));
  } catch (const Error& error) {
    fail(source, ": ", error.what());
  }

  const nlohmann::json& tokens = detail::required_field(json, "tokens", source);
  if (!tokens.is_array()) fail(source, ": field 'tokens': expected an array");
  spec.tokens.reserve(tokens.size());
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    const nlohmann::json& token = tokens[id];
    if (token.is_null()) {
      spec.tokens.emplace_back();
      continue;
    }
    if (!token.is_string())
      fail(source, ": tokens[", id, "]: expected a string or null, found ", token.type_name());
    std::optional<std::string> bytes = printable_to_bytes(token.get<std::string>());
    if (!bytes)
      fail(source, ": tokens[", id, "]: '", token.get<std::string>(),
           "' has a character outside GPT-2's printable byte alphabet");
    spec.tokens.push_back(std::move(bytes));
  }

  const nlohmann::json& merges = detail::required_field(json, "merges", source);
  if (!merges.is_array()) fail(source, ": field 'merges': expected an array");
  spec.merges.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const nlohmann::json& merge = merges[rank];
    const std::string where = "merges[" + std::to_string(rank) + "]";
    if (!merge.is_array() || merge.size() != 2)
      fail(source, ": ", where, ": expected [left id, right id], found ", describe_json(merge));
    spec.merges.emplace_back(detail::id_value(merge[0], source, where),
                             detail::id_value(merge[1], source, where));
  }

  const nlohmann::json& specials = detail::required_field(json, "special_tokens", source);
  if (!specials.is_array()) fail(source, ": field 'special_tokens': expected an array");
  for (std::size_t i = 0; i < specials.size(); ++i) {
    const std::string where = std::string(source) + ": special_tokens[" + std::to_string(i) + "]";
    std::string text = detail::string_field(specials[i], "text", where);
    const TokenId id =
        detail::id_value(detail::required_field(specials[i], "id", where), where, "field 'id'");
    spec.special_tokens.push_back({std::move(text), id});
  }
  spec.bos = detail::string_field(json, "bos", source);
  spec.eos = detail::string_field(json, "eos", source);
  spec.pad = detail::string_field(json, "pad", source);
  if (version == 2) {
    try {
      spec.units = bpe_units_from_name(detail::string_field(json, "units", source));
      spec.space_marker =
          space_marker_from_name(detail::string_field(json, "space_marker", source));
    } catch (const Error& error) {
      fail(source, ": ", error.what());
    }
    for (const char* key : {"whole_pieces_first", "fuse_unk"})
      if (!detail::required_field(json, key, source).is_boolean())
        fail(source, ": field '", key, "': expected true or false, found ",
             describe_json(json[key]));
    spec.whole_pieces_first = json["whole_pieces_first"].get<bool>();
    spec.fuse_unk = json["fuse_unk"].get<bool>();
    spec.unk = detail::string_field(json, "unk", source);
    const nlohmann::json& fallback = detail::required_field(json, "byte_fallback", source);
    if (!fallback.is_array()) fail(source, ": field 'byte_fallback': expected an array of ids");
    for (std::size_t i = 0; i < fallback.size(); ++i)
      spec.byte_fallback.push_back(
          detail::id_value(fallback[i], source, "byte_fallback[" + std::to_string(i) + "]"));
  }

  try {
    return BpeTokenizer(std::move(spec));
  } catch (const Error& error) {
    fail(source, ": ", error.what());
  }
}

}  // namespace tlcr
