// examples/tlcr/cmd_text.cpp — `tlcr tokenizer train` and `tlcr tokenizer encode`.
// encode reads every tokenizer open_tokenizer knows (io/tokenizer_file.hpp): tlcr's and Hugging
// Face's tokenizer.json, GPT-2's files, *.tiktoken rank files, and directories holding them.
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

struct EncodeArgs {
  fs::path tokenizer;
  std::string pretokenizer;
  std::optional<std::string> text;
};

void run_encode(const EncodeArgs& a) {
  const BpeTokenizer tokenizer =
      a.pretokenizer.empty() ? open_tokenizer(a.tokenizer)
                             : open_tokenizer(a.tokenizer, pretokenizer_from_name(a.pretokenizer));
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
    c->add_option("--tokenizer", a.tokenizer, "a tokenizer.json (tlcr or Hugging Face), GPT-2 files, a .tiktoken file, or a directory with one")->required()->check(CLI::ExistingPath);
    c->add_option("--pretokenizer", a.pretokenizer, "gpt2 or cl100k (for a .tiktoken file whose name is not a known encoding)")->check(CLI::IsMember({"gpt2", "cl100k"}));
    c->add_option("--text", a.text, "text to encode (default: stdin)");
    c->callback([] { run_encode(a); });
  }
}

}  // namespace tlcr::cli
