// examples/tlcr/cmd_reward.cpp — the reward stage of the pipeline:
//   tlcr task                 the built-in task's files (corpus, SFT, preferences, revisions, …)
//   tlcr label                revisions → token labels, with the policy's tokenizer
//   tlcr train-discriminator  SFT trunk + 2-logit head on the labels (TLCR's D_φ)
//   tlcr train-reward-model   SFT trunk + sequence-score head on preference pairs (Bradley–Terry)
//   tlcr score                per-token rewards of {"prompt","response"} JSONL, as JSONL (and HTML)
//   tlcr view                 one (prompt, response) with p_t and r_t, coloured in the terminal
// Both trainers checkpoint into <out>/checkpoint (or --checkpoint-dir) and continue from one
// with --resume.
// Model directories written here hold tokenizer.json too, so later commands find it on their own.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/labels.hpp>
#include <tlcr/rlhf/reward_view.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/rlhf/task.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

// The model's vocabulary must cover every id the tokenizer can produce.
void check_vocabulary(const BpeTokenizer& tokenizer, const TransformerConfig& config,
                      const fs::path& dir) {
  TLCR_CHECK(tokenizer.vocab_size() <= config.vocab_size, "the tokenizer has ",
             tokenizer.vocab_size(), " token ids but the model in '", dir.string(),
             "' has a vocabulary of ", config.vocab_size, " (a different tokenizer?)");
}

// ---- task ------------------------------------------------------------------------------------

struct TaskArgs {
  fs::path out;
  task::TaskOptions options;
};

void run_task(const TaskArgs& a) {
  const task::TaskData data = task::write_task(a.out, a.options);
  std::printf(
      "task: %zu corpus lines, %zu SFT examples, %zu preference pairs (with revisions), "
      "%zu train / %zu eval prompts -> %s\n",
      data.corpus.size(), data.sft.size(), data.preferences.size(), data.prompts_train.size(),
      data.prompts_eval.size(), a.out.string().c_str());
}

// ---- label -----------------------------------------------------------------------------------

struct LabelArgs {
  fs::path revisions, tokenizer, out;
  bool skip_bad = false;
};

void run_label(const LabelArgs& a) {
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer);
  const auto read =
      read_jsonl<RevisionRecord>(a.revisions, a.skip_bad ? OnBadRecord::Skip : OnBadRecord::Fail);
  for (const std::string& warning : read.warnings)
    std::fprintf(stderr, "skipped %s\n", warning.c_str());
  const auto labelled = label_revisions(tokenizer, require_records(read.records, a.revisions));
  write_labels(a.out, labelled);
  const LabelCounts c = count_labels(labelled);
  std::printf(
      "label: %lld records (%lld unchanged, %lld skipped); rejected tokens %lld kept, "
      "%lld substituted, %lld deleted; revised tokens %lld kept, %lld substituted, "
      "%lld added -> %s\n",
      (long long)c.records, (long long)c.unchanged_records, (long long)read.skipped(),
      (long long)c.rejected_kept, (long long)c.rejected_substituted, (long long)c.rejected_deleted,
      (long long)c.revised_kept, (long long)c.revised_substituted, (long long)c.revised_added,
      a.out.string().c_str());
}

// ---- train-discriminator ---------------------------------------------------------------------

struct DiscriminatorArgs {
  fs::path sft, labels, tokenizer, out;
  DiscriminatorTrainOptions train;
  bool hard_labels = false;
  double eval_fraction = 0.05;
  uint64_t seed = 0;
  std::string device = "cpu";
};

template <class D>
void run_train_discriminator_on(const DiscriminatorArgs& a) {
  check_writable_directory(a.out, "--out");  // now, not after training
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.sft);
  const auto read = read_labels(a.labels);
  const auto& records = read.records;
  TLCR_CHECK(records.size() >= 2, a.labels.string(), ": need at least 2 label records, found ",
             records.size());
  // Examples are made (and checked against the tokenizer) in file order, so that a bad record is
  // named by its line; the split depends only on the count and the seed.
  std::vector<DiscriminatorExample> examples;
  examples.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i)
    examples.push_back(make_discriminator_example(
        tokenizer, records[i], {}, a.labels.string() + ":" + std::to_string(read.lines[i])));
  const auto [train, held_out] = split_held_out(examples, a.eval_fraction, a.seed);
  DiscriminatorTrainOptions options = a.train;
  options.labels = a.hard_labels ? LabelMode::Hard : LabelMode::Soft;
  options.seed = a.seed;
  if (options.checkpoint_dir.empty()) options.checkpoint_dir = a.out / "checkpoint";
  with_architecture(a.sft, [&](auto arch) {
    using Arch = decltype(arch);
    auto model = discriminator_from_sft<float, Arch, D>(a.sft, a.seed);
    check_vocabulary(tokenizer, model.config(), a.sft);
    with_communicator([&](const auto& comm) {
      const DiscriminatorReport report =
          train_discriminator(model, train, held_out, ResponseEnds::of(tokenizer), options, comm);
      if (comm.rank() != 0) return;  // rank 0 writes
      save_discriminator(a.out, model, tokenizer, options.labels, report.after);
      std::printf(
          "train-discriminator: %lld steps on %lld triples (%lld too long, left out), "
          "%.1f s\n  held-out before: %s\n  held-out after:  %s\n-> %s\n",
          (long long)report.steps, (long long)report.train_examples,
          (long long)report.skipped_too_long, report.seconds, report.before.summary().c_str(),
          report.after.summary().c_str(), a.out.string().c_str());
    });
  });
}

void run_train_discriminator(const DiscriminatorArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_train_discriminator_on<D>(a); });
}

// ---- train-reward-model ----------------------------------------------------------------------

struct RewardModelArgs {
  fs::path sft, preferences, tokenizer, out;
  RewardModelTrainOptions train;
  bool no_normalize = false;
  double eval_fraction = 0.05;
  uint64_t seed = 0;
  std::string device = "cpu";
};

template <class D>
void run_train_reward_model_on(const RewardModelArgs& a) {
  check_writable_directory(a.out, "--out");  // now, not after training
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.sft);
  const auto records = read_jsonl<PreferenceRecord>(a.preferences).records;
  TLCR_CHECK(records.size() >= 2, a.preferences.string(), ": need at least 2 pairs, found ",
             records.size());
  const auto [train_records, held_records] = split_held_out(records, a.eval_fraction, a.seed);
  const ChatFormat format;
  RewardModelTrainOptions options = a.train;
  options.normalize = !a.no_normalize;
  options.seed = a.seed;
  if (options.checkpoint_dir.empty()) options.checkpoint_dir = a.out / "checkpoint";
  with_architecture(a.sft, [&](auto arch) {
    using Arch = decltype(arch);
    auto model = reward_model_from_sft<float, Arch, D>(a.sft, a.seed);
    check_vocabulary(tokenizer, model.config(), a.sft);
    RewardModelReport report;
    bool writer = true;
    with_communicator([&](const auto& comm) {
      report = train_reward_model(model, tokenize_preferences(tokenizer, format, train_records),
                                  tokenize_preferences(tokenizer, format, held_records),
                                  ResponseEnds::of(tokenizer), options, comm);
      writer = comm.rank() == 0;
    });
    if (!writer) return;  // rank 0 writes
    save_reward_model(a.out, model, tokenizer, report.normalization, report.after);
    std::printf(
        "train-reward-model: %lld steps on %lld pairs (%lld too long, left out), %.1f s\n"
        "  held-out before: %s\n  held-out after:  %s\n",
        (long long)report.steps, (long long)report.train_pairs, (long long)report.skipped_too_long,
        report.seconds, report.before.summary().c_str(), report.after.summary().c_str());
    if (report.normalization)
      std::printf("  score normalisation: mean %.4f, std %.4f\n", report.normalization->mean,
                  report.normalization->stddev);
    std::printf("-> %s\n", a.out.string().c_str());
  });
}

void run_train_reward_model(const RewardModelArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_train_reward_model_on<D>(a); });
}

// ---- score and view --------------------------------------------------------------------------

// The options that pick and configure a reward, shared by `score` and `view`.
struct RewardArgs {
  RewardSpec spec;
  fs::path tokenizer;
  bool raw_score = false;
  std::string device = "cpu";

  void add_to(CLI::App& command) {
    command.add_option("--reward", spec.kind, "reward kind")
        ->required()
        ->check(CLI::IsMember(reward_kinds()));
    command.add_option("--reward-model", spec.reward_model,
                       "discriminator directory (for `sequence`: the reward-model directory)");
    command.add_option("--sequence-model", spec.sequence_model,
                       "Bradley–Terry reward-model directory (hybrid, sequence)");
    command.add_option("--tokenizer", tokenizer,
                       "tokenizer.json (default: the one in the reward-model directory)");
    command
        .add_option("--threshold", spec.threshold, "discrete: neutral band |p - 0.5| < threshold")
        ->check(CLI::Range(0.0, 0.5));
    command.add_flag("--shift", spec.shift,
                     "credit token t's reward to the action one step later (released-code parity)");
    command.add_option("--hybrid-weight", spec.hybrid_weight,
                       "hybrid: weight of the sequence score");
    command.add_flag("--raw-score", raw_score, "sequence, hybrid: do not normalise the score");
    command.add_option("--seed", spec.seed, "random: seed");
    command.add_option("--batch-size", spec.batch_size, "rows per forward pass")
        ->check(CLI::PositiveNumber);
    add_device_option(command, device);
  }
  // The reward, its models on D.
  template <class D>
  AnyTokenReward reward(const BpeTokenizer& tokenizer) const {
    RewardSpec s = spec;
    s.normalize_sequence = !raw_score;
    return make_token_reward<D>(s, ResponseEnds::of(tokenizer));
  }
  BpeTokenizer open() const {
    const fs::path model_dir = spec.reward_model.empty() ? spec.sequence_model : spec.reward_model;
    return find_tokenizer(tokenizer, model_dir);
  }
};

struct ScoreArgs {
  RewardArgs reward;
  fs::path data, out, html;
};

template <class D>
void run_score_on(const ScoreArgs& a) {
  const BpeTokenizer tokenizer = a.reward.open();
  const AnyTokenReward reward = a.reward.reward<D>(tokenizer);
  const auto records = require_records(read_jsonl<SftRecord>(a.data).records, a.data);
  const std::vector<TokenRewardView> views = view_rewards(reward, tokenizer, records);
  write_reward_views_jsonl(a.out, views);
  if (!a.html.empty()) write_reward_views_html(a.html, views, "tlcr score: " + reward.name());
  double total = 0;
  int64_t tokens = 0;
  for (const TokenRewardView& view : views) {
    total += view.total();
    tokens += static_cast<int64_t>(view.r.size());
  }
  std::printf("score (%s): %zu responses, mean total reward %.4f, mean per token %.4f -> %s\n",
              reward.name().c_str(), views.size(), views.empty() ? 0.0 : total / views.size(),
              tokens == 0 ? 0.0 : total / tokens, a.out.string().c_str());
}

void run_score(const ScoreArgs& a) {
  with_device(a.reward.device, [&]<class D>(D) { run_score_on<D>(a); });
}

struct ViewArgs {
  RewardArgs reward;
  std::string prompt, response, colour = "auto";
  fs::path html, jsonl;
};

template <class D>
void run_view_on(const ViewArgs& a) {
  const BpeTokenizer tokenizer = a.reward.open();
  const AnyTokenReward reward = a.reward.reward<D>(tokenizer);
  const std::vector<SftRecord> records = {{a.prompt, a.response}};
  const std::vector<TokenRewardView> views = view_rewards(reward, tokenizer, records);
  const bool colour = a.colour == "always" || (a.colour == "auto" && ::isatty(STDOUT_FILENO));
  std::cout << render_reward_view_text(views.front(), colour);
  if (!a.html.empty()) {
    write_reward_views_html(a.html, views, "tlcr view: " + reward.name());
    std::printf("-> %s\n", a.html.string().c_str());
  }
  if (!a.jsonl.empty()) write_reward_views_jsonl(a.jsonl, views);
}

void run_view(const ViewArgs& a) {
  with_device(a.reward.device, [&]<class D>(D) { run_view_on<D>(a); });
}

// Options of both trainers.
template <class Options>
void add_reward_train_options(CLI::App& c, Options& o) {
  c.add_option("--epochs", o.epochs, "passes over the training data");
  c.add_option("--max-steps", o.max_steps, "> 0: exactly this many steps instead of --epochs");
  c.add_option("--batch-size", o.batch_size, "examples per step")->check(CLI::PositiveNumber);
  c.add_option("--micro-batches", o.micro_batches,
               "parts of each step's batch, summed in a fixed order (mpirun: shared by the ranks)")
      ->check(CLI::PositiveNumber);
  c.add_option("--lr", o.lr, "peak learning rate (AdamW, cosine schedule)");
  c.add_option("--min-lr", o.min_lr, "final learning rate");
  c.add_option("--warmup", o.warmup_steps, "linear warmup steps");
  c.add_option("--weight-decay", o.weight_decay, "AdamW decoupled weight decay");
  c.add_option("--grad-clip", o.grad_clip, "global gradient-norm clip");
  c.add_option("--log-every", o.log_every, "steps between progress lines");
  c.add_option("--eval-every", o.eval_every, "steps between held-out evaluations (0: at the end)");
  c.add_option("--metrics", o.metrics_path, "metrics JSONL file");
  c.add_option("--checkpoint-dir", o.checkpoint_dir,
               "checkpoint directory (default: <out>/checkpoint)");
  c.add_option("--checkpoint-every", o.checkpoint_every,
               "steps between checkpoints (0: at the end)");
  c.add_option("--resume", o.resume_from, "checkpoint directory to continue from");
}

}  // namespace

void add_reward_commands(CLI::App& app) {
  {
    static TaskArgs a;
    CLI::App* c = app.add_subcommand("task", "Write the built-in preference task's files");
    c->add_option("--out", a.out, "directory to write")->required();
    c->add_option("--seed", a.options.seed, "seed of everything in the task");
    c->add_option("--corpus-lines", a.options.corpus_lines, "pretraining paragraphs");
    c->add_option("--sft-examples", a.options.sft_examples, "SFT demonstrations");
    c->add_option("--pairs", a.options.preference_pairs, "preference pairs (each also revised)");
    c->add_option("--eval-fraction", a.options.eval_fraction, "share of prompts held out");
    c->add_option("--preference-temperature", a.options.preference_temperature,
                  "annotator noise T in P(a > b) = sigmoid((s_a - s_b) / T)");
    c->callback([] { run_task(a); });
  }
  {
    static LabelArgs a;
    CLI::App* c = app.add_subcommand(
        "label", "Token labels from {\"prompt\",\"chosen\",\"rejected\",\"revised\"} JSONL");
    c->add_option("--revisions", a.revisions, "revisions JSONL")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "the policy's tokenizer.json")->required();
    c->add_option("--out", a.out, "label JSONL to write")->required();
    c->add_flag("--skip-bad", a.skip_bad, "skip (and list) bad records instead of stopping");
    c->callback([] { run_label(a); });
  }
  {
    static DiscriminatorArgs a;
    CLI::App* c = app.add_subcommand(
        "train-discriminator", "Train the TLCR token discriminator (SFT trunk + 2-logit head)");
    c->add_option("--sft", a.sft, "SFT model directory (the trunk)")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--labels", a.labels, "label JSONL (tlcr label)")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the SFT model's)");
    c->add_option("--out", a.out, "discriminator directory to write")->required();
    c->add_flag("--hard-labels", a.hard_labels, "train on edited tokens only");
    c->add_option("--eval-fraction", a.eval_fraction, "share of triples held out")
        ->check(CLI::Range(0.0, 0.9));
    c->add_option("--seed", a.seed, "head initialisation, split and shuffling seed");
    add_reward_train_options(*c, a.train);
    add_device_option(*c, a.device);
    c->callback([] { run_train_discriminator(a); });
  }
  {
    static RewardModelArgs a;
    CLI::App* c =
        app.add_subcommand("train-reward-model",
                           "Train a Bradley–Terry sequence reward model (SFT trunk + score head)");
    c->add_option("--sft", a.sft, "SFT model directory (the trunk)")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--preferences", a.preferences, "{\"prompt\",\"chosen\",\"rejected\"} JSONL")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the SFT model's)");
    c->add_option("--out", a.out, "reward-model directory to write")->required();
    c->add_flag("--no-normalize", a.no_normalize, "do not store a score normalisation");
    c->add_option("--eval-fraction", a.eval_fraction, "share of pairs held out")
        ->check(CLI::Range(0.0, 0.9));
    c->add_option("--seed", a.seed, "head initialisation, split and shuffling seed");
    add_reward_train_options(*c, a.train);
    add_device_option(*c, a.device);
    c->callback([] { run_train_reward_model(a); });
  }
  {
    static ScoreArgs a;
    CLI::App* c = app.add_subcommand(
        "score", "Per-token rewards of {\"prompt\",\"response\"} JSONL, written as JSONL");
    a.reward.add_to(*c);
    c->add_option("--data", a.data, "{\"prompt\",\"response\"} JSONL")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--out", a.out, "JSONL of {prompt, response, reward, tokens, ids, p, r, total}")
        ->required();
    c->add_option("--html", a.html, "also write an HTML view of every response");
    c->callback([] { run_score(a); });
  }
  {
    static ViewArgs a;
    CLI::App* c = app.add_subcommand("view", "Show p_t and r_t for one (prompt, response)");
    a.reward.add_to(*c);
    c->add_option("--prompt", a.prompt, "the prompt text")->required();
    c->add_option("--response", a.response, "the response text")->required();
    c->add_option("--html", a.html, "also write a standalone HTML view");
    c->add_option("--jsonl", a.jsonl, "also write the JSONL form");
    c->add_option("--color", a.colour, "auto (when stdout is a terminal), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    c->callback([] { run_view(a); });
  }
}

}  // namespace tlcr::cli
