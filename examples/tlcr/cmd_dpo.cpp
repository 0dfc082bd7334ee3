// examples/tlcr/cmd_dpo.cpp — the offline baseline:
//   tlcr dpo   an SFT model trained by DPO on preference pairs, against itself frozen as reference
// Like train-reward-model it holds out a share of the pairs, checkpoints into <out>/checkpoint (or
// --checkpoint-dir), continues from one with --resume, and trains data-parallel under mpirun
// (rank 0 alone writes). The output is a policy directory with tokenizer.json, which `tlcr
// generate`, `tlcr eval --policy` and `tlcr ppo --policy` open like any model; its config.json
// records β and the reference, which the DPO implicit token reward reads back.
#include <cmath>
#include <cstdio>

#include <tlcr/rlhf/dpo.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

struct DpoArgs {
  fs::path sft, preferences, tokenizer, out;
  DpoTrainOptions train;
  double eval_fraction = 0.05;
  uint64_t seed = 0;
  std::string device = "cpu";
};

template <class D>
void run_dpo_on(const DpoArgs& a) {
  TLCR_CHECK(std::isfinite(a.train.beta) && a.train.beta > 0,
             "--beta: expected a positive number, got ", a.train.beta);
  check_writable_directory(a.out, "--out");  // now, not after training
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.sft);
  const auto records = read_jsonl<PreferenceRecord>(a.preferences).records;
  TLCR_CHECK(records.size() >= 2, a.preferences.string(), ": need at least 2 pairs, found ",
             records.size());
  const auto [train_records, held_records] = split_held_out(records, a.eval_fraction, a.seed);
  const ChatFormat format;
  DpoTrainOptions options = a.train;
  options.seed = a.seed;
  if (options.checkpoint_dir.empty()) options.checkpoint_dir = a.out / "checkpoint";
  with_architecture(a.sft, [&](auto arch) {
    using Arch = decltype(arch);
    Transformer<float, Arch, D> policy = load_model<float, Arch, D>(a.sft);
    const Transformer<float, Arch, D> reference = load_model<float, Arch, D>(a.sft);
    TLCR_CHECK(tokenizer.vocab_size() <= policy.config().vocab_size, "the tokenizer has ",
               tokenizer.vocab_size(), " token ids but the model in '", a.sft.string(),
               "' has a vocabulary of ", policy.config().vocab_size, " (a different tokenizer?)");
    DpoReport report;
    bool writer = true;
    with_communicator([&](const auto& comm) {
      report = train_dpo(policy, reference, tokenize_preferences(tokenizer, format, train_records),
                         tokenize_preferences(tokenizer, format, held_records),
                         ResponseEnds::of(tokenizer), options, comm);
      writer = comm.rank() == 0;
    });
    if (!writer) return;  // rank 0 writes
    save_dpo_policy(a.out, policy, tokenizer,
                    {.beta = options.beta, .reference = fs::absolute(a.sft)}, report.after);
    std::printf(
        "dpo: %lld steps on %lld pairs (%lld too long, left out), beta %g, %.1f s\n"
        "  held-out before: %s\n  held-out after:  %s\n-> %s\n",
        (long long)report.steps, (long long)report.train_pairs, (long long)report.skipped_too_long,
        options.beta, report.seconds, report.before.summary().c_str(),
        report.after.summary().c_str(), a.out.string().c_str());
  });
}

void run_dpo(const DpoArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_dpo_on<D>(a); });
}

}  // namespace

void add_dpo_command(CLI::App& app) {
  static DpoArgs a;
  CLI::App* c = app.add_subcommand(
      "dpo", "Direct Preference Optimization of an SFT model on preference pairs (offline)");
  c->add_option("--sft", a.sft, "SFT model directory: the starting policy and the frozen reference")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--preferences", a.preferences, "{\"prompt\",\"chosen\",\"rejected\"} JSONL")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the SFT model's)");
  c->add_option("--out", a.out, "policy directory to write")->required();
  c->add_option("--beta", a.train.beta,
                "scale of the implicit reward beta·(log pi − log pi_ref); smaller moves further");
  c->add_option("--eval-fraction", a.eval_fraction, "share of pairs held out")
      ->check(CLI::Range(0.0, 0.9));
  c->add_option("--seed", a.seed, "split and shuffling seed");
  DpoTrainOptions& o = a.train;
  c->add_option("--epochs", o.epochs, "passes over the training pairs");
  c->add_option("--max-steps", o.max_steps, "> 0: exactly this many steps instead of --epochs");
  c->add_option("--batch-size", o.batch_size, "pairs per step")->check(CLI::PositiveNumber);
  c->add_option("--micro-batches", o.micro_batches,
                "parts of each step's batch, summed in a fixed order (mpirun: shared by the ranks)")
      ->check(CLI::PositiveNumber);
  c->add_option("--lr", o.lr, "peak learning rate (AdamW, cosine schedule)");
  c->add_option("--min-lr", o.min_lr, "final learning rate");
  c->add_option("--warmup", o.warmup_steps, "linear warmup steps");
  c->add_option("--weight-decay", o.weight_decay, "AdamW decoupled weight decay");
  c->add_option("--grad-clip", o.grad_clip, "global gradient-norm clip");
  c->add_option("--log-every", o.log_every, "steps between progress lines");
  c->add_option("--eval-every", o.eval_every, "steps between held-out evaluations (0: at the end)");
  c->add_option("--metrics", o.metrics_path, "metrics JSONL file");
  c->add_option("--checkpoint-dir", o.checkpoint_dir,
                "checkpoint directory (default: <out>/checkpoint)");
  c->add_option("--checkpoint-every", o.checkpoint_every,
                "steps between checkpoints (0: at the end)");
  c->add_option("--resume", o.resume_from, "checkpoint directory to continue from");
  add_device_option(*c, a.device);
  c->callback([] { run_dpo(a); });
}

}  // namespace tlcr::cli
