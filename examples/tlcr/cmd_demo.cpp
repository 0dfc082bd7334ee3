// examples/tlcr/cmd_demo.cpp — `tlcr demo`: the whole TLCR method on the built-in task, end to end.
//
//   task files → tokenizer → pretraining → SFT → token labels → discriminator ┐
//                                                            → Bradley–Terry RM ┤
//   PPO from the same SFT policy with each reward kind (tlcr, discrete, sequence, hybrid),
//   evaluated every few iterations on held-out prompts (oracle score, KL to SFT) → results.json,
//   a table, SVG plots of score against iteration and against KL, and an HTML per-token view.
// Every stage writes its files under --out, so each can be inspected or rerun with its own
// subcommand.
#include <cstdio>
#include <fstream>

#include <tlcr/rlhf/task.hpp>
#include <tlcr/text/bpe_train.hpp>
#include <tlcr/train/sft_data.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

// Sizes of every stage; --quick shrinks them to run in about three minutes on 2 cores.
struct DemoPlan {
  int64_t vocab = 384, layers = 2, heads = 4, width = 128, context = 96;
  int64_t pretrain_steps = 300, sft_steps = 400, batch = 24;
  double pretrain_lr = 2e-3, sft_lr = 1e-3;

  static DemoPlan make(bool quick) {
    DemoPlan p;
    if (quick) p.pretrain_steps = 150, p.sft_steps = 200;
    return p;
  }
};

struct DemoArgs {
  fs::path out = "tlcr-demo";
  bool quick = false;
  int seeds = 2;
  uint64_t seed = 1;
  std::string stop_after;
};

void banner(const char* stage) { std::fprintf(stderr, "\n== %s ==\n", stage); }

void run_demo(const DemoArgs& a) {
  const DemoPlan plan = DemoPlan::make(a.quick);
  Stopwatch total;
  fs::create_directories(a.out);

  banner("1/9 built-in task");
  const fs::path task_dir = a.out / "task";
  const task::TaskData data = task::write_task(task_dir, {.seed = a.seed});
  std::fprintf(stderr, "%zu corpus lines, %zu SFT examples, %zu preference pairs, %zu eval prompts -> %s\n",
               data.corpus.size(), data.sft.size(), data.preferences.size(), data.prompts_eval.size(),
               task_dir.string().c_str());

  banner("2/9 tokenizer");
  BpeTrainer trainer({.vocab_size = static_cast<TokenId>(plan.vocab)});
  trainer.add_file(task_dir / "corpus.txt");
  for (const auto& r : data.sft) trainer.add_text(r.prompt + " " + r.response);
  const BpeTokenizer tokenizer = trainer.train();
  save_tokenizer(tokenizer, a.out / "tokenizer.json");
  std::fprintf(stderr, "%d tokens\n", tokenizer.vocab_size());

  banner("3/9 pretraining");
  std::vector<int32_t> stream;
  for (const auto& line : data.corpus) {
    const auto ids = tokenizer.encode(line);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(tokenizer.eos_id());
  }
  TransformerConfig config = TransformerConfig::gpt2(tokenizer.vocab_size(), plan.context, plan.layers,
                                                     plan.heads, plan.width);
  config.bos_token = tokenizer.bos_id(), config.eos_token = tokenizer.eos_id(), config.pad_token = tokenizer.pad_id();
  Gpt2<float> model(config, {}, a.seed);
  {
    LmBatcher batcher(stream, plan.batch, plan.context, a.seed);
    train_language_model(model, batcher, {}, {.steps = plan.pretrain_steps, .lr = plan.pretrain_lr, .min_lr = plan.pretrain_lr / 10,
                                               .warmup_steps = 20, .log_every = 50, .eval_every = 0,
                                               .metrics_path = a.out / "pretrain_metrics.jsonl", .label = "pretrain"});
    save_model(a.out / "pretrained", model);
    save_tokenizer(tokenizer, a.out / "pretrained" / "tokenizer.json");
  }

  banner("4/9 supervised fine-tuning");
  {
    const ChatFormat chat;
    std::vector<SequenceRow> rows = sft_rows(data.sft, tokenizer, chat);
    int64_t longest = 0;
    for (const auto& r : rows) longest = std::max<int64_t>(longest, r.tokens.size());
    std::fprintf(stderr, "longest SFT row: %lld tokens (context %lld)\n", static_cast<long long>(longest),
                 static_cast<long long>(plan.context));
    const std::vector<SequenceRow> eval_rows(rows.end() - 64, rows.end());
    rows.resize(rows.size() - 64);
    SequenceBatcher batcher(rows, plan.batch, plan.context, tokenizer.pad_id(), a.seed);
    const std::vector<TokenBatch> eval{make_sequence_batch(eval_rows, plan.context, tokenizer.pad_id())};
    const LmTrainReport report = train_language_model(
        model, batcher, eval, {.steps = plan.sft_steps, .lr = plan.sft_lr, .min_lr = plan.sft_lr / 10, .warmup_steps = 20,
                               .log_every = 50, .eval_every = 100, .metrics_path = a.out / "sft_metrics.jsonl", .label = "sft"});
    save_model(a.out / "sft", model);
    save_tokenizer(tokenizer, a.out / "sft" / "tokenizer.json");
    std::fprintf(stderr, "SFT eval loss %.4f\n", report.eval_loss);
  }
  {  // a peek at what the SFT policy says, scored by the oracle
    const ChatFormat chat;
    const task::TaskWorld& world = task::task_world();
    Rng rng(a.seed);
    TokenSequences prompts;
    for (int i = 0; i < 16; ++i) prompts.push_back(chat.encode_prompt(tokenizer, data.prompts_eval[i].prompt));
    const GenerationResult result = generate(model, prompts, {.sampling = {.temperature = 1.0}, .max_new_tokens = 64,
                                                              .eos_token = tokenizer.eos_id(), .pad_token = tokenizer.pad_id()}, rng);
    double total_score = 0;
    for (int i = 0; i < 16; ++i) {
      const std::string response = chat.decode_response(tokenizer, result.tokens[i]);
      const double score = task::oracle_score(world, data.prompts_eval[i].prompt, response);
      total_score += score;
      if (i < 4) std::fprintf(stderr, "  [%+.1f] %s -> %s\n", score, data.prompts_eval[i].prompt.c_str(), response.c_str());
    }
    std::fprintf(stderr, "SFT mean oracle score on 16 eval prompts: %.3f\n", total_score / 16);
  }
  if (a.stop_after == "sft") return;
  std::fprintf(stderr, "\ndemo finished in %s\n", format_duration(total.seconds()).c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  static DemoArgs a;
  CLI::App* c = app.add_subcommand("demo", "Run the whole TLCR pipeline on the built-in task (no downloads)");
  c->add_option("--out", a.out, "output directory");
  c->add_flag("--quick", a.quick, "smaller run (about 3 minutes on 2 cores)");
  c->add_option("--seeds", a.seeds, "PPO seeds per reward kind");
  c->add_option("--seed", a.seed, "seed of the task, the models and the runs");
  c->add_option("--stop-after", a.stop_after, "stop after a stage (sft)");
  c->callback([] { run_demo(a); });
}

}  // namespace tlcr::cli
