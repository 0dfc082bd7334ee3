// tlcr/io/tokenizer_file.hpp — tokenizers on disk: the one opener every command uses.
//
// open_tokenizer reads every tokenizer format tlcr knows, from a file or a directory:
//   a directory   tokenizer.json (ours, or Hugging Face's with tokenizer_config.json beside it),
//                 else vocab.json + merges.txt, else encoder.json + vocab.bpe (GPT-2),
//                 else its one *.tiktoken file
//   a file        *.tiktoken: the encoding named by the file (cl100k_base.tiktoken, ...);
//                 vocab.json / encoder.json: GPT-2's, with merges.txt / vocab.bpe beside it;
//                 any other file: a tokenizer.json, ours or Hugging Face's, told apart by content
// find_tokenizer is the rule of the model commands: --tokenizer if given, else the model
// directory. save_tokenizer writes our format atomically (atomic_file.hpp); load_tokenizer reads
// only it. Every error names the file and the field.
// Not here: the formats themselves (text/tokenizer_json.hpp, text/hf_tokenizer_json.hpp,
// text/openai_files.hpp), saving a model with its tokenizer (model_dir.hpp).
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/text/hf_tokenizer_json.hpp"
#include "tlcr/text/openai_files.hpp"
#include "tlcr/text/tokenizer_json.hpp"

namespace tlcr {

inline void save_tokenizer(const BpeTokenizer& tokenizer, const std::filesystem::path& path) {
  write_file_atomically(path, tokenizer_to_json_text(tokenizer));
}

namespace detail {
inline nlohmann::json read_tokenizer_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TLCR_CHECK(in.good(), "cannot open tokenizer file '", path.string(), "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {  // malformed, or a number such as 1e999
    fail(path.string(), ": not valid JSON: ", error.what());
  }
}

// A tokenizer.json of either kind; Hugging Face's reads tokenizer_config.json beside it.
inline BpeTokenizer open_tokenizer_json(const std::filesystem::path& path) {
  const nlohmann::json json = read_tokenizer_json(path);
  if (!is_hf_tokenizer_json(json)) return tokenizer_from_json(json, path.string());
  const std::filesystem::path config_path = path.parent_path() / "tokenizer_config.json";
  if (!std::filesystem::exists(config_path))
    return tokenizer_from_hf_json(json, nullptr, path.string());
  const nlohmann::json config = read_tokenizer_json(config_path);
  return tokenizer_from_hf_json(json, &config, path.string());
}

// A *.tiktoken file: the encoding its name gives, else the given pre-tokenizer without specials.
inline BpeTokenizer open_tiktoken(const std::filesystem::path& path,
                                  std::optional<Pretokenizer> pretokenizer) {
  const std::string encoding = path.stem().string();
  for (const char* known : {"r50k_base", "p50k_base", "p50k_edit", "cl100k_base"})
    if (encoding == known) return load_tiktoken(path, encoding);
  if (!pretokenizer)
    fail(path.string(), ": '", encoding, "' is not an encoding this build knows (r50k_base, ",
         "p50k_base, p50k_edit, cl100k_base); name its pre-tokenizer (--pretokenizer)");
  return load_tiktoken(path, *pretokenizer, {});
}
}  // namespace detail

// Our tokenizer.json format only.
inline BpeTokenizer load_tokenizer(const std::filesystem::path& path) {
  return tokenizer_from_json(detail::read_tokenizer_json(path), path.string());
}

// Any tokenizer file or directory (see the file comment). `tiktoken_pretokenizer` serves a
// *.tiktoken file whose name is not a known encoding.
inline BpeTokenizer open_tokenizer(const std::filesystem::path& path,
                                   std::optional<Pretokenizer> tiktoken_pretokenizer = {}) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "tokenizer.json"))
      return detail::open_tokenizer_json(path / "tokenizer.json");
    if (fs::exists(path / "vocab.json") && fs::exists(path / "merges.txt"))
      return load_gpt2_tokenizer(path / "vocab.json", path / "merges.txt");
    if (fs::exists(path / "encoder.json") && fs::exists(path / "vocab.bpe"))
      return load_gpt2_tokenizer(path / "encoder.json", path / "vocab.bpe");
    std::vector<fs::path> rank_files;
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.path().extension() == ".tiktoken") rank_files.push_back(entry.path());
    if (rank_files.size() == 1) return detail::open_tiktoken(rank_files[0], tiktoken_pretokenizer);
    detail::fail("no tokenizer in '", path.string(), "': expected tokenizer.json, vocab.json + ",
                 "merges.txt, encoder.json + vocab.bpe, or one *.tiktoken file",
                 rank_files.size() > 1 ? " (found several *.tiktoken files)" : "");
  }
  TLCR_CHECK(fs::exists(path), "tokenizer '", path.string(), "' not found");
  if (path.extension() == ".tiktoken") return detail::open_tiktoken(path, tiktoken_pretokenizer);
  const fs::path dir = path.parent_path();
  if (path.filename() == "vocab.json") return load_gpt2_tokenizer(path, dir / "merges.txt");
  if (path.filename() == "encoder.json") return load_gpt2_tokenizer(path, dir / "vocab.bpe");
  return detail::open_tokenizer_json(path);
}

// The tokenizer at `path` (any file or directory open_tokenizer reads); when `path` is empty,
// the one in `model_dir`.
inline BpeTokenizer find_tokenizer(const std::filesystem::path& path,
                                   const std::filesystem::path& model_dir = {}) {
  const std::filesystem::path where = path.empty() ? model_dir : path;
  TLCR_CHECK(std::filesystem::exists(where), "tokenizer '", where.string(),
             "' not found (pass --tokenizer)");
  return open_tokenizer(where);
}

}  // namespace tlcr
