// examples/tlcr/cmd_demo.cpp — `tlcr demo`: the whole TLCR method on the built-in task, end to end.
//
//   task files → tokenizer → pretraining → SFT → token labels → discriminator ┐
//                                                            → Bradley–Terry RM ┤
//   PPO from the same SFT policy with each arm's reward (tlcr, tlcr with on-policy revision
//   rounds, the sequence baseline; --study: also its uniform and attention spreads, discrete and
//   DPO's implicit token reward), and DPO itself, evaluated every few iterations (steps) on
//   held-out prompts (oracle score, KL to SFT) → results.json, a table with 95% intervals over
//   seeds and paired differences against the sequence baseline, SVG plots of score against
//   iteration and against KL, and an HTML per-token view.
// The runs and their statistics are the library's (rlhf/task/experiment.hpp); this file sizes the
// stages, chains them and writes the report.
// Every stage writes its files under --out, so each can be inspected or rerun with its own
// subcommand. With --resume, a demo (a study: hours) that was stopped continues: the stages'
// models (stages.json) and every finished run (<run>/result.json: its evaluation curve) are read
// back instead of recomputed, after checking that they were made with the same settings.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <tlcr/io/svg_plot.hpp>
#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/dpo.hpp>
#include <tlcr/rlhf/labels.hpp>
#include <tlcr/rlhf/ppo.hpp>
#include <tlcr/rlhf/revision_rounds.hpp>
#include <tlcr/rlhf/reward_view.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/rlhf/task.hpp>
#include <tlcr/rlhf/task/experiment.hpp>
#include <tlcr/rlhf/task/revision.hpp>
#include <tlcr/text/bpe_train.hpp>
#include <tlcr/train/sft_data.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

// One line of the comparison: a reward kind for PPO (make_token_reward's names; "dpo" is PPO on
// the implicit token reward of the same seed's DPO policy), with or without on-policy revision
// rounds, or "dpo-offline": the DPO policy itself, evaluated as it trains.
struct Arm {
  std::string name, reward;
  bool rounds = false;
  // --study: also one run per KL budget with β adapting toward it. Off for the rounds arm, whose
  // runs take 3-5× longer (200 discriminator steps every 5 iterations): its frontier comes from
  // the fixed-β curves alone.
  bool kl_targeted = true;
};

// Sizes of every stage. Default: about 9 minutes on 2 cores (three seeds); --quick: under 3
// minutes (one seed); --study: every arm, five seeds, and KL-targeted runs (long: see the README);
// --smoke: a few seconds per stage, to check that the pipeline runs (the test suite uses it).
struct DemoPlan {
  int64_t vocab = 384, layers = 2, heads = 4, width = 128, context = 128;
  int64_t pretrain_steps = 300, sft_steps = 400, batch = 24;
  double pretrain_lr = 2e-3, sft_lr = 1e-3;
  int64_t discriminator_steps = 300, reward_model_steps = 300;
  int64_t ppo_iterations = 40, eval_every = 5, eval_prompts = 64;
  // Dense rewards pay per token, so a policy can farm them by never stopping; a response cut by
  // the length limit loses this much (TRL's missing_eos_penalty), the same for every reward kind.
  double missing_eos_penalty = 1.0;
  // Slower than small_ppo_preset (lr 5e-5, β 0.05): at that pace the dense kinds reach KL ≈ 17
  // nats in ten iterations and the frontier has no points at small KL budgets.
  double ppo_lr = 1e-5, kl_coef = 0.1;
  // The KL in the reward is k1, log π(a_t) − log π_ref(a_t): its policy gradient is the KL's.
  // The full-vocabulary KL of a state (small_ppo_preset's, the authors') is a reward the sampled
  // action cannot change, so PPO only learns to avoid reaching such states: measured on this
  // task, β = 4 on it still let the KL reach 3.5 nats and β = 136 (adaptive) 5.8, while β = 1 on
  // k1 held 2.7.
  KlEstimator kl_estimator = KlEstimator::K1;
  int64_t max_new_tokens = 48;
  // Revision rounds: every 5 iterations, all 32 responses, 40 discriminator steps.
  int64_t revise_every = 5, revision_steps = 40;
  // DPO from the SFT model on the preference pairs, evaluated every dpo_eval_every steps.
  int64_t dpo_steps = 300, dpo_eval_every = 50;
  double dpo_beta = 0.1, dpo_lr = 1e-4;
  std::vector<Arm> arms{{"tlcr", "tlcr"},
                        {"tlcr+rounds", "tlcr", true},
                        {"sequence", "sequence"},
                        {"dpo-offline", "dpo-offline"}};
  std::vector<double> kl_budgets{0.5, 1.0, 2.0, 4.0};
  // --study: PPO runs whose β adapts toward each budget (Ziegler et al.'s controller: β moves by
  // up to 40% per batch of 32, so that it acts within the run; it waits until the KL first
  // reaches the budget, since the classic rule shrinks β while the policy has not moved yet and
  // the hack then outruns it).
  bool kl_targeted = false;
  double kl_horizon = 16;

  int seeds = 3;

  static std::vector<Arm> all_arms() {
    return {{"sequence", "sequence"},
            {"sequence-uniform", "sequence-uniform"},
            {"sequence-attention", "sequence-attention"},
            {"tlcr", "tlcr"},
            {"tlcr+rounds", "tlcr", true, false},
            {"discrete", "discrete"},
            {"dpo-offline", "dpo-offline"},
            {"dpo-tokens", "dpo"}};
  }

  static DemoPlan make(bool quick, bool smoke, bool study) {
    DemoPlan p;
    // The study's rounds train 200 steps: 40 (the default's, for time) only slow the hack down.
    if (study) p.arms = all_arms(), p.seeds = 5, p.kl_targeted = true, p.revision_steps = 200;
    if (quick) {
      p.pretrain_steps = 150, p.sft_steps = 200, p.discriminator_steps = 150,
      p.reward_model_steps = 150;
      p.ppo_iterations = 24, p.eval_every = 6, p.eval_prompts = 40, p.seeds = 1;
      p.dpo_steps = 150;
      if (!study)
        p.arms = {{"tlcr", "tlcr"}, {"tlcr+rounds", "tlcr", true}, {"sequence", "sequence"}};
    }
    if (smoke) {  // every arm, so that the test suite runs each path
      p.layers = 1, p.width = 32, p.heads = 2, p.batch = 8;
      p.pretrain_steps = 10, p.sft_steps = 10, p.discriminator_steps = 5, p.reward_model_steps = 5;
      p.ppo_iterations = 2, p.eval_every = 1, p.eval_prompts = 8, p.seeds = 2,
      p.max_new_tokens = 16;
      p.revise_every = 1, p.revision_steps = 2, p.dpo_steps = 4, p.dpo_eval_every = 2;
      p.arms = all_arms();
    }
    return p;
  }
};

nlohmann::json number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json();
}

// "%.<digits>g" of x: KL budgets as table headers and JSON keys ("0.5", "1", …).
std::string format_number(double x, int digits = 3) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*g", digits, x);
  return text;
}

struct DemoArgs {
  fs::path out = "tlcr-demo";
  bool quick = false, smoke = false, study = false;
  int seeds = 0;  // 0: the plan's
  uint64_t seed = 1;
  std::string stop_after;
  bool resume = false;  // read back the stages and runs an earlier, stopped demo finished
  std::string device = "cpu";
};

// What every stage and run of a demo depends on: the plan's sizes (not which arms, nor how many
// seeds: a run does not depend on the others), the seed and the thread count (which can change
// the last bits), and the device (which changes them too). --resume reads back only what was made
// with exactly these.
nlohmann::json demo_settings(const DemoPlan& p, uint64_t seed, const std::string& device) {
  return {{"vocab", p.vocab},
          {"layers", p.layers},
          {"heads", p.heads},
          {"width", p.width},
          {"context", p.context},
          {"pretrain_steps", p.pretrain_steps},
          {"sft_steps", p.sft_steps},
          {"batch", p.batch},
          {"pretrain_lr", p.pretrain_lr},
          {"sft_lr", p.sft_lr},
          {"discriminator_steps", p.discriminator_steps},
          {"reward_model_steps", p.reward_model_steps},
          {"ppo_iterations", p.ppo_iterations},
          {"eval_every", p.eval_every},
          {"eval_prompts", p.eval_prompts},
          {"missing_eos_penalty", p.missing_eos_penalty},
          {"ppo_lr", p.ppo_lr},
          {"kl_coef", p.kl_coef},
          {"kl_estimator", kl_estimator_name(p.kl_estimator)},
          {"max_new_tokens", p.max_new_tokens},
          {"revise_every", p.revise_every},
          {"revision_steps", p.revision_steps},
          {"dpo_steps", p.dpo_steps},
          {"dpo_eval_every", p.dpo_eval_every},
          {"dpo_beta", p.dpo_beta},
          {"dpo_lr", p.dpo_lr},
          {"kl_horizon", p.kl_horizon},
          {"seed", seed},
          {"threads", num_threads()},
          {"device", device}};
}

// Checks that `saved` (a stages.json or result.json's settings, read from `path`) are `settings`.
// Files written before --device existed hold no device: they were made on the CPU.
void check_demo_settings(nlohmann::json saved, const nlohmann::json& settings,
                         const fs::path& path) {
  if (saved.is_object() && !saved.contains("device")) saved["device"] = Cpu::name;
  if (saved.is_object() && saved["device"] != settings["device"])
    detail::fail("resuming from '", path.string(), "': it was made with --device ",
                 describe_json(saved["device"]), ", this run has --device ",
                 describe_json(settings["device"]),
                 ": a run continued on another device would not be the same run bit for bit; "
                 "resume on the same device, or start a new --out");
  check_resumed_settings(saved, settings, path);
}

// `settings` with one run's own keys added.
nlohmann::json with_keys(nlohmann::json settings, const nlohmann::json& run) {
  for (const auto& [key, value] : run.items()) settings[key] = value;
  return settings;
}

// A finished run: its settings and evaluation curve, in <dir>/result.json.
void write_run_record(const fs::path& dir, const nlohmann::json& settings, const EvalCurve& curve) {
  fs::create_directories(dir);
  const nlohmann::json record{{"settings", settings}, {"curve", to_json(curve)}};
  write_file_atomically(dir / "result.json", record.dump(1) + "\n");
}

// With --resume, the curve of a run finished before with the same settings (an error if its
// settings differ); nothing otherwise.
std::optional<EvalCurve> finished_run(const DemoArgs& a, const fs::path& dir,
                                      const nlohmann::json& settings) {
  const fs::path path = dir / "result.json";
  if (!a.resume || !fs::exists(path)) return std::nullopt;
  const nlohmann::json record = read_json_file(path);
  TLCR_CHECK(record.is_object() && record.contains("settings") && record.contains("curve"),
             path.string(), ": expected a run record {\"settings\", \"curve\"}");
  check_demo_settings(record.at("settings"), settings, path);
  return eval_curve_from_json(record.at("curve"), path.string());
}

void banner(const char* stage) {
  std::fprintf(stderr, "\n== %s ==\n", stage);
}

template <class D>
void run_demo_on(const DemoArgs& a) {
  using Model = Transformer<float, Gpt2Arch, D>;
  const DemoPlan plan = DemoPlan::make(a.quick, a.smoke, a.study);
  const int seeds = a.seeds > 0 ? a.seeds : plan.seeds;
  Stopwatch total;
  fs::create_directories(a.out);
  const nlohmann::json settings = demo_settings(plan, a.seed, a.device);
  // --resume: the models of stages 3-7, finished before with these settings.
  std::optional<nlohmann::json> stages;
  if (a.resume && fs::exists(a.out / "stages.json")) {
    stages = read_json_file(a.out / "stages.json");
    TLCR_CHECK(stages->is_object() && stages->contains("settings"),
               (a.out / "stages.json").string(), ": expected {\"settings\", …}");
    check_demo_settings(stages->at("settings"), settings, a.out / "stages.json");
  }

  banner("1/9 built-in task");
  const fs::path task_dir = a.out / "task";
  const task::TaskData data = task::write_task(task_dir, {.seed = a.seed});
  std::fprintf(stderr,
               "%zu corpus lines, %zu SFT examples, %zu preference pairs, %zu eval prompts -> %s\n",
               data.corpus.size(), data.sft.size(), data.preferences.size(),
               data.prompts_eval.size(), task_dir.string().c_str());

  banner("2/9 tokenizer");
  BpeTrainer trainer({.vocab_size = static_cast<TokenId>(plan.vocab)});
  trainer.add_file(task_dir / "corpus.txt");
  for (const auto& r : data.sft) trainer.add_text(r.prompt + " " + r.response);
  const BpeTokenizer tokenizer = trainer.train();
  save_tokenizer(tokenizer, a.out / "tokenizer.json");
  std::fprintf(stderr, "%d tokens\n", tokenizer.vocab_size());

  auto pretrain_and_sft = [&] {
    banner("3/9 pretraining");
    std::vector<int32_t> stream;
    for (const auto& line : data.corpus) {
      const auto ids = tokenizer.encode(line);
      stream.insert(stream.end(), ids.begin(), ids.end());
      stream.push_back(tokenizer.eos_id());
    }
    TransformerConfig config = TransformerConfig::gpt2(tokenizer.vocab_size(), plan.context,
                                                       plan.layers, plan.heads, plan.width);
    config.bos_token = tokenizer.bos_id(), config.eos_token = tokenizer.eos_id(),
    config.pad_token = tokenizer.pad_id();
    Model model(config, {}, a.seed);
    {
      LmBatcher batcher(stream, plan.batch, plan.context, a.seed);
      train_language_model(model, batcher, {},
                           {.steps = plan.pretrain_steps,
                            .lr = plan.pretrain_lr,
                            .min_lr = plan.pretrain_lr / 10,
                            .warmup_steps = 20,
                            .log_every = 50,
                            .eval_every = 0,
                            .metrics_path = a.out / "pretrain_metrics.jsonl",
                            .label = "pretrain"});
      save_model(a.out / "pretrained", model, tokenizer);
    }

    banner("4/9 supervised fine-tuning");
    {
      const ChatFormat chat;
      std::vector<SequenceRow> rows = sft_rows(data.sft, tokenizer, chat);
      int64_t longest = 0;
      for (const auto& r : rows) longest = std::max<int64_t>(longest, r.tokens.size());
      std::fprintf(stderr, "longest SFT row: %lld tokens (context %lld)\n",
                   static_cast<long long>(longest), static_cast<long long>(plan.context));
      const std::vector<SequenceRow> eval_rows(rows.end() - 64, rows.end());
      rows.resize(rows.size() - 64);
      SequenceBatcher batcher(rows, plan.batch, plan.context, tokenizer.pad_id(), a.seed);
      const std::vector<TokenBatch> eval{
          make_sequence_batch(eval_rows, plan.context, tokenizer.pad_id())};
      const LmTrainReport report =
          train_language_model(model, batcher, eval,
                               {.steps = plan.sft_steps,
                                .lr = plan.sft_lr,
                                .min_lr = plan.sft_lr / 10,
                                .warmup_steps = 20,
                                .log_every = 50,
                                .eval_every = 100,
                                .metrics_path = a.out / "sft_metrics.jsonl",
                                .label = "sft"});
      save_model(a.out / "sft", model, tokenizer);
      std::fprintf(stderr, "SFT eval loss %.4f\n", report.eval_loss);
    }
    {  // a peek at what the SFT policy says, scored by the oracle
      const ChatFormat chat;
      const task::TaskWorld& world = task::task_world();
      Rng rng(a.seed);
      TokenSequences prompts;
      for (int i = 0; i < 16; ++i)
        prompts.push_back(chat.encode_prompt(tokenizer, data.prompts_eval[i].prompt));
      const GenerationResult result = generate(model, prompts,
                                               {.sampling = {.temperature = 1.0},
                                                .max_new_tokens = 64,
                                                .eos_token = tokenizer.eos_id(),
                                                .pad_token = tokenizer.pad_id()},
                                               rng);
      double total_score = 0;
      for (int i = 0; i < 16; ++i) {
        const std::string response = chat.decode_response(tokenizer, result.tokens[i]);
        const double score = task::oracle_score(world, data.prompts_eval[i].prompt, response);
        total_score += score;
        if (i < 4)
          std::fprintf(stderr, "  [%+.1f] %s -> %s\n", score, data.prompts_eval[i].prompt.c_str(),
                       response.c_str());
      }
      std::fprintf(stderr, "SFT mean oracle score on 16 eval prompts: %.3f\n", total_score / 16);
    }
  };
  if (stages)
    banner("3-4/9 pretraining and SFT: finished before (--resume)");
  else
    pretrain_and_sft();
  if (a.stop_after == "sft") return;

  const ChatFormat chat;
  const ResponseEnds ends = ResponseEnds::of(tokenizer);
  banner("5/9 token labels from revisions (Levenshtein alignment)");
  const std::vector<PromptLabelRecord> labels = label_revisions(tokenizer, data.revisions, chat);
  write_labels(a.out / "labels.jsonl", labels);
  const LabelCounts counts = count_labels(labels);
  std::fprintf(stderr, "%zu labelled pairs -> %s\n", labels.size(),
               (a.out / "labels.jsonl").string().c_str());
  (void)counts;

  const auto split_off = [](auto all, std::size_t held) {
    held = std::min(held, all.size() / 5);
    decltype(all) tail(all.end() - held, all.end());
    all.resize(all.size() - held);
    return std::pair{all, tail};
  };

  nlohmann::json discriminator_json, reward_model_json;
  if (stages) {
    banner("6-7/9 discriminator and reward model: finished before (--resume)");
    discriminator_json = stages->at("discriminator"),
    reward_model_json = stages->at("reward_model");
  } else {
    banner("6/9 token discriminator (SFT trunk + 2-logit head, soft targets)");
    {
      auto [train, held] = split_off(make_discriminator_examples(tokenizer, labels, chat), 200);
      auto discriminator = discriminator_from_sft<float, Gpt2Arch, D>(a.out / "sft", a.seed);
      const DiscriminatorReport report =
          train_discriminator(discriminator, std::move(train), std::move(held), ends,
                              {.batch_size = 8,
                               .max_steps = plan.discriminator_steps,
                               .seed = a.seed,
                               .log_every = 50,
                               .metrics_path = a.out / "discriminator_metrics.jsonl"});
      save_discriminator(a.out / "discriminator", discriminator, tokenizer, LabelMode::Soft,
                         report.after);
      discriminator_json = report.after.to_json();
      std::fprintf(stderr,
                   "held out: edited-token balanced accuracy %.3f, pairwise accuracy %.3f (%lld "
                   "steps in %.1f s)\n",
                   report.after.balanced_accuracy, report.after.pairwise_accuracy,
                   static_cast<long long>(report.steps), report.seconds);
    }

    banner("7/9 Bradley-Terry sequence reward model");
    {
      std::vector<TokenizedPair> pairs;
      for (const auto& p : data.preferences)
        pairs.push_back(tokenize_preference(tokenizer, chat, p));
      auto [train, held] = split_off(pairs, 200);
      auto reward_model = reward_model_from_sft<float, Gpt2Arch, D>(a.out / "sft", a.seed);
      const RewardModelReport report =
          train_reward_model(reward_model, std::move(train), std::move(held), ends,
                             {.batch_size = 8,
                              .max_steps = plan.reward_model_steps,
                              .seed = a.seed,
                              .log_every = 50,
                              .metrics_path = a.out / "reward_model_metrics.jsonl"});
      save_reward_model(a.out / "reward_model", reward_model, tokenizer, report.normalization,
                        report.after);
      reward_model_json = report.after.to_json();
      std::fprintf(stderr, "held out: pairwise accuracy %.3f (%lld steps in %.1f s)\n",
                   report.after.accuracy, static_cast<long long>(report.steps), report.seconds);
    }
    write_file_atomically(a.out / "stages.json",
                          nlohmann::json{{"settings", settings},
                                         {"discriminator", discriminator_json},
                                         {"reward_model", reward_model_json}}
                                  .dump(1) +
                              "\n");
  }
  if (a.stop_after == "rewards") return;

  banner("8/9 PPO from the SFT policy with each reward kind, and DPO");
  const Model reference = load_model<float, Gpt2Arch, D>(a.out / "sft");
  std::vector<std::string> eval_prompts, train_prompt_texts;
  for (int64_t i = 0; i < std::min<int64_t>(plan.eval_prompts, data.prompts_eval.size()); ++i)
    eval_prompts.push_back(data.prompts_eval[i].prompt);
  TokenSequences train_prompts;
  for (const auto& p : data.prompts_train) {
    train_prompts.push_back(chat.encode_prompt(tokenizer, p.prompt));
    train_prompt_texts.push_back(p.prompt);
  }
  const EvalOptions eval_options{.max_new_tokens = plan.max_new_tokens, .seed = 12345};
  const EvalResult sft_eval =
      evaluate_policy(reference, reference, tokenizer, chat, eval_prompts, eval_options);
  std::fprintf(stderr, "SFT: %s\n", format_eval_summary(sft_eval).c_str());
  std::vector<TokenizedPair> preference_pairs;
  for (const auto& p : data.preferences)
    preference_pairs.push_back(tokenize_preference(tokenizer, chat, p));

  // Every run of a seed shares the seed's PPO sampler streams and the evaluation prompts and
  // seed, so runs of two arms with the same seed are paired.
  std::map<std::string, std::vector<EvalCurve>> curves;   // arm → one curve per seed
  std::map<std::string, std::vector<EvalResult>> finals;  // arm → last evaluation per seed
  std::map<std::string, std::vector<std::vector<EvalResult>>> targeted;  // arm → budget → seeds
  auto dpo_dir = [&](int s) { return a.out / "dpo" / ("seed" + std::to_string(s)) / "policy"; };
  auto has_arm = [&](const std::string& reward) {
    for (const Arm& arm : plan.arms)
      if (arm.reward == reward) return true;
    return false;
  };
  for (int s = 0; s < seeds; ++s) {
    const uint64_t run_seed = a.seed * 1000 + s;
    // DPO first: the "dpo" PPO arm reads this seed's DPO policy as its reward.
    if (has_arm("dpo-offline") || has_arm("dpo")) {
      const fs::path run_dir = a.out / "dpo" / ("seed" + std::to_string(s));
      const nlohmann::json run_settings =
          with_keys(settings, {{"run", "dpo"}, {"run_seed", run_seed}});
      EvalCurve curve;
      if (std::optional<EvalCurve> done = finished_run(a, run_dir, run_settings)) {
        curve = *done;
        std::fprintf(stderr, "dpo seed %d: finished before (--resume)\n", s);
      } else {
        Model policy = load_model<float, Gpt2Arch, D>(a.out / "sft", HeadConfig{.lm = true});
        auto [train, held] = split_off(preference_pairs, 200);
        DpoTrainOptions options{.beta = plan.dpo_beta,
                                .batch_size = 8,
                                .lr = plan.dpo_lr,
                                .min_lr = plan.dpo_lr / 10,
                                .seed = run_seed,
                                .log_every = 50,
                                .metrics_path = run_dir / "metrics.jsonl",
                                .checkpoint_dir = run_dir / "checkpoint",
                                .progress = false,
                                .label = "dpo seed " + std::to_string(s)};
        curve.add(0, sft_eval);
        EvalResult last = sft_eval;
        DpoReport report;
        // Trained in segments, each resuming the last (bitwise one run), evaluated in between.
        for (int64_t step = plan.dpo_eval_every; step <= plan.dpo_steps;
             step += plan.dpo_eval_every) {
          options.max_steps = plan.dpo_steps;
          options.stop_after = step;
          options.resume_from = step > plan.dpo_eval_every ? options.checkpoint_dir : fs::path();
          report = train_dpo(policy, reference, train, held, ends, options);
          last = evaluate_policy(policy, reference, tokenizer, chat, eval_prompts, eval_options);
          curve.add(step, last);
          // The held-out pair accuracy is measured at the end of training only.
          const std::string accuracy =
              std::isfinite(report.after.accuracy)
                  ? " | held-out pair accuracy " + format_number(report.after.accuracy)
                  : "";
          std::fprintf(stderr, "dpo seed %d step %lld: oracle score %.3f | KL %.3f%s\n", s,
                       static_cast<long long>(step), last.mean_score, last.mean_kl,
                       accuracy.c_str());
        }
        save_dpo_policy(dpo_dir(s), policy, tokenizer, {plan.dpo_beta, a.out / "sft"},
                        report.after);
        write_run_record(run_dir, run_settings, curve);
      }
      if (has_arm("dpo-offline")) {
        curves["dpo-offline"].push_back(curve);
        finals["dpo-offline"].push_back(last_point(curve));
      }
    }
    for (const Arm& arm : plan.arms) {
      if (arm.reward == "dpo-offline") continue;
      // The fixed-β run, then (--study) one run per KL budget with β adapting toward it.
      const int64_t runs =
          plan.kl_targeted && arm.kl_targeted ? 1 + int64_t(plan.kl_budgets.size()) : 1;
      for (int64_t r = 0; r < runs; ++r) {
        const double target = r == 0 ? 0.0 : plan.kl_budgets[r - 1];
        const std::string run_name =
            r == 0 ? "seed" + std::to_string(s)
                   : "seed" + std::to_string(s) + "_kl" + format_number(target);
        const fs::path run_dir = a.out / "ppo" / arm.name / run_name;
        const nlohmann::json run_settings = with_keys(settings, {{"run", "ppo"},
                                                                 {"reward", arm.reward},
                                                                 {"rounds", arm.rounds},
                                                                 {"run_seed", run_seed},
                                                                 {"kl_target", target}});
        std::optional<EvalCurve> curve = finished_run(a, run_dir, run_settings);
        if (curve) {
          std::fprintf(stderr, "ppo %s %s: finished before (--resume)\n", arm.name.c_str(),
                       run_name.c_str());
        } else {
          const bool sequence_model = arm.reward.starts_with("sequence");
          const fs::path reward_dir = sequence_model        ? a.out / "reward_model"
                                      : arm.reward == "dpo" ? dpo_dir(s)
                                                            : a.out / "discriminator";
          // With revision rounds the reward reads a discriminator of its own, trained in place.
          std::shared_ptr<Model> discriminator;
          std::optional<RevisionRounds<float, Gpt2Arch, D>> rounds;
          if (arm.rounds) {
            discriminator = std::make_shared<Model>(
                load_discriminator<float, Gpt2Arch, D>(a.out / "discriminator"));
            rounds.emplace(discriminator, tokenizer, train_prompt_texts, labels, task_reviser(),
                           RevisionRoundOptions{.every = plan.revise_every,
                                                .train = {.batch_size = 8,
                                                          .max_steps = plan.revision_steps,
                                                          .warmup_steps = 5,
                                                          .seed = run_seed,
                                                          .progress = false}});
          }
          const RewardSpec spec{.kind = arm.reward,
                                .reward_model = reward_dir,
                                .sequence_model = a.out / "reward_model",
                                .seed = run_seed};
          const AnyTokenReward reward =
              discriminator ? AnyTokenReward(DiscriminatorReward<float, Gpt2Arch, D>(
                                  discriminator, ends, detail::token_reward_options(spec)))
                            : make_token_reward<D>(spec, ends);
          Model policy =
              load_model<float, Gpt2Arch, D>(a.out / "sft", HeadConfig{.lm = true}, run_seed);
          // The critic starts from the trunk of the arm's own reward model (as the authors'
          // released code does, and as `tlcr ppo` does); the DPO arm's from the discriminator's.
          Model critic = make_critic<float, Gpt2Arch, D>(
              sequence_model ? a.out / "reward_model" : a.out / "discriminator", run_seed + 1);
          PpoConfig config = small_ppo_preset();
          config.iterations = plan.ppo_iterations;
          config.max_new_tokens = plan.max_new_tokens;
          config.seed = run_seed;
          config.sample_every = 0;
          config.missing_eos_penalty = plan.missing_eos_penalty;
          config.lr = plan.ppo_lr;
          config.kl_coef = plan.kl_coef;
          config.kl_estimator = plan.kl_estimator;
          config.kl_target = target;
          config.kl_horizon = plan.kl_horizon;
          config.kl_wait_for_target = true;
          PpoTrainer trainer(PpoModels<float, Gpt2Arch, D>{policy, reference, &critic}, reward,
                             train_prompts, config,
                             [&](std::span<const int32_t> ids) { return tokenizer.decode(ids); });
          MetricsLog metrics(run_dir / "metrics.jsonl");
          const ProgressLine progress("ppo " + arm.name + " " + run_name, plan.ppo_iterations);
          std::function<void(int64_t, const Rollout&, nlohmann::json&)> after_iteration;
          if (rounds)
            after_iteration = [&](int64_t it, const Rollout& rollout, nlohmann::json& m) {
              rounds->after_iteration(it, rollout, m);
            };
          const EvaluatedRun run = train_and_evaluate(
              trainer, policy, reference, tokenizer, chat, eval_prompts, eval_options,
              {.iterations = plan.ppo_iterations,
               .eval_every = r == 0 ? plan.eval_every : plan.ppo_iterations},
              metrics, progress, after_iteration);
          if (r == 0) save_model(run_dir / "policy", policy, tokenizer);
          write_run_record(run_dir, run_settings, run.curve);
          curve = run.curve;
        }
        if (r > 0) {
          targeted[arm.name].resize(plan.kl_budgets.size());
          targeted[arm.name][r - 1].push_back(last_point(*curve));
          continue;
        }
        curves[arm.name].push_back(*curve);
        finals[arm.name].push_back(last_point(*curve));
      }
    }
  }

  banner("9/9 report");
  nlohmann::ordered_json results;
  results["config"] = {{"quick", a.quick},
                       {"smoke", a.smoke},
                       {"study", a.study},
                       {"resumed", a.resume},
                       {"seeds", seeds},
                       {"seed", a.seed},
                       {"ppo_iterations", plan.ppo_iterations},
                       {"kl_budgets", plan.kl_budgets},
                       {"threads", num_threads()},
                       {"device", a.device}};
  results["discriminator"] = discriminator_json;
  results["reward_model"] = reward_model_json;
  // Over seeds: "std" the sample deviation, "ci95" the half-width of the 95% interval of the mean
  // (Student's t). SFT has a single evaluation: no spread over seeds (its spread over prompts is
  // reported separately).
  results["sft"] = {
      {"oracle_score",
       {{"mean", sft_eval.mean_score}, {"std", 0.0}, {"std_over_prompts", sft_eval.std_score}}},
      {"kl", 0.0},
      {"length", sft_eval.mean_length},
      {"win_rate", 0.5},
      {"repetition_rate", sft_eval.repetition_rate},
      {"max_score", sft_eval.mean_max_score}};
  auto interval_json = [](const Interval95& i) {
    return nlohmann::ordered_json{
        {"mean", number(i.mean)}, {"ci95", number(i.half_width)}, {"seeds", i.count}};
  };
  auto interval_text = [](const Interval95& i, int digits = 3) {
    if (!std::isfinite(i.mean)) return std::string("–");
    return format_number(i.mean, digits) +
           (std::isfinite(i.half_width) ? " ± " + format_number(i.half_width, 2) : "");
  };
  // "| <first> | <prefix><b> | … |" and its separator row, one column per KL budget.
  auto budget_header = [&](const std::string& first, const std::string& prefix) {
    std::string header = "| " + first + " |";
    for (double b : plan.kl_budgets) header += " " + prefix + format_number(b) + " |";
    header += "\n|---|";
    for (std::size_t i = 0; i < plan.kl_budgets.size(); ++i) header += "---|";
    return header + "\n";
  };
  std::string table = "| arm | oracle score | KL to SFT | length | win rate vs SFT | repetition |";
  for (double b : plan.kl_budgets) table += " score @KL " + format_number(b) + " |";
  table += "\n|---|---|---|---|---|---|";
  for (std::size_t i = 0; i < plan.kl_budgets.size(); ++i) table += "---|";
  table += "\n";
  char row[512];
  std::snprintf(row, sizeof row, "| sft | %.3f | 0 | %.1f | 0.5 | %.2f |", sft_eval.mean_score,
                sft_eval.mean_length, sft_eval.repetition_rate);
  table += row;
  for (std::size_t i = 0; i < plan.kl_budgets.size(); ++i) table += " |";
  table += "\n";
  LinePlot by_iteration{"Oracle score on held-out prompts during training",
                        "PPO iteration (DPO: step)",
                        "oracle score",
                        {}};
  LinePlot by_kl{"Reward-KL frontier: oracle score at each KL budget (mean, 95% interval)",
                 "KL(policy || SFT) per response",
                 "oracle score",
                 {}};
  LinePlot by_kl_curves{"Oracle score against KL to SFT during training (mean over seeds)",
                        "KL(policy || SFT) per response",
                        "oracle score",
                        {}};
  // score_at_kl of every seed: arm → budget → seeds (the pairing keeps the seed order).
  std::map<std::string, std::vector<std::vector<double>>> at_budget;
  for (const Arm& arm : plan.arms)
    for (double budget : plan.kl_budgets) {
      std::vector<double> at;
      for (const EvalCurve& c : curves[arm.name]) at.push_back(score_at_kl(c, budget));
      at_budget[arm.name].push_back(at);
    }
  for (const Arm& arm : plan.arms) {
    std::vector<double> scores, kls, lengths, wins, reps;
    for (const EvalResult& r : finals[arm.name])
      scores.push_back(r.mean_score), kls.push_back(r.mean_kl), lengths.push_back(r.mean_length),
          wins.push_back(r.win_rate), reps.push_back(r.repetition_rate);
    const FiniteStats score = finite_mean_std(scores);
    const Interval95 score_ci = mean_interval95(scores);
    nlohmann::ordered_json entry{
        {"oracle_score",
         {{"mean", score.mean}, {"std", score.std}, {"ci95", number(score_ci.half_width)}}},
        {"kl", finite_mean_std(kls).mean},
        {"length", finite_mean_std(lengths).mean},
        {"win_rate", finite_mean_std(wins).mean},
        {"repetition_rate", finite_mean_std(reps).mean}};
    std::snprintf(row, sizeof row, "| %s | %s | %.2f | %.1f | %.2f | %.2f |", arm.name.c_str(),
                  interval_text(score_ci, 4).c_str(), finite_mean_std(kls).mean,
                  finite_mean_std(lengths).mean, finite_mean_std(wins).mean,
                  finite_mean_std(reps).mean);
    table += row;
    nlohmann::ordered_json at_kl, at_kl_ci, versus_sequence;
    PlotSeries frontier{arm.name, {}, {}, {}};
    for (std::size_t b = 0; b < plan.kl_budgets.size(); ++b) {
      const std::string key = format_number(plan.kl_budgets[b]);
      const Interval95 m = mean_interval95(at_budget[arm.name][b]);
      at_kl[key] = number(m.mean);
      at_kl_ci[key] = interval_json(m);
      table += " " + interval_text(m) + " |";
      if (std::isfinite(m.mean))
        frontier.x.push_back(plan.kl_budgets[b]), frontier.y.push_back(m.mean),
            frontier.spread.push_back(std::isfinite(m.half_width) ? m.half_width : 0.0);
      if (arm.name != "sequence" && at_budget.count("sequence"))
        versus_sequence[key] =
            interval_json(paired_difference95(at_budget[arm.name][b], at_budget["sequence"][b]));
    }
    table += "\n";
    entry["score_at_kl"] = at_kl;
    entry["score_at_kl_ci95"] = at_kl_ci;
    if (!versus_sequence.empty()) entry["score_at_kl_minus_sequence"] = versus_sequence;
    if (targeted.count(arm.name)) {  // --study: β adapted toward each budget
      nlohmann::ordered_json kl_targeted;
      for (std::size_t b = 0; b < plan.kl_budgets.size(); ++b) {
        std::vector<double> score_b, kl_b, sequence_b;
        for (const EvalResult& r : targeted[arm.name][b])
          score_b.push_back(r.mean_score), kl_b.push_back(r.mean_kl);
        if (targeted.count("sequence"))
          for (const EvalResult& r : targeted["sequence"][b]) sequence_b.push_back(r.mean_score);
        nlohmann::ordered_json point{{"score", interval_json(mean_interval95(score_b))},
                                     {"kl", interval_json(mean_interval95(kl_b))}};
        if (arm.name != "sequence" && sequence_b.size() == score_b.size())
          point["score_minus_sequence"] = interval_json(paired_difference95(score_b, sequence_b));
        kl_targeted[format_number(plan.kl_budgets[b])] = point;
      }
      entry["kl_targeted"] = kl_targeted;
    }
    results[arm.name] = entry;
    // Plots: the mean over seeds at each evaluation point, ± std as a band; the frontier at the
    // budgets with its 95% interval.
    const MeanCurve mean = mean_curve(curves[arm.name]);
    by_iteration.series.push_back({arm.name, mean.iteration, mean.score, mean.score_std});
    by_kl_curves.series.push_back({arm.name, mean.kl, mean.score, {}});
    by_kl.series.push_back(frontier);
  }
  // Paired differences against the sequence baseline: the same seeds, prompts and samplers.
  if (at_budget.count("sequence")) {
    table +=
        "\nScore at each KL budget minus the sequence baseline's (paired by seed; mean ± 95% "
        "interval):\n\n" +
        budget_header("arm", "@KL ");
    for (const Arm& arm : plan.arms) {
      if (arm.name == "sequence") continue;
      table += "| " + arm.name + " |";
      for (std::size_t b = 0; b < plan.kl_budgets.size(); ++b)
        table +=
            " " +
            interval_text(paired_difference95(at_budget[arm.name][b], at_budget["sequence"][b])) +
            " |";
      table += "\n";
    }
  }
  if (!targeted.empty()) {
    table +=
        "\nKL-targeted runs (β adapted toward each budget): final oracle score (achieved KL):"
        "\n\n" +
        budget_header("arm", "target ");
    for (const Arm& arm : plan.arms) {
      if (!targeted.count(arm.name)) continue;
      table += "| " + arm.name + " |";
      for (std::size_t b = 0; b < plan.kl_budgets.size(); ++b) {
        std::vector<double> score_b, kl_b;
        for (const EvalResult& r : targeted[arm.name][b])
          score_b.push_back(r.mean_score), kl_b.push_back(r.mean_kl);
        table += " " + interval_text(mean_interval95(score_b)) + " (" +
                 format_number(finite_mean_std(kl_b).mean, 2) + ") |";
      }
      table += "\n";
    }
  }
  results["curves"] = nlohmann::json::object();
  for (const auto& [name, runs] : curves)
    for (const EvalCurve& c : runs)
      results["curves"][name].push_back({{"iteration", c.iteration},
                                         {"oracle_score", c.score},
                                         {"kl", c.kl},
                                         {"length", c.length},
                                         {"win_rate", c.win_rate},
                                         {"repetition_rate", c.repetition}});
  results["wall_seconds"] = total.seconds();
  write_file_atomically(a.out / "results.json", results.dump(2) + "\n");
  write_file_atomically(a.out / "results.md", table);
  by_iteration.write(a.out / "score_vs_iteration.svg");
  by_kl.write(a.out / "score_vs_kl.svg");
  by_kl_curves.write(a.out / "score_vs_kl_curves.svg");

  // The per-token view: TLCR's rewards on a few held-out SFT responses.
  {
    const AnyTokenReward tlcr_reward =
        make_token_reward<D>({.kind = "tlcr", .reward_model = a.out / "discriminator"}, ends);
    std::vector<SftRecord> shown;
    for (std::size_t i = 0; i < 8 && i < sft_eval.samples.size(); ++i)
      shown.push_back({sft_eval.samples[i].prompt, sft_eval.samples[i].response});
    const auto views = view_rewards(tlcr_reward, tokenizer, shown, chat);
    write_reward_views_html(a.out / "token_rewards.html", views,
                            "TLCR token rewards on SFT responses");
    if (!views.empty())
      std::fprintf(stderr, "%s\n", render_reward_view_text(views.front(), false).c_str());
  }
  std::printf("\n%s\n", table.c_str());
  std::printf(
      "results: %s/results.json, plots: score_vs_iteration.svg, score_vs_kl.svg, per-token view: "
      "token_rewards.html\n",
      a.out.string().c_str());
  std::fprintf(stderr, "demo finished in %s\n", format_duration(total.seconds()).c_str());
}

void run_demo(const DemoArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_demo_on<D>(a); });
}

}  // namespace

void add_demo_command(CLI::App& app) {
  static DemoArgs a;
  CLI::App* c =
      app.add_subcommand("demo", "Run the whole TLCR pipeline on the built-in task (no downloads)");
  c->add_option("--out", a.out, "output directory");
  c->add_flag("--quick", a.quick, "smaller run (under 3 minutes on 2 cores, one seed)");
  c->add_flag("--study", a.study,
              "every reward kind, rounds on and off, DPO, five seeds and KL-targeted runs, with "
              "95% intervals and paired differences (hours on 2 cores)");
  c->add_flag("--smoke", a.smoke,
              "tiny run that only checks the pipeline works (seconds per stage)");
  c->add_option("--seeds", a.seeds, "seeds per arm (default 3; 1 with --quick; 5 with --study)");
  c->add_option("--seed", a.seed, "seed of the task, the models and the runs");
  c->add_flag("--resume", a.resume,
              "continue a stopped demo in --out: reuse its trained stages and finished runs "
              "(same settings and thread count; more seeds or arms may be added)");
  c->add_option(
       "--stop-after", a.stop_after,
       "stop after a stage: sft, or rewards (after the discriminator and the reward model)")
      ->check(CLI::IsMember({"sft", "rewards"}));
  add_device_option(*c, a.device);
  c->callback([] { run_demo(a); });
}

}  // namespace tlcr::cli
