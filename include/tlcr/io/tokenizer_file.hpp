// tlcr/io/tokenizer_file.hpp — a BpeTokenizer on disk: tokenizer.json in our format.
//
// save_tokenizer writes the JSON of text/tokenizer_json.hpp atomically (atomic_file.hpp);
// load_tokenizer reads it back, naming the file and the field of any problem. find_tokenizer is
// the rule every command uses to locate one: an explicit file or directory, else the one stored in
// a model directory.
// Not here: the format itself (text/tokenizer_json.hpp), GPT-2 / tiktoken files
// (text/openai_files.hpp), saving a model with its tokenizer (model_dir.hpp).
#pragma once

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/text/tokenizer_json.hpp"

namespace tlcr {

inline void save_tokenizer(const BpeTokenizer& tokenizer, const std::filesystem::path& path) {
  write_file_atomically(path, tokenizer_to_json_text(tokenizer));
}

inline BpeTokenizer load_tokenizer(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TLCR_CHECK(in.good(), "load_tokenizer: cannot open '", path.string(), "'");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {  // malformed, or a number such as 1e999
    detail::fail(path.string(), ": not valid JSON: ", error.what());
  }
  return tokenizer_from_json(json, path.string());
}

// The tokenizer at `path` (a tokenizer.json file, or a directory holding one); when `path` is
// empty, <model_dir>/tokenizer.json.
inline BpeTokenizer find_tokenizer(const std::filesystem::path& path,
                                   const std::filesystem::path& model_dir = {}) {
  std::filesystem::path file = path.empty() ? model_dir / "tokenizer.json" : path;
  if (std::filesystem::is_directory(file)) file /= "tokenizer.json";
  TLCR_CHECK(std::filesystem::exists(file), "tokenizer '", file.string(),
             "' not found (pass --tokenizer)");
  return load_tokenizer(file);
}

}  // namespace tlcr
