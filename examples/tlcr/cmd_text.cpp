// examples/tlcr/cmd_text.cpp — `tlcr tokenizer train` and `tlcr tokenizer encode`.
// encode reads tlcr's own tokenizer.json, a directory of GPT-2 files (vocab.json + merges.txt,
// or encoder.json + vocab.bpe), or a *.tiktoken rank file.
#include <iostream>
#include <iterator>

#include <tlcr/text/bpe_train.hpp>
#include <tlcr/text/openai_files.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

struct TrainArgs {
  std::vector<std::string> corpus;
  BpeTrainOptions options;
  std::string pretokenizer = "gpt2";
  fs::path out;
};

void run_train(TrainArgs& a) {
  a.options.pretokenizer = pretokenizer_from_name(a.pretokenizer);
  BpeTrainer trainer(a.options);
  for (const auto& file : a.corpus) trainer.add_file(file);
  const BpeTokenizer tokenizer = trainer.train();
  save_tokenizer(tokenizer, a.out);
  std::printf("tokenizer: %d tokens -> %s\n", tokenizer.vocab_size(), a.out.string().c_str());
}

// Any supported tokenizer file or directory.
BpeTokenizer open_any_tokenizer(const fs::path& path, const std::string& pretokenizer) {
  if (fs::is_directory(path)) {
    if (fs::exists(path / "vocab.json") && fs::exists(path / "merges.txt"))
      return load_gpt2_tokenizer(path / "vocab.json", path / "merges.txt");
    if (fs::exists(path / "encoder.json") && fs::exists(path / "vocab.bpe"))
      return load_gpt2_tokenizer(path / "encoder.json", path / "vocab.bpe");
    return find_tokenizer(path);
  }
  if (path.extension() == ".tiktoken")
    return load_tiktoken(path, pretokenizer_from_name(pretokenizer.empty() ? "cl100k" : pretokenizer), {});
  return find_tokenizer(path);
}

struct EncodeArgs {
  fs::path tokenizer;
  std::string pretokenizer;
  std::optional<std::string> text;
};

void run_encode(const EncodeArgs& a) {
  const BpeTokenizer tokenizer = open_any_tokenizer(a.tokenizer, a.pretokenizer);
  const std::string text = a.text ? *a.text : std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::printf("%s\n", nlohmann::json(tokenizer.encode(text)).dump().c_str());
}

}  // namespace

void add_text_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("tokenizer", "Train a byte-level BPE tokenizer or encode text");
  group->require_subcommand(1);
  {
    static TrainArgs a;
    CLI::App* c = group->add_subcommand("train", "Train byte-level BPE on text files");
    c->add_option("--corpus", a.corpus, "text files")->required()->check(CLI::ExistingFile);
    c->add_option("--vocab-size", a.options.vocab_size, "final vocabulary size (bytes + merges + specials)");
    c->add_option("--pretokenizer", a.pretokenizer, "gpt2 or cl100k")->check(CLI::IsMember({"gpt2", "cl100k"}));
    c->add_option("--out", a.out, "tokenizer.json to write")->required();
    c->callback([] { run_train(a); });
  }
  {
    static EncodeArgs a;
    CLI::App* c = group->add_subcommand("encode", "Print the token ids of --text (or stdin) as a JSON array");
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json, a GPT-2 directory, or a .tiktoken file")->required()->check(CLI::ExistingPath);
    c->add_option("--pretokenizer", a.pretokenizer, "gpt2 or cl100k (for .tiktoken files)")->check(CLI::IsMember({"gpt2", "cl100k"}));
    c->add_option("--text", a.text, "text to encode (default: stdin)");
    c->callback([] { run_encode(a); });
  }
}

}  // namespace tlcr::cli
