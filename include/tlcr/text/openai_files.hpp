// tlcr/text/openai_files.hpp — load OpenAI's published tokenizer files into a BpeTokenizer.
//
//   GPT-2   vocab.json (= encoder.json): {"<printable token>": id, ...} in GPT-2's byte alphabet
//           merges.txt (= vocab.bpe): "#version: 0.2", then one merge "left right" per line,
//           best first. Pre-tokenizer gpt2, merge_list ranking; <|endoftext|> (50256) is special.
//   tiktoken *.tiktoken: one "<base64 token bytes> <rank>" per line; the rank is the id.
//           Pre-tokenizer and special tokens are not in the file: load_tiktoken(path, name)
//           knows them for r50k_base, p50k_base, p50k_edit and cl100k_base (token_rank ranking).
//
// Encodings match OpenAI's tokenizers id for id. Every format error names the file and line.
// Not here: our own JSON format (tokenizer_json.hpp).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
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

inline std::string read_whole_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) fail(what, ": cannot open '", path.string(), "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Calls visit(line_number, line) for each line (numbered from 1), without "\n" or a final "\r".
template <class Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    visit(++line_number, line);
    start = end + 1;
  }
}

// Standard base64 (RFC 4648, '=' padding); nothing when `text` is not well-formed.
inline std::optional<std::string> decode_base64(std::string_view text) {
  const auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  std::string out;
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    const int value = value_of(text[i]);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | std::uint32_t(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += char((bits >> bit_count) & 0xFF);
    }
  }
  return out;
}

}  // namespace detail

// GPT-2's vocab.json + merges.txt, given as their text; the names prefix every error. Keys of
// vocab.json listed in special_tokens are special (not in the byte alphabet); the first one, if
// any, is also BOS and EOS, as in GPT-2.
inline BpeTokenizer gpt2_tokenizer_from_text(
    std::string_view vocab_json_text, std::string_view merges_text, const std::string& vocab_name,
    const std::string& merges_name,
    const std::vector<std::string>& special_tokens = {"<|endoftext|>"}) {
  using detail::fail;
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(vocab_json_text);
  } catch (const nlohmann::json::exception& error) {  // malformed, or a number such as 1e999
    fail(vocab_name, ": not valid JSON: ", error.what());
  }
  if (!vocab.is_object())
    fail(vocab_name, ": expected an object {token: id}, found ", vocab.type_name());

  BpeSpec spec;
  spec.pretokenizer = Pretokenizer::gpt2;
  spec.ranking = MergeRanking::merge_list;
  std::unordered_map<std::string, TokenId> id_by_bytes;
  std::unordered_map<TokenId, std::string> key_by_id;  // to name both keys when an id repeats
  key_by_id.reserve(vocab.size());
  id_by_bytes.reserve(vocab.size());
  for (const auto& [key, value] : vocab.items()) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
        value.get<std::int64_t>() > kMaxTokenId)
      fail(vocab_name, ": token '", key, "': expected an integer id in [0, ", kMaxTokenId,
           "], found ", describe_json(value));
    const TokenId id = TokenId(value.get<std::int64_t>());
    if (const auto [it, inserted] = key_by_id.emplace(id, key); !inserted)
      fail(vocab_name, ": tokens '", it->second, "' and '", key, "' share id ", id);
    if (std::find(special_tokens.begin(), special_tokens.end(), key) != special_tokens.end()) {
      spec.special_tokens.push_back({key, id});
      continue;
    }
    std::optional<std::string> bytes = printable_to_bytes(key);
    if (!bytes)
      fail(vocab_name, ": token '", key, "' (id ", id,
           ") has a character outside GPT-2's printable byte alphabet");
    if (TokenId(spec.tokens.size()) <= id) spec.tokens.resize(id + 1);
    id_by_bytes.emplace(*bytes, id);
    spec.tokens[id] = std::move(bytes);
  }
  if (!spec.special_tokens.empty()) spec.bos = spec.eos = spec.special_tokens.front().text;

  std::unordered_set<std::uint64_t> seen;  // pair_key of every merge so far
  detail::for_each_line(merges_text, [&](std::size_t line_number, std::string_view line) {
    if (line.empty() || (line_number == 1 && line.starts_with("#version"))) return;
    const std::size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos)
      fail(merges_name, ":", line_number, ": expected two tokens separated by one space, found '",
           line, "'");
    TokenId ids[2];
    std::string joined;
    const std::string_view parts[2] = {line.substr(0, space), line.substr(space + 1)};
    for (int side = 0; side < 2; ++side) {
      const std::optional<std::string> bytes = printable_to_bytes(parts[side]);
      const auto it = bytes ? id_by_bytes.find(*bytes) : id_by_bytes.end();
      if (it == id_by_bytes.end())
        fail(merges_name, ":", line_number, ": '", parts[side], "' is not a token of ", vocab_name);
      ids[side] = it->second;
      joined += *bytes;
    }
    if (!id_by_bytes.count(joined))
      fail(merges_name, ":", line_number, ": merging '", parts[0], "' and '", parts[1], "' makes '",
           bytes_to_printable(joined), "', which is not a token of ", vocab_name);
    if (!seen.insert(detail::pair_key(ids[0], ids[1])).second)
      fail(merges_name, ":", line_number, ": merge '", line, "' appears twice");
    spec.merges.emplace_back(ids[0], ids[1]);
  });

  try {
    return BpeTokenizer(std::move(spec));
  } catch (const Error& error) {
    fail(vocab_name, " + ", merges_name, ": ", error.what());
  }
}

// The same, from the files.
inline BpeTokenizer load_gpt2_tokenizer(const std::filesystem::path& vocab_json_path,
                                        const std::filesystem::path& merges_txt_path,
                                        const std::vector<std::string>& special_tokens = {
                                            "<|endoftext|>"}) {
  return gpt2_tokenizer_from_text(detail::read_whole_file(vocab_json_path, "load_gpt2_tokenizer"),
                                  detail::read_whole_file(merges_txt_path, "load_gpt2_tokenizer"),
                                  vocab_json_path.string(), merges_txt_path.string(),
                                  special_tokens);
}

// The text of a *.tiktoken rank file (`name` prefixes every error), with an explicitly given
// pre-tokenizer and special tokens.
inline BpeTokenizer tiktoken_from_text(std::string_view text, const std::string& name,
                                       Pretokenizer pretokenizer,
                                       std::vector<SpecialToken> special_tokens,
                                       const std::string& eos = "") {
  using detail::fail;
  TLCR_CHECK(pretokenizer != Pretokenizer::none, name,
             ": tiktoken encodings split with the gpt2 or cl100k pre-tokenizer");
  BpeSpec spec;
  spec.pretokenizer = pretokenizer;
  spec.ranking = MergeRanking::token_rank;
  std::unordered_map<std::string, std::size_t> line_of_token;
  detail::for_each_line(text, [&](std::size_t line_number, std::string_view line) {
    if (line.empty()) return;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos)
      fail(name, ":", line_number, ": expected '<base64 token> <rank>', found '", line, "'");
    const std::string_view encoded = line.substr(0, space), rank_text = line.substr(space + 1);
    std::optional<std::string> bytes = detail::decode_base64(encoded);
    if (!bytes || bytes->empty())
      fail(name, ":", line_number, ": '", encoded, "' is not valid base64 token bytes");
    TokenId rank = -1;
    const auto [end, error] =
        std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (error != std::errc() || end != rank_text.data() + rank_text.size() || rank < 0 ||
        rank > kMaxTokenId)
      fail(name, ":", line_number, ": rank '", rank_text, "' is not an integer in [0, ",
           kMaxTokenId, "]");
    if (const auto [it, inserted] = line_of_token.emplace(*bytes, line_number); !inserted)
      fail(name, ":", line_number, ": token '", encoded, "' already appeared on line ", it->second);
    if (TokenId(spec.tokens.size()) <= rank) spec.tokens.resize(rank + 1);
    if (spec.tokens[rank]) fail(name, ":", line_number, ": rank ", rank, " appears twice");
    spec.tokens[rank] = std::move(bytes);
  });
  spec.special_tokens = std::move(special_tokens);
  spec.bos = spec.eos = eos;
  try {
    return BpeTokenizer(std::move(spec));
  } catch (const Error& error) {
    fail(name, ": ", error.what());
  }
}

// A *.tiktoken rank file with an explicitly given pre-tokenizer and special tokens.
inline BpeTokenizer load_tiktoken(const std::filesystem::path& path, Pretokenizer pretokenizer,
                                  std::vector<SpecialToken> special_tokens,
                                  const std::string& eos = "") {
  return tiktoken_from_text(detail::read_whole_file(path, "load_tiktoken"), path.string(),
                            pretokenizer, std::move(special_tokens), eos);
}

// A *.tiktoken file of one of OpenAI's named encodings: r50k_base (GPT-2/GPT-3), p50k_base,
// p50k_edit (Codex), cl100k_base (GPT-3.5/GPT-4). <|endoftext|> is BOS and EOS.
inline BpeTokenizer load_tiktoken(const std::filesystem::path& path, std::string_view encoding) {
  const std::string end_of_text = "<|endoftext|>";
  if (encoding == "r50k_base" || encoding == "p50k_base")
    return load_tiktoken(path, Pretokenizer::gpt2, {{end_of_text, 50256}}, end_of_text);
  if (encoding == "p50k_edit")
    return load_tiktoken(path, Pretokenizer::gpt2,
                         {{end_of_text, 50256},
                          {"<|fim_prefix|>", 50281},
                          {"<|fim_middle|>", 50282},
                          {"<|fim_suffix|>", 50283}},
                         end_of_text);
  if (encoding == "cl100k_base")
    return load_tiktoken(path, Pretokenizer::cl100k,
                         {{end_of_text, 100257},
                          {"<|fim_prefix|>", 100258},
                          {"<|fim_middle|>", 100259},
                          {"<|fim_suffix|>", 100260},
                          {"<|endofprompt|>", 100276}},
                         end_of_text);
  detail::fail("load_tiktoken: unknown encoding '", encoding,
               "' (known: r50k_base, p50k_base, p50k_edit, cl100k_base)");
}

}  // namespace tlcr
