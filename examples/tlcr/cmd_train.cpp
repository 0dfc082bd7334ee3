// examples/tlcr/cmd_train.cpp — `tlcr pretrain`, `tlcr sft`, `tlcr generate`, `tlcr logprobs`.
// Each writes a Hugging Face-style model directory (config.json, model.safetensors,
// tokenizer.json) or JSONL, through the library's trainers and sampler.
#include <fstream>
#include <iostream>

#include <tlcr/rlhf/token_reward.hpp>
#include <tlcr/train/sft_data.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

// Every line of every corpus file, tokenized, each followed by EOS: one long stream.
std::vector<int32_t> corpus_stream(const std::vector<std::string>& files,
                                   const BpeTokenizer& tokenizer) {
  std::vector<int32_t> stream;
  for (const auto& file : files) {
    std::ifstream in(file);
    TLCR_CHECK(in.good(), "cannot open corpus file '", file, "'");
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto ids = tokenizer.encode(line);
      stream.insert(stream.end(), ids.begin(), ids.end());
      if (tokenizer.has_eos()) stream.push_back(tokenizer.eos_id());
    }
  }
  return stream;
}

struct PretrainArgs {
  std::vector<std::string> corpus;
  fs::path tokenizer, out;
  ModelSizeOptions size;
  LmTrainOptions train{.label = "pretrain"};
  int64_t batch = 16;
  uint64_t seed = 0;
  std::string device = "cpu";
};

template <class D>
void run_pretrain_on(const PretrainArgs& a) {
  check_writable_directory(a.out, "--out");  // now, not after training
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer);
  std::vector<int32_t> stream = corpus_stream(a.corpus, tokenizer);
  // The last 5% of the stream, at least one window of context + 1 tokens, is held out for the eval
  // loss; what remains must hold a training window too.
  TLCR_CHECK(a.size.context > 0, "pretrain: --context must be positive, got ", a.size.context);
  const std::size_t window = static_cast<std::size_t>(a.size.context) + 1;
  TLCR_CHECK(stream.size() >= 2 * window, "pretrain: the corpus holds ", stream.size(),
             " tokens; it needs at least ", 2 * window,
             " (a training and a held-out window of --context + 1 = ", window, " tokens each)");
  const std::size_t split = stream.size() - std::max(stream.size() / 20, window);
  std::vector<int32_t> held_out(stream.begin() + split, stream.end());
  stream.resize(split);
  LmBatcher batcher(stream, a.batch, a.size.context, a.seed);
  LmBatcher eval_batcher(held_out, std::min<int64_t>(a.batch, 8), a.size.context, a.seed + 1);
  const std::vector<TokenBatch> eval{eval_batcher.next()};
  TransformerConfig config = a.size.config(tokenizer.vocab_size());
  config.bos_token = tokenizer.bos_id(), config.eos_token = tokenizer.eos_id(),
  config.pad_token = tokenizer.pad_id();
  LmTrainOptions options = a.train;
  options.settings = {{"batch", a.batch}, {"seed", a.seed}, {"context", a.size.context}};
  options.dropout_seed = a.seed;
  if (options.checkpoint_dir.empty()) options.checkpoint_dir = a.out / "checkpoint";
  auto train = [&](auto model) {
    with_communicator([&](const auto& comm) {
      const LmTrainReport report = train_language_model(model, batcher, eval, options, comm);
      if (comm.rank() != 0) return;  // rank 0 writes
      save_model(a.out, model, tokenizer);
      std::printf("pretrain: %lld steps, final loss %.4f, eval loss %.4f, %.0f tokens/s -> %s\n",
                  static_cast<long long>(report.steps), report.last_loss, report.eval_loss,
                  report.tokens_per_second, a.out.string().c_str());
    });
  };
  if (config.architecture == Architecture::Llama)
    train(Transformer<float, LlamaArch, D>(config, {}, a.seed));
  else
    train(Transformer<float, Gpt2Arch, D>(config, {}, a.seed));
}

void run_pretrain(const PretrainArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_pretrain_on<D>(a); });
}

struct SftArgs {
  fs::path model, data, tokenizer, out;
  LmTrainOptions train{.lr = 3e-4, .min_lr = 3e-5, .label = "sft"};
  int64_t batch = 16;
  uint64_t seed = 0;
  std::string device = "cpu";
};

template <class D>
void run_sft_on(const SftArgs& a) {
  check_writable_directory(a.out, "--out");  // now, not after training
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.model);
  auto records = read_jsonl<SftRecord>(a.data).records;
  TLCR_CHECK(records.size() >= 2, a.data.string(), ": need at least 2 records, found ",
             records.size());
  std::vector<SequenceRow> rows = sft_rows(records, tokenizer, ChatFormat{});
  const std::size_t held = std::max<std::size_t>(1, rows.size() / 20);  // the last 5% for eval
  std::vector<SequenceRow> eval_rows(rows.end() - held, rows.end());
  rows.resize(rows.size() - held);
  with_model_dir<float, D>(a.model, std::nullopt, [&](auto& model) {
    const int64_t context = model.config().context_length;
    SequenceBatcher batcher(rows, a.batch, context, tokenizer.pad_id(), a.seed);
    std::vector<TokenBatch> eval;
    for (std::size_t i = 0; i < eval_rows.size(); i += a.batch)
      eval.push_back(make_sequence_batch(
          std::span(eval_rows).subspan(i, std::min<std::size_t>(a.batch, eval_rows.size() - i)),
          context, tokenizer.pad_id()));
    LmTrainOptions options = a.train;
    options.settings = {{"batch", a.batch}, {"seed", a.seed}};
    options.dropout_seed = a.seed;
    if (options.checkpoint_dir.empty()) options.checkpoint_dir = a.out / "checkpoint";
    with_communicator([&](const auto& comm) {
      const LmTrainReport report = train_language_model(model, batcher, eval, options, comm);
      if (comm.rank() != 0) return;  // rank 0 writes
      save_model(a.out, model, tokenizer);
      std::printf("sft: %lld steps, final loss %.4f, eval loss %.4f -> %s\n",
                  static_cast<long long>(report.steps), report.last_loss, report.eval_loss,
                  a.out.string().c_str());
    });
  });
}

void run_sft(const SftArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_sft_on<D>(a); });
}

struct GenerateArgs {
  fs::path model, tokenizer, prompts, out;
  GenerationOptions generation{.max_new_tokens = 64};
  int64_t batch = 16;
  uint64_t seed = 0;
  bool with_tokens = false;
  std::string device = "cpu";
};

// Why a sampled response ended: its EOS, another stop token, or the token budget.
const char* stop_reason(const std::vector<int32_t>& tokens, bool stopped, int32_t eos) {
  if (!stopped) return "length";
  return !tokens.empty() && tokens.back() == eos ? "eos" : "stop_token";
}

template <class D>
void run_generate_on(const GenerateArgs& a) {
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.model);
  const ChatFormat chat;
  const auto prompts = require_records(read_jsonl<PromptRecord>(a.prompts).records, a.prompts);
  std::string lines;  // one JSON object per prompt
  std::size_t responses = 0;
  with_model_dir<float, D>(a.model, std::nullopt, [&](auto& model) {
    GenerationOptions options = a.generation;
    options.eos_token = tokenizer.eos_id(), options.pad_token = tokenizer.pad_id();
    Rng rng(a.seed);
    for (std::size_t begin = 0; begin < prompts.size(); begin += a.batch) {
      TokenSequences batch;
      const std::size_t end = std::min<std::size_t>(prompts.size(), begin + a.batch);
      for (std::size_t i = begin; i < end; ++i)
        batch.push_back(chat.encode_prompt(tokenizer, prompts[i].prompt));
      const GenerationResult result = generate(model, batch, options, rng);
      for (std::size_t i = begin; i < end; ++i) {
        const std::size_t row = i - begin;
        const SftRecord record{prompts[i].prompt,
                               chat.decode_response(tokenizer, result.tokens[row]),
                               /*complete=*/bool(result.stopped[row])};
        nlohmann::ordered_json line = JsonlTraits<SftRecord>::to_json(record);
        if (a.with_tokens) {  // what was sampled, and its log-probs under the unmodified model
          line["tokens"] = result.tokens[row];
          line["logprobs"] = result.logprobs[row];
          line["stop"] = stop_reason(result.tokens[row], result.stopped[row], options.eos_token);
        }
        lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        ++responses;
      }
    }
  });
  write_file_atomically(a.out, lines);
  std::printf("generate: %zu responses -> %s\n", responses, a.out.string().c_str());
}

void run_generate(const GenerateArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_generate_on<D>(a); });
}

struct LogprobsArgs {
  fs::path model, tokenizer, data, out;
  std::string device = "cpu";
};

template <class D>
void run_logprobs_on(const LogprobsArgs& a) {
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.model);
  const ChatFormat chat;
  std::ifstream in(a.data);
  TLCR_CHECK(in.good(), "cannot open '", a.data.string(), "'");
  std::string lines_out;
  with_model_dir<float, D>(a.model, std::nullopt, [&](auto& model) {
    NoGrad no_grad;
    std::string line;
    for (int64_t number = 1; std::getline(in, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = a.data.string() + ":" + std::to_string(number);
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {  // malformed, or a number such as 1e999
        detail::fail(where, ": expected a JSON object, found malformed JSON: ", e.what());
      }
      std::vector<int32_t> tokens;
      if (record.is_object() && record.contains("tokens")) {  // ids as they are, no BOS added
        const nlohmann::json& ids = record["tokens"];
        TLCR_CHECK(ids.is_array(), where, ": field 'tokens': expected an array of ids, found ",
                   describe_json(ids));
        for (const nlohmann::json& id : ids) {
          TLCR_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 &&
                         id.get<int64_t>() < model.config().vocab_size,
                     where, ": field 'tokens': expected ids in [0, ", model.config().vocab_size,
                     "), found ", describe_json(id));
          tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
        }
      } else if (record.is_object() && record.contains("text") && record["text"].is_string()) {
        if (tokenizer.has_bos()) tokens.push_back(tokenizer.bos_id());
        const auto ids = tokenizer.encode(record["text"].get<std::string>());
        tokens.insert(tokens.end(), ids.begin(), ids.end());
      } else if (record.is_object() && record.contains("prompt") && record["prompt"].is_string() &&
                 record.contains("response") && record["response"].is_string()) {
        tokens = chat.encode(tokenizer, record["prompt"].get<std::string>(),
                             record["response"].get<std::string>())
                     .ids;
      } else {
        detail::fail(where,
                     ": field 'tokens', 'text' (or 'prompt' and 'response'): expected ids or "
                     "strings, found ",
                     line.substr(0, 80));
      }
      TLCR_CHECK(!tokens.empty(), where, ": expected some text to score, found none (and no BOS)");
      TLCR_CHECK(static_cast<int64_t>(tokens.size()) <= model.config().context_length, where, ": ",
                 tokens.size(), " tokens exceed the context length ",
                 model.config().context_length);
      const int64_t T = tokens.size();
      const Var<float, D> logits = model.lm_logits(model.hidden({1, T, tokens, {}, {}}));
      const Tensor<float> host = logits.value().to_host();  // on Cpu the logits themselves
      std::vector<double> logprobs{0.0};  // the first token has no prefix to condition on
      const int64_t V = model.config().vocab_size;
      for (int64_t t = 1; t < T; ++t)
        logprobs.push_back(
            token_logprob(std::span<const float>(host.data() + (t - 1) * V, V), tokens[t]));
      lines_out += nlohmann::json{{"tokens", tokens}, {"logprobs", logprobs}}.dump() + "\n";
    }
  });
  TLCR_CHECK(!lines_out.empty(), a.data.string(), ": expected at least one record, found none");
  write_file_atomically(a.out, lines_out);
}

void run_logprobs(const LogprobsArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_logprobs_on<D>(a); });
}

}  // namespace

void add_train_commands(CLI::App& app) {
  {
    static PretrainArgs a;
    CLI::App* c =
        app.add_subcommand("pretrain", "Train a language model from scratch on text files");
    c->add_option("--corpus", a.corpus, "text files (one document per line)")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json")->required();
    c->add_option("--out", a.out, "model directory to write")->required();
    c->add_option("--seed", a.seed, "initialisation and shuffling seed");
    a.size.add_to(*c);
    add_train_options(*c, a.train, a.batch);
    add_device_option(*c, a.device);
    c->callback([] { run_pretrain(a); });
  }
  {
    static SftArgs a;
    CLI::App* c = app.add_subcommand(
        "sft", "Supervised fine-tuning on {\"prompt\",\"response\"} JSONL (loss on responses)");
    c->add_option("--model", a.model, "model directory to start from")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--data", a.data, "SFT JSONL")->required()->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the model's)");
    c->add_option("--out", a.out, "model directory to write")->required();
    c->add_option("--seed", a.seed, "shuffling seed");
    add_train_options(*c, a.train, a.batch);
    add_device_option(*c, a.device);
    c->callback([] { run_sft(a); });
  }
  {
    static GenerateArgs a;
    CLI::App* c = app.add_subcommand("generate", "Sample responses to {\"prompt\"} JSONL lines");
    c->add_option("--model", a.model, "model directory")->required()->check(CLI::ExistingDirectory);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the model's)");
    c->add_option("--prompts", a.prompts, "prompts JSONL")->required()->check(CLI::ExistingFile);
    c->add_option("--out", a.out,
                  "output JSONL of {\"prompt\",\"response\"} (\"complete\": false when the token "
                  "budget cut it)")
        ->required();
    c->add_flag("--with-tokens", a.with_tokens,
                "also write each response's \"tokens\" (ids, the stop token included), "
                "\"logprobs\" (log p of each "
                "token under the model, before temperature, top-k and top-p) and \"stop\" (eos, "
                "stop_token or length)");
    c->add_option("--temperature", a.generation.sampling.temperature, "0 = greedy");
    c->add_option("--top-k", a.generation.sampling.top_k,
                  "keep the k most likely tokens (0 = all)");
    c->add_option("--top-p", a.generation.sampling.top_p, "nucleus probability mass");
    c->add_option("--max-new-tokens", a.generation.max_new_tokens, "tokens per response at most");
    c->add_option("--batch", a.batch, "prompts per batch");
    c->add_option("--seed", a.seed, "sampling seed");
    add_device_option(*c, a.device);
    c->callback([] { run_generate(a); });
  }
  {
    static LogprobsArgs a;
    CLI::App* c =
        app.add_subcommand("logprobs", "Log-probability of every token given those before it");
    c->add_option("--model", a.model, "model directory")->required()->check(CLI::ExistingDirectory);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the model's)");
    c->add_option("--data", a.data,
                  "JSONL of {\"text\"}, {\"prompt\",\"response\"} or {\"tokens\": [ids]}")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--out", a.out, "output JSONL of {\"tokens\",\"logprobs\"}")->required();
    add_device_option(*c, a.device);
    c->callback([] { run_logprobs(a); });
  }
}

}  // namespace tlcr::cli
