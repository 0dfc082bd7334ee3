// examples/tlcr/cmd_ppo.cpp — `tlcr ppo` (PPO against any reward kind) and `tlcr eval` (held-out
// evaluation on the built-in task), both thin layers over rlhf/ppo.hpp and rlhf/evaluate.hpp.
//
// tlcr ppo writes into --out:
//   config.json, model.safetensors, tokenizer.json   the trained policy (a model directory)
//   checkpoint/                                      the resumable state (--resume out/checkpoint)
//   metrics.jsonl, samples.jsonl                     one record per iteration / per sample table
//   ppo_config.json                                  the settings used (preset + --config + flags)
// The value function is a separate critic started from a trunk (--critic DIR; by default the
// reward model's, as the TLCR runs did, or the policy's when the reward has no model), or with
// --value-head a head on the policy trunk. With --revise-every K, the discriminator keeps learning
// from revisions of the policy's samples (rlhf/revision_rounds.hpp): --reviser builtin (the
// built-in task's) or a command; --labels names the labels it was trained on.
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include <tlcr/rlhf/any_reward.hpp>
#include <tlcr/rlhf/external_scorer.hpp>
#include <tlcr/rlhf/ppo.hpp>
#include <tlcr/rlhf/revision_rounds.hpp>
#include <tlcr/rlhf/task/evaluate.hpp>
#include <tlcr/rlhf/task/revision.hpp>

#include "common.hpp"

namespace tlcr::cli {

namespace {

struct PpoArgs {
  fs::path policy, reference, prompts, out, config_file, metrics, samples, resume, tokenizer,
      critic;
  std::string preset = "small";
  RewardSpec reward;
  bool value_head = false;
  std::optional<int64_t> batch;
  std::map<std::string, std::string> settings;  // PpoConfig key → the flag's text, as given
  // On-policy revision rounds (discriminator rewards only).
  RevisionRoundOptions rounds;
  std::string reviser = "builtin";  // or a command
  fs::path labels;                  // the discriminator's original labels
  std::string device = "cpu";
};

bool is_discriminator_kind(const std::string& kind) {
  return kind != "random" && kind != "hybrid" && !kind.starts_with("sequence");
}

// A flag's text as a JSON value: a number, true / false, or else the bare word as a string.
nlohmann::json setting_value(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return text;
  }
}

// The preset, then --config, then the flags, each overriding the one before.
PpoConfig ppo_config(const PpoArgs& a) {
  PpoConfig config = a.preset == "tlcr" ? tlcr_ppo_preset() : small_ppo_preset();
  if (!a.config_file.empty())
    config = apply_ppo_config_json(config, read_json_file(a.config_file), a.config_file.string());
  if (a.batch)
    config.batch_size = *a.batch, config.minibatch_size = std::min(config.minibatch_size, *a.batch);
  nlohmann::json flags = nlohmann::json::object();
  for (const auto& [key, text] : a.settings) flags[key] = setting_value(text);
  config = apply_ppo_config_json(config, flags, "command line");
  config.validate();
  return config;
}

// "kl_coef" → "--kl-coef".
std::string flag_name(std::string_view key) {
  std::string flag = "--";
  for (const char c : key) flag += c == '_' ? '-' : c;
  return flag;
}

// One flag per PpoConfig setting (but batch_size: --batch), in option groups, with both presets'
// values in the help.
void add_ppo_setting_flags(CLI::App& command, PpoArgs& a) {
  const nlohmann::json small = to_json(small_ppo_preset()), tlcr = to_json(tlcr_ppo_preset());
  std::map<std::string, CLI::Option_group*> groups;
  for (const std::string group :
       {"rollout", "reward shaping", "KL", "optimisation", "critic", "reporting"})
    groups[group] = command.add_option_group("PPO: " + group);
  for (const PpoSettingInfo& setting : ppo_setting_info()) {
    const std::string key = setting.name;
    if (key == "batch_size") continue;  // --batch, which also caps minibatch_size
    const std::string help = std::string(setting.help) + " [small: " + small[key].dump() +
                             ", tlcr: " + tlcr[key].dump() + "]";
    groups.at(setting.group)
        ->add_option_function<std::string>(
            flag_name(key), [&a, key](const std::string& text) { a.settings[key] = text; }, help)
        ->type_name("VALUE");
  }
}

template <class Arch, class D>
void run_ppo_with(const PpoArgs& a, PpoConfig config) {
  using Model = Transformer<float, Arch, D>;
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.policy);
  const ChatFormat chat;
  TokenSequences prompts;
  int64_t longest = 0;
  for (const PromptRecord& record :
       require_records(read_jsonl<PromptRecord>(a.prompts).records, a.prompts)) {
    prompts.push_back(chat.encode_prompt(tokenizer, record.prompt));
    longest = std::max<int64_t>(longest, prompts.back().size());
  }
  TLCR_CHECK(!prompts.empty(), a.prompts.string(), ": no prompts");
  // Responses must fit the context after the longest prompt.
  const int64_t context = read_model_config(a.policy).first.context_length;
  TLCR_CHECK(longest < context, a.prompts.string(), ": a prompt of ", longest,
             " tokens leaves no room for a response in the context of ", context);
  if (config.max_new_tokens > context - longest) {
    if (is_leader())
      std::fprintf(stderr,
                   "ppo: max_new_tokens %lld -> %lld (the longest prompt has %lld tokens, the "
                   "context %lld)\n",
                   static_cast<long long>(config.max_new_tokens),
                   static_cast<long long>(context - longest), static_cast<long long>(longest),
                   static_cast<long long>(context));
    config.max_new_tokens = context - longest;
  }

  RewardSpec spec = a.reward;
  spec.seed = config.seed;
  const ResponseEnds ends = ResponseEnds::of(tokenizer);
  // With revision rounds the reward reads a discriminator that the rounds train in place.
  std::shared_ptr<Model> discriminator;
  std::optional<RevisionRounds<float, Arch, D>> rounds;
  if (a.rounds.every > 0) {
    TLCR_CHECK(is_discriminator_kind(spec.kind),
               "ppo: --revise-every needs a discriminator reward ",
               "(tlcr, tlcr-tanh, discrete, …), found '", spec.kind, "'");
    TLCR_CHECK(!a.labels.empty(), "ppo: --revise-every needs --labels, the labels the ",
               "discriminator was trained on (it keeps training on them with the new ones)");
    detail::require_dir(spec.reward_model, spec.kind, "a discriminator directory (--reward-model)");
    discriminator = std::make_shared<Model>(load_discriminator<float, Arch, D>(spec.reward_model));
    std::vector<std::string> prompt_texts;
    for (const PromptRecord& record : read_jsonl<PromptRecord>(a.prompts).records)
      prompt_texts.push_back(record.prompt);
    RevisionRoundOptions options = a.rounds;
    options.train.seed = config.seed;
    rounds.emplace(discriminator, tokenizer, prompt_texts,
                   require_records(read_labels(a.labels).records, a.labels),
                   a.reviser == "builtin" ? task_reviser() : external_reviser(a.reviser), options);
  }
  const AnyTokenReward reward = discriminator
                                    ? AnyTokenReward(DiscriminatorReward<float, Arch, D>(
                                          discriminator, ends, detail::token_reward_options(spec)))
                                    : make_token_reward<D>(spec, ends);

  const fs::path reference_dir = a.reference.empty() ? a.policy : a.reference;
  const Model reference = load_model<float, Arch, D>(reference_dir);
  std::optional<Model> critic;
  Model policy = load_model<float, Arch, D>(a.policy, HeadConfig{.lm = true, .value = a.value_head},
                                            config.seed);
  if (!a.value_head) {
    const fs::path trunk = !a.critic.empty()              ? a.critic
                           : !spec.reward_model.empty()   ? spec.reward_model
                           : !spec.sequence_model.empty() ? spec.sequence_model
                                                          : a.policy;
    critic.emplace(make_critic<float, Arch, D>(trunk, config.seed + 1));
    if (is_leader())
      std::fprintf(stderr, "ppo: critic from the trunk of %s\n", trunk.string().c_str());
  }

  if (is_leader()) {  // under mpirun rank 0 alone writes
    fs::create_directories(a.out);
    write_file_atomically(a.out / "ppo_config.json", to_json(config).dump(2) + "\n");
  }
  PpoRunOptions run;
  run.checkpoint_dir = a.out / "checkpoint";
  run.metrics_path = a.metrics.empty() ? a.out / "metrics.jsonl" : a.metrics;
  run.samples_path = a.samples.empty() ? a.out / "samples.jsonl" : a.samples;
  run.resume_from = a.resume;
  run.color = ::isatty(fileno(stderr)) != 0;
  run.label = "ppo[" + reward.name() + "]";
  if (rounds) {
    run.after_iteration = [&](int64_t iteration, const Rollout& rollout, nlohmann::json& m) {
      rounds->after_iteration(iteration, rollout, m);
    };
    run.save_extra = [&](const fs::path& dir) { rounds->save(dir); };
    run.resume_extra = [&](const fs::path& dir) { rounds->resume(dir); };
  }
  const TokenDecoder decode = [&](std::span<const int32_t> ids) { return tokenizer.decode(ids); };
  PpoReport report;
  with_communicator(
      [&](const auto& comm) {  // data-parallel under mpirun (PpoConfig::micro_batches)
        PpoTrainer<float, Arch, AnyTokenReward, D, std::decay_t<decltype(comm)>> trainer(
            {policy, reference, critic ? &*critic : nullptr}, reward, std::move(prompts), config,
            decode, comm);
        report = trainer.train(run);
      });
  if (!is_leader()) return;

  save_model(a.out, policy, tokenizer);
  if (rounds) {  // the discriminator as the last round left it
    save_discriminator(a.out / "discriminator", *discriminator, tokenizer, LabelMode::Soft);
    std::printf("ppo: %lld revision rounds; discriminator -> %s\n",
                static_cast<long long>(rounds->rounds()),
                (a.out / "discriminator").string().c_str());
  }
  const nlohmann::json& m = report.last_metrics;
  if (m.is_object())
    std::printf(
        "ppo: %lld iterations, score %+.3f, KL %.4f, rlhf reward %+.3f, %.1f tokens per response "
        "-> %s\n",
        static_cast<long long>(report.iterations), m["objective/scores"].get<double>(),
        m["objective/kl"].get<double>(), m["objective/rlhf_reward"].get<double>(),
        m["tokens/responses_len_mean"].get<double>(), a.out.string().c_str());
  else
    std::printf("ppo: nothing to do (%lld iterations already done) -> %s\n",
                static_cast<long long>(report.iterations), a.out.string().c_str());
}

void run_ppo(const PpoArgs& a) {
  with_device(a.device, [&]<class D>(D) {
    const PpoConfig config = ppo_config(a);
    with_architecture(a.policy, [&](auto arch) { run_ppo_with<decltype(arch), D>(a, config); });
  });
}

struct EvalArgs {
  fs::path policy, reference, prompts, tokenizer, out;
  EvalOptions options;
  int64_t limit = 0;
  std::string scorer;  // a command (rlhf/external_scorer.hpp); "" = the oracle, if it applies
  std::string device = "cpu";
};

// Scored by --scorer if given, else by the built-in task's oracle when every prompt is the
// task's, else not scored (KL, length, repetition and distinct-n still are).
template <class Arch, class D>
EvalResult run_eval_with(const EvalArgs& a, const BpeTokenizer& tokenizer,
                         const std::vector<std::string>& prompts) {
  const Transformer<float, Arch, D> policy = load_model<float, Arch, D>(a.policy);
  const Transformer<float, Arch, D> reference = load_model<float, Arch, D>(a.reference);
  if (!a.scorer.empty()) {
    const ResponseScorer scorer = external_scorer(a.scorer);
    return evaluate_policy(policy, reference, tokenizer, ChatFormat{}, prompts, a.options, &scorer);
  }
  if (are_task_prompts(prompts))
    return evaluate_policy(policy, reference, tokenizer, ChatFormat{}, prompts, a.options);
  std::fprintf(stderr,
               "eval: the prompts are not the built-in task's and no --scorer was given: "
               "responses are not scored\n");
  return evaluate_policy(policy, reference, tokenizer, ChatFormat{}, prompts, a.options,
                         static_cast<const ResponseScorer*>(nullptr));
}

template <class D>
void run_eval_on(const EvalArgs& a) {
  const BpeTokenizer tokenizer = find_tokenizer(a.tokenizer, a.policy);
  std::vector<std::string> prompts;
  for (const PromptRecord& record :
       require_records(read_jsonl<PromptRecord>(a.prompts).records, a.prompts)) {
    if (a.limit > 0 && static_cast<int64_t>(prompts.size()) == a.limit) break;
    prompts.push_back(record.prompt);
  }
  TLCR_CHECK(!prompts.empty(), a.prompts.string(), ": no prompts");
  EvalArgs args = a;  // responses must fit the context after the longest prompt
  int64_t longest = 0;
  for (const std::string& prompt : prompts)
    longest = std::max<int64_t>(longest, ChatFormat{}.encode_prompt(tokenizer, prompt).size());
  const int64_t room = read_model_config(a.policy).first.context_length - longest;
  TLCR_CHECK(room > 0, a.prompts.string(), ": a prompt of ", longest, " tokens fills the context");
  args.options.max_new_tokens = std::min(args.options.max_new_tokens, room);
  const EvalResult result = with_architecture(a.policy, [&](auto arch) {
    return run_eval_with<decltype(arch), D>(args, tokenizer, prompts);
  });
  std::printf("%s", format_eval_summary(result).c_str());
  if (!a.out.empty()) {
    write_file_atomically(
        a.out,
        to_json(result).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::printf("-> %s\n", a.out.string().c_str());
  }
}

void run_eval(const EvalArgs& a) {
  with_device(a.device, [&]<class D>(D) { run_eval_on<D>(a); });
}

struct PlotArgs {
  std::vector<std::string> points;  // LABEL=FILE: one scored `tlcr eval --out` file each
  fs::path out;
  std::string title = "score against KL to the reference";
};

// The reward–KL frontier: one point per evaluation at (mean KL, mean score); evaluations with the
// same label form one line, ordered by KL; the reference's score sits at KL 0.
void run_plot(const PlotArgs& a) {
  std::map<std::string, std::vector<std::pair<double, double>>> by_label;
  std::vector<std::string> order;  // labels in first-seen order
  double reference_score = NAN;
  for (const std::string& point : a.points) {
    const std::size_t eq = point.find('=');
    TLCR_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < point.size(),
               "plot: expected LABEL=FILE, found '", point, "'");
    const std::string label = point.substr(0, eq);
    const fs::path file = point.substr(eq + 1);
    const nlohmann::json result = read_json_file(file);
    for (const char* key : {"mean_kl", "mean_score", "mean_reference_score"})
      TLCR_CHECK(result.is_object() && result.contains(key) && result[key].is_number(),
                 file.string(), ": field '", key,
                 "': expected a number (a scored `tlcr eval --out` file; "
                 "evaluate with --scorer or on the built-in task's prompts)");
    if (!by_label.count(label)) order.push_back(label);
    by_label[label].emplace_back(result["mean_kl"].get<double>(),
                                 result["mean_score"].get<double>());
    if (std::isnan(reference_score)) reference_score = result["mean_reference_score"].get<double>();
  }
  LinePlot plot{a.title, "KL to the reference (nats per response)", "mean score", {}};
  plot.series.push_back({"reference", {0.0}, {reference_score}, {}});
  for (const std::string& label : order) {
    auto points = by_label[label];
    std::sort(points.begin(), points.end());
    PlotSeries series{label, {}, {}, {}};
    for (const auto& [kl, score] : points) series.x.push_back(kl), series.y.push_back(score);
    plot.series.push_back(std::move(series));
  }
  plot.write(a.out);
  std::printf("plot: %zu evaluations in %zu series -> %s\n", a.points.size(), order.size(),
              a.out.string().c_str());
}

}  // namespace

void add_ppo_commands(CLI::App& app) {
  {
    static PpoArgs a;
    CLI::App* c = app.add_subcommand(
        "ppo", "RLHF: PPO of a policy against a token-level (or sequence) reward");
    c->add_option("--policy", a.policy, "SFT model directory to start from")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--reference", a.reference,
                  "frozen reference model directory (default: --policy)")
        ->check(CLI::ExistingDirectory);
    c->add_option("--reward", a.reward.kind, "reward kind")
        ->required()
        ->check(CLI::IsMember(reward_kinds()));
    c->add_option("--reward-model", a.reward.reward_model,
                  "discriminator (or, for 'sequence', reward model) directory");
    c->add_option("--sequence-model", a.reward.sequence_model,
                  "Bradley–Terry reward model directory ('hybrid')");
    c->add_option("--threshold", a.reward.threshold,
                  "'discrete': neutral band |p − 0.5| < threshold");
    c->add_flag("--shift", a.reward.shift,
                "credit r_t to the action one step later (released-code parity)");
    c->add_option("--hybrid-weight", a.reward.hybrid_weight,
                  "'hybrid': weight of the sequence score");
    c->add_option("--prompts", a.prompts, "prompts JSONL ({\"prompt\"})")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--out", a.out, "directory for the trained policy, checkpoint and logs")
        ->required();
    c->add_option("--preset", a.preset,
                  "tlcr (the paper's settings) or small (tiny models, learns fast)")
        ->check(CLI::IsMember({"tlcr", "small"}));
    c->add_option(
         "--config", a.config_file,
         "JSON of PPO settings (the flags' names with _) overriding the preset; flags override it")
        ->check(CLI::ExistingFile);
    c->add_option("--metrics", a.metrics, "metrics JSONL (default: <out>/metrics.jsonl)");
    c->add_option("--samples", a.samples, "sample tables JSONL (default: <out>/samples.jsonl)");
    c->add_option("--resume", a.resume,
                  "checkpoint directory to continue from (e.g. <out>/checkpoint)")
        ->check(CLI::ExistingDirectory);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the policy's)");
    c->add_option("--critic", a.critic,
                  "trunk to start the critic from (default: the reward model's)")
        ->check(CLI::ExistingDirectory);
    c->add_flag("--value-head", a.value_head,
                "value head on the policy trunk instead of a separate critic");
    c->add_option("--batch", a.batch, "prompts per rollout (batch_size; also caps minibatch_size)");
    CLI::Option_group* revision = c->add_option_group("on-policy revision rounds");
    revision->add_option("--revise-every", a.rounds.every,
                         "a revision round after every K iterations (0 = never)");
    revision->add_option(
        "--reviser", a.reviser,
        "builtin (the built-in task's) or a command: reads {\"prompt\",\"response\"} "
        "JSONL on stdin, prints one {\"revised\": ...} per line");
    revision
        ->add_option("--labels", a.labels,
                     "the labels the discriminator was trained on (kept in its training)")
        ->check(CLI::ExistingFile);
    revision->add_option("--revise-responses", a.rounds.max_responses,
                         "responses of the latest rollout revised per round (0 = all)");
    revision->add_option("--revision-steps", a.rounds.train.max_steps,
                         "discriminator steps per round, over old and new labels");
    revision->add_option("--revision-lr", a.rounds.train.lr,
                         "discriminator learning rate in a round");
    add_ppo_setting_flags(*c, a);
    add_device_option(*c, a.device);
    c->callback([] { run_ppo(a); });
  }
  {
    static PlotArgs a;
    CLI::App* c = app.add_subcommand(
        "plot", "The reward–KL frontier (SVG) of scored `tlcr eval --out` files");
    c->add_option("points", a.points,
                  "LABEL=FILE for each evaluation; evaluations with the same label form one line")
        ->required();
    c->add_option("--out", a.out, "SVG file to write")->required();
    c->add_option("--title", a.title, "plot title");
    c->callback([] { run_plot(a); });
  }
  {
    static EvalArgs a;
    CLI::App* c = app.add_subcommand(
        "eval",
        "KL (full, k1, k3), length, repetition, distinct-n and, with a scorer, score and win "
        "rate of a policy against its reference on held-out prompts");
    c->add_option("--policy", a.policy, "policy model directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--reference", a.reference, "reference (SFT) model directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option(
         "--prompts", a.prompts,
         "held-out prompts JSONL ({\"prompt\"}); the built-in task's are scored by its oracle")
        ->required()
        ->check(CLI::ExistingFile);
    c->add_option("--tokenizer", a.tokenizer, "tokenizer.json (default: the policy's)");
    c->add_option("--out", a.out, "JSON file for the summary and every sample");
    c->add_option("--limit", a.limit, "evaluate only the first N prompts (0 = all)");
    c->add_option("--scorer", a.scorer,
                  "command that scores responses: reads {\"prompt\",\"response\"} JSONL on stdin, "
                  "prints one number per line");
    c->add_option("--temperature", a.options.sampling.temperature, "0 = greedy");
    c->add_option("--top-k", a.options.sampling.top_k, "keep the k most likely tokens (0 = all)");
    c->add_option("--top-p", a.options.sampling.top_p, "nucleus probability mass");
    c->add_option("--max-new-tokens", a.options.max_new_tokens, "tokens per response at most");
    c->add_option("--batch", a.options.batch_size, "prompts per generation batch");
    c->add_option("--seed", a.options.seed, "sampling seed (shared by policy and reference)");
    add_device_option(*c, a.device);
    c->callback([] { run_eval(a); });
  }
}

}  // namespace tlcr::cli
