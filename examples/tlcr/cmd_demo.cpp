// examples/tlcr/cmd_demo.cpp — `tlcr demo`: the whole TLCR method on the built-in task, end to end.
//
//   task files → tokenizer → pretraining → SFT → token labels → discriminator ┐
//                                                            → Bradley–Terry RM ┤
//   PPO from the same SFT policy with each reward kind (tlcr, discrete, sequence, hybrid),
//   evaluated every few iterations on held-out prompts (oracle score, KL to SFT) → results.json,
//   a table, SVG plots of score against iteration and against KL, and an HTML per-token view.
// The runs and their statistics are the library's (rlhf/task/experiment.hpp); this file sizes the
// stages, chains them and writes the report.
// Every stage writes its files under --out, so each can be inspected or rerun with its own
// subcommand.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <tlcr/io/svg_plot.hpp>
#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/discriminator.hpp>
#include <tlcr/rlhf/labels.hpp>
#include <tlcr/rlhf/ppo.hpp>
#include <tlcr/rlhf/reward_view.hpp>
#include <tlcr/rlhf/sequence_reward.hpp>
#include <tlcr/rlhf/task.hpp>
#include <tlcr/rlhf/task/experiment.hpp>
#include <tlcr/text/bpe_train.hpp>
#include <tlcr/train/sft_data.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

// Sizes of every stage. Default: about 9 minutes on 2 cores (two seeds); --quick: under 3 minutes
// (one seed);
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
  int64_t max_new_tokens = 48;
  std::vector<std::string> kinds{"tlcr", "discrete", "sequence", "hybrid"};
  std::vector<double> kl_budgets{0.5, 1.0, 2.0, 4.0};

  int seeds = 2;

  static DemoPlan make(bool quick, bool smoke) {
    DemoPlan p;
    if (quick) {
      p.pretrain_steps = 150, p.sft_steps = 200, p.discriminator_steps = 150,
      p.reward_model_steps = 150;
      p.ppo_iterations = 24, p.eval_every = 6, p.eval_prompts = 40, p.seeds = 1;
    }
    if (smoke) {
      p.layers = 1, p.width = 32, p.heads = 2, p.batch = 8;
      p.pretrain_steps = 10, p.sft_steps = 10, p.discriminator_steps = 5, p.reward_model_steps = 5;
      p.ppo_iterations = 2, p.eval_every = 1, p.eval_prompts = 8, p.seeds = 2,
      p.max_new_tokens = 16;
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
  bool quick = false, smoke = false;
  int seeds = 0;  // 0: the plan's
  uint64_t seed = 1;
  std::string stop_after;
};

void banner(const char* stage) {
  std::fprintf(stderr, "\n== %s ==\n", stage);
}

void run_demo(const DemoArgs& a) {
  const DemoPlan plan = DemoPlan::make(a.quick, a.smoke);
  const int seeds = a.seeds > 0 ? a.seeds : plan.seeds;
  Stopwatch total;
  fs::create_directories(a.out);

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
  Gpt2<float> model(config, {}, a.seed);
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
    const LmTrainReport report = train_language_model(model, batcher, eval,
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

  banner("6/9 token discriminator (SFT trunk + 2-logit head, soft targets)");
  nlohmann::json discriminator_json, reward_model_json;
  {
    auto [train, held] = split_off(make_discriminator_examples(tokenizer, labels, chat), 200);
    auto discriminator = discriminator_from_sft<float, Gpt2Arch>(a.out / "sft", a.seed);
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
    for (const auto& p : data.preferences) pairs.push_back(tokenize_preference(tokenizer, chat, p));
    auto [train, held] = split_off(pairs, 200);
    auto reward_model = reward_model_from_sft<float, Gpt2Arch>(a.out / "sft", a.seed);
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
  if (a.stop_after == "rewards") return;

  banner("8/9 PPO from the SFT policy with each reward kind");
  const Gpt2<float> reference = load_model<float, Gpt2Arch>(a.out / "sft");
  std::vector<std::string> eval_prompts;
  for (int64_t i = 0; i < std::min<int64_t>(plan.eval_prompts, data.prompts_eval.size()); ++i)
    eval_prompts.push_back(data.prompts_eval[i].prompt);
  TokenSequences train_prompts;
  for (const auto& p : data.prompts_train)
    train_prompts.push_back(chat.encode_prompt(tokenizer, p.prompt));
  const EvalOptions eval_options{.max_new_tokens = plan.max_new_tokens, .seed = 12345};
  const EvalResult sft_eval =
      evaluate_policy(reference, reference, tokenizer, chat, eval_prompts, eval_options);
  std::fprintf(stderr, "SFT: %s\n", format_eval_summary(sft_eval).c_str());

  std::map<std::string, std::vector<EvalCurve>> curves;
  std::map<std::string, std::vector<EvalResult>> finals;
  for (const std::string& kind : plan.kinds) {
    for (int s = 0; s < seeds; ++s) {
      const uint64_t run_seed = a.seed * 1000 + s;
      const fs::path run_dir = a.out / "ppo" / kind / ("seed" + std::to_string(s));
      const AnyTokenReward reward = make_token_reward(
          {.kind = kind,
           .reward_model = kind == "sequence" ? a.out / "reward_model" : a.out / "discriminator",
           .sequence_model = a.out / "reward_model",
           .seed = run_seed},
          ends);
      Gpt2<float> policy =
          load_model<float, Gpt2Arch>(a.out / "sft", HeadConfig{.lm = true}, run_seed);
      // The critic starts from the trunk of the kind's own reward model (as the authors' released
      // code does, and as `tlcr ppo` does).
      Gpt2<float> critic = make_critic<float, Gpt2Arch>(
          kind == "sequence" ? a.out / "reward_model" : a.out / "discriminator", run_seed + 1);
      PpoConfig config = small_ppo_preset();
      config.iterations = plan.ppo_iterations;
      config.max_new_tokens = plan.max_new_tokens;
      config.seed = run_seed;
      config.sample_every = 0;
      config.missing_eos_penalty = plan.missing_eos_penalty;
      config.lr = plan.ppo_lr;
      config.kl_coef = plan.kl_coef;
      PpoTrainer trainer(PpoModels<float, Gpt2Arch>{policy, reference, &critic}, reward,
                         train_prompts, config,
                         [&](std::span<const int32_t> ids) { return tokenizer.decode(ids); });
      MetricsLog metrics(run_dir / "metrics.jsonl");
      const ProgressLine progress("ppo " + kind + " seed " + std::to_string(s),
                                  plan.ppo_iterations);
      const EvaluatedRun run = train_and_evaluate(
          trainer, policy, reference, tokenizer, chat, eval_prompts, eval_options,
          {.iterations = plan.ppo_iterations, .eval_every = plan.eval_every}, metrics, progress);
      save_model(run_dir / "policy", policy, tokenizer);
      curves[kind].push_back(run.curve);
      finals[kind].push_back(run.last);
    }
  }

  banner("9/9 report");
  nlohmann::ordered_json results;
  results["config"] = {{"quick", a.quick},
                       {"smoke", a.smoke},
                       {"seeds", seeds},
                       {"seed", a.seed},
                       {"ppo_iterations", plan.ppo_iterations},
                       {"threads", num_threads()}};
  results["discriminator"] = discriminator_json;
  results["reward_model"] = reward_model_json;
  // Every kind's "std" is over seeds; SFT has a single evaluation, so its std is 0 and its spread
  // over prompts is reported separately.
  results["sft"] = {
      {"oracle_score",
       {{"mean", sft_eval.mean_score}, {"std", 0.0}, {"std_over_prompts", sft_eval.std_score}}},
      {"kl", 0.0},
      {"length", sft_eval.mean_length},
      {"win_rate", 0.5},
      {"repetition_rate", sft_eval.repetition_rate},
      {"max_score", sft_eval.mean_max_score}};
  std::string table =
      "| reward | oracle score | KL to SFT | length | win rate vs SFT | repetition |";
  for (double b : plan.kl_budgets) table += " score @KL " + format_number(b) + " |";
  table += "\n|---|---|---|---|---|---|";
  for (std::size_t i = 0; i < plan.kl_budgets.size(); ++i) table += "---|";
  table += "\n";
  char row[512];
  // SFT is one deterministic evaluation: no spread over seeds (its spread over prompts is in the
  // JSON).
  std::snprintf(row, sizeof row, "| sft | %.3f | 0 | %.1f | 0.5 | %.2f |", sft_eval.mean_score,
                sft_eval.mean_length, sft_eval.repetition_rate);
  table += row;
  for (std::size_t i = 0; i < plan.kl_budgets.size(); ++i) table += " |";
  table += "\n";
  LinePlot by_iteration{
      "Oracle score on held-out prompts during PPO", "PPO iteration", "oracle score", {}};
  LinePlot by_kl{"Reward-KL frontier: oracle score against KL to SFT",
                 "KL(policy || SFT) per response",
                 "oracle score",
                 {}};
  for (const std::string& kind : plan.kinds) {
    std::vector<double> scores, kls, lengths, wins, reps;
    for (const EvalResult& r : finals[kind])
      scores.push_back(r.mean_score), kls.push_back(r.mean_kl), lengths.push_back(r.mean_length),
          wins.push_back(r.win_rate), reps.push_back(r.repetition_rate);
    const FiniteStats score = finite_mean_std(scores);
    nlohmann::ordered_json entry{{"oracle_score", {{"mean", score.mean}, {"std", score.std}}},
                                 {"kl", finite_mean_std(kls).mean},
                                 {"length", finite_mean_std(lengths).mean},
                                 {"win_rate", finite_mean_std(wins).mean},
                                 {"repetition_rate", finite_mean_std(reps).mean}};
    nlohmann::ordered_json at_kl;
    const std::string score_text =
        format_number(score.mean, 4) + (score.count > 1 ? " ± " + format_number(score.std, 2) : "");
    std::snprintf(row, sizeof row, "| %s | %s | %.2f | %.1f | %.2f | %.2f |", kind.c_str(),
                  score_text.c_str(), finite_mean_std(kls).mean, finite_mean_std(lengths).mean,
                  finite_mean_std(wins).mean, finite_mean_std(reps).mean);
    table += row;
    for (double budget : plan.kl_budgets) {
      std::vector<double> at;
      for (const EvalCurve& c : curves[kind]) at.push_back(score_at_kl(c, budget));
      const FiniteStats m = finite_mean_std(at);
      at_kl[format_number(budget)] = number(m.mean);
      table += std::isfinite(m.mean) ? " " + format_number(m.mean, 3) + " |" : " – |";
    }
    table += "\n";
    entry["score_at_kl"] = at_kl;
    results[kind] = entry;
    // Plots: the mean over seeds at each evaluation point, ± std as a band.
    const MeanCurve mean = mean_curve(curves[kind]);
    by_iteration.series.push_back({kind, mean.iteration, mean.score, mean.score_std});
    by_kl.series.push_back({kind, mean.kl, mean.score, {}});
  }
  results["curves"] = nlohmann::json::object();
  for (const auto& [kind, runs] : curves)
    for (const EvalCurve& c : runs)
      results["curves"][kind].push_back({{"iteration", c.iteration},
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

  // The per-token view: TLCR's rewards on a few held-out SFT responses.
  {
    const AnyTokenReward tlcr_reward =
        make_token_reward({.kind = "tlcr", .reward_model = a.out / "discriminator"}, ends);
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

}  // namespace

void add_demo_command(CLI::App& app) {
  static DemoArgs a;
  CLI::App* c =
      app.add_subcommand("demo", "Run the whole TLCR pipeline on the built-in task (no downloads)");
  c->add_option("--out", a.out, "output directory");
  c->add_flag("--quick", a.quick, "smaller run (under 3 minutes on 2 cores, one seed)");
  c->add_flag("--smoke", a.smoke,
              "tiny run that only checks the pipeline works (seconds per stage)");
  c->add_option("--seeds", a.seeds, "PPO seeds per reward kind (default 2; 1 with --quick)");
  c->add_option("--seed", a.seed, "seed of the task, the models and the runs");
  c->add_option(
       "--stop-after", a.stop_after,
       "stop after a stage: sft, or rewards (after the discriminator and the reward model)")
      ->check(CLI::IsMember({"sft", "rewards"}));
  c->callback([] { run_demo(a); });
}

}  // namespace tlcr::cli
