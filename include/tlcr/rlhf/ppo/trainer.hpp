// tlcr/rlhf/ppo/trainer.hpp — the PPO loop: rollout, update, report, checkpoint, resume.
//
// One iteration:
//   1. take batch_size prompts (a shuffled pass over the prompt set, reshuffled every epoch)
//   2. rollout (rollout.hpp): sample, score with the models and the reward, shape, check
//   3. update: `epochs` passes over the batch in minibatches (shuffled when there are several):
//      loss = L_π + c_V·L_V − c_H·H (losses.hpp); backward; stop with a report on a non-finite
//      value or gradient; clip each model's global gradient norm; AdamW step at the cosine rate of
//      this iteration. When a minibatch's approx KL exceeds early_stop_kl the update ends there,
//      without stepping on it.
//   4. the KL controller sees the batch's KL per response; metrics, progress, sample tables
// Data parallel: with micro_batches = G, the rollout's sampling and scoring and every minibatch's
// forward and backward are cut into G parts, part p computed alone by rank p mod N of the
// communicator (rollout_parts.hpp, dist/data_parallel.hpp). Every rank then holds the same joined
// rollout and the same fixed-order gradient sum, and computes the rest (shaping, whitening, the
// KL controller, the early stop, metrics) itself from identical inputs: ranks never diverge, and
// 1, 2 or N ranks give bitwise the same run for the same G. Only rank 0 prints and writes.
// The value function is either a value head on the policy trunk (models.critic == nullptr; the
// value loss is weighted by value_coef and trains the shared trunk) or a separate critic model with
// its own AdamW at critic_lr (its loss weight is 1: it has nothing else to balance against).
//
// Metrics (one JSON record per iteration, TRL's names where TRL has one). Per-response quantities
// are sums over the response's tokens, averaged over the batch:
//   objective/kl                 Σ_t KL_t with the estimator the reward uses
//   objective/kl_k1, _k3, _full  the same with each estimator
//   objective/kl_coef            β used for this batch
//   objective/entropy            Σ_t entropy of π at t
//   objective/scores             Σ_t r_t as the reward model gave it
//   objective/non_score_reward   Σ_t −β·KL_t
//   objective/rlhf_reward        Σ_t rew_t, what PPO maximises (clip and EOS penalty included)
//   policy/approxkl_avg, policy/clipfrac_avg, loss/policy_avg, loss/value_avg, val/clipfrac_avg,
//   val/ratio, val/ratio_var, policy/entropy_avg (with an entropy bonus)
//                                averages over the minibatches stepped
//   val/var_explained            1 − Var(R − V)/Var(R) over the batch's tokens (0 when Var(R) = 0)
//   val/num_eos_tokens           responses that ended with EOS (or a stop token)
//   tokens/responses_len_mean, _std, policy/sampler_logprob_gap (max |log π| difference between
//   the KV-cache sampler and the batched forward), policy/grad_norm, critic/grad_norm,
//   policy/updates, policy/early_stopped, lr, critic_lr, iteration, episode,
//   time/generate, time/forward, time/reward, time/update, time/iteration (seconds), eps
// Only the time/ keys and eps vary between identical runs.
//
// Checkpoint directory (written whole to "<dir>.tmp", then swapped in):
//   policy/   config.json, model.safetensors (a model directory), optimizer.safetensors
//   critic/   the same for a separate critic
//   trainer_state.json   iteration, episodes, β, RNG streams (generation, minibatch shuffle), the
//                        prompt order and cursor, and the PpoConfig
//   extra/    what PpoRunOptions::save_extra writes (e.g. revision rounds' state), if anything
// Resuming restores all of it; the run then continues bit for bit as if never interrupted (same
// thread count, any number of ranks). The config must match the saved one except for iterations
// and reporting intervals.
// Not here: the pieces (rollout.hpp, gae.hpp, kl.hpp, losses.hpp), the command line.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/dist/data_parallel.hpp"
#include "tlcr/optim/schedule.hpp"
#include "tlcr/rlhf/ppo/losses.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/rlhf/ppo/rollout_parts.hpp"
#include "tlcr/rlhf/ppo/samples.hpp"
#include "tlcr/text/json_describe.hpp"
#include "tlcr/train/checkpoint.hpp"
#include "tlcr/train/metrics.hpp"
#include "tlcr/train/train_step.hpp"

namespace tlcr {

// The models PPO works with. The caller owns them and keeps them alive.
template <class T, class Arch, class D = Cpu>
struct PpoModels {
  Transformer<T, Arch, D>& policy;            // trained; carries the value head when critic is null
  const Transformer<T, Arch, D>& reference;   // frozen (the SFT model)
  Transformer<T, Arch, D>* critic = nullptr;  // a separate value model, or nullptr
};

// Where a run writes and what it prints; nothing here changes the numbers.
struct PpoRunOptions {
  std::filesystem::path checkpoint_dir{};  // empty: no checkpoints
  std::filesystem::path metrics_path{};    // JSONL, one record per iteration; empty: none
  std::filesystem::path samples_path{};    // JSONL, one sample table per line; empty: none
  std::filesystem::path resume_from{};     // a checkpoint directory to continue from
  int64_t stop_after = 0;                  // > 0: stop (and checkpoint) after this iteration
  bool progress = true;                    // a progress line per iteration on stderr
  bool print_samples = true;               // sample tables on stderr
  bool color = false;                      // ANSI colours in the sample tables
  std::string label = "ppo";
  // Called on every rank after each iteration, before it is logged or checkpointed: may add to
  // its metrics and change the reward's models in place (rlhf/revision_rounds.hpp).
  std::function<void(int64_t iteration, const Rollout&, nlohmann::json& metrics)> after_iteration;
  // More state in every checkpoint: save_extra writes <checkpoint>/extra (inside the temporary
  // copy that is swapped in whole), resume_extra reads it back on resume.
  std::function<void(const std::filesystem::path&)> save_extra, resume_extra;
};

struct PpoIteration {
  int64_t iteration = 0;  // 1-based
  nlohmann::json metrics;
  std::optional<SampleTable> samples;
};

struct PpoReport {
  int64_t iterations = 0;  // iterations completed (counting those before a resume)
  nlohmann::json last_metrics;
  std::vector<SampleTable> samples;
  double seconds = 0;
};

template <class T, class Arch, TokenRewardModel Reward, class D = Cpu,
          Communicator Comm = SingleProcess>
class PpoTrainer {
 public:
  // `prompts`: tokenised prompts (e.g. ChatFormat::encode_prompt). `decode` turns token ids into
  // text for sample tables. With several ranks, every rank constructs the trainer alike (same
  // models, prompts and config) and calls train() or iterate() alike.
  PpoTrainer(PpoModels<T, Arch, D> models, const Reward& reward, TokenSequences prompts,
             const PpoConfig& config, TokenDecoder decode = {}, const Comm& comm = {})
      : comm_(comm),
        models_(models),
        reward_(reward),
        prompts_(std::move(prompts)),
        config_(validated(config)),
        decode_(std::move(decode)),
        kl_(config),
        sampler_(static_cast<int64_t>(prompts_.size()), Rng(config.seed, /*stream=*/1), "PPO",
                 "prompts"),
        generation_rng_(config.seed, /*stream=*/2),
        shuffle_rng_(config.seed, /*stream=*/3),
        policy_optimizer_(models.policy.params(), adamw_options(config.lr)),
        schedule_{1.0, config.min_lr_ratio,
                  std::min(config.warmup_iterations, config.iterations - 1), config.iterations} {
    const Transformer<T, Arch, D>& policy = models_.policy;
    TLCR_CHECK(policy.heads().lm, "PPO: the policy needs an LM head");
    TLCR_CHECK(models_.reference.heads().lm, "PPO: the reference needs an LM head");
    TLCR_CHECK(models_.reference.config().vocab_size == policy.config().vocab_size,
               "PPO: the reference has ", models_.reference.config().vocab_size,
               " tokens, the policy ", policy.config().vocab_size);
    if (models_.critic) {
      TLCR_CHECK(models_.critic->heads().value, "PPO: the critic needs a value head");
      critic_optimizer_.emplace(models_.critic->params(), adamw_options(config.critic_lr));
    } else {
      TLCR_CHECK(policy.heads().value,
                 "PPO: without a separate critic the policy needs a value head (HeadConfig.value)");
    }
    const TransformerConfig& c = policy.config();
    for (std::size_t i = 0; i < prompts_.size(); ++i) {
      TLCR_CHECK(!prompts_[i].empty(), "PPO: prompt ", i, " has no tokens");
      TLCR_CHECK(
          static_cast<int64_t>(prompts_[i].size()) + config_.max_new_tokens <= c.context_length,
          "PPO: prompt ", i, " has ", prompts_[i].size(), " tokens; with max_new_tokens ",
          config_.max_new_tokens, " that exceeds the context length ", c.context_length);
    }
    generation_.sampling = {config.temperature, config.top_k, config.top_p};
    generation_.max_new_tokens = config.max_new_tokens;
    generation_.eos_token = c.eos_token;
    pad_token_ = c.pad_token >= 0 ? c.pad_token : c.eos_token >= 0 ? c.eos_token : 0;
    generation_.pad_token = pad_token_;
  }

  const PpoConfig& config() const { return config_; }
  int64_t iteration() const { return iteration_; }  // iterations completed
  double kl_coef() const { return kl_.coef(); }
  const Rollout& last_rollout() const { return rollout_; }

  // One rollout and update; returns the iteration's metrics (and a sample table when due).
  PpoIteration iterate() {
    const int64_t number = iteration_ + 1;
    const std::string where = "ppo iteration " + std::to_string(number);
    Stopwatch clock, phase;
    nlohmann::json m;

    // 1–2. Rollout: phases 1–3 in parts over the ranks (this rank's seconds), then shaping.
    TokenSequences prompts;
    for (int64_t i : sampler_.next(config_.batch_size)) prompts.push_back(prompts_[i]);
    double generate_seconds = 0, forward_seconds = 0, reward_seconds = 0;
    rollout_ = collect_rollout(
        prompts, config_.micro_batches, generation_rng_, comm_,
        [&](TokenSequences part_prompts, Rng& rng) {
          phase.restart();
          Rollout part = sample_rollout(models_.policy, std::move(part_prompts), generation_, rng);
          generate_seconds += phase.seconds();
          phase.restart();
          score_with_models(part, models_.policy, models_.reference, models_.critic,
                            config_.minibatch_size, pad_token_);
          forward_seconds += phase.seconds();
          phase.restart();
          score_with_reward(part, reward_);
          reward_seconds += phase.seconds();
          return part;
        });
    m["time/generate"] = generate_seconds;
    m["time/forward"] = forward_seconds;
    m["time/reward"] = reward_seconds;
    shape_rewards(rollout_, config_, kl_.coef());
    check_rollout(rollout_, where);
    add_rollout_metrics(m);

    // 3. Update.
    phase.restart();
    const double lr = config_.lr * schedule_.lr(iteration_);
    const double critic_lr = config_.critic_lr * schedule_.lr(iteration_);
    update(lr, critic_lr, where, m);
    m["time/update"] = phase.seconds();

    // 4. Bookkeeping.
    kl_.update(m["objective/kl"].get<double>(), rollout_.rows());
    iteration_ = number;
    episodes_ += rollout_.rows();
    m["iteration"] = number;
    m["episode"] = episodes_;
    m["lr"] = lr;
    if (models_.critic) m["critic_lr"] = critic_lr;
    m["time/iteration"] = clock.seconds();
    m["eps"] = double(rollout_.rows()) / std::max(clock.seconds(), 1e-9);

    PpoIteration out{number, std::move(m), std::nullopt};
    if (config_.sample_every > 0 && config_.sample_rows > 0 &&
        (number == 1 || number % config_.sample_every == 0 || number == config_.iterations))
      out.samples = make_sample_table(rollout_, config_.sample_rows, number, decode_);
    return out;
  }

  // Writes the whole training state to `dir` (atomically replacing it). With several ranks, only
  // rank 0 calls it (train() does so): every rank holds the same state.
  void save(const std::filesystem::path& dir,
            const std::function<void(const std::filesystem::path&)>& save_extra = {}) const {
    replace_directory(dir, [&](const std::filesystem::path& tmp) {
      save_model(tmp / "policy", models_.policy);
      save_optimizer(tmp / "policy" / "optimizer.safetensors", policy_optimizer_);
      if (models_.critic) {
        save_model(tmp / "critic", *models_.critic);
        save_optimizer(tmp / "critic" / "optimizer.safetensors", *critic_optimizer_);
      }
      nlohmann::json state{{"iteration", iteration_},
                           {"episodes", episodes_},
                           {"kl_coef", kl_.state()},
                           {"kl_waiting", kl_.waiting()},
                           {"generation_rng", generation_rng_.state()},
                           {"shuffle_rng", shuffle_rng_.state()},
                           {"prompts", to_json(sampler_.state())},
                           {"config", to_json(config_)}};
      write_file_atomically(tmp / "trainer_state.json", state.dump(1) + "\n");
      if (save_extra) save_extra(tmp / "extra");
    });
  }

  // Restores everything save() wrote.
  void resume(const std::filesystem::path& dir,
              const std::function<void(const std::filesystem::path&)>& resume_extra = {}) {
    recover_directory(dir);
    const nlohmann::json state = read_json_file(dir / "trainer_state.json");
    check_resumable_config(state.at("config"), dir);
    TLCR_CHECK(std::filesystem::exists(dir / "critic") == (models_.critic != nullptr), dir.string(),
               models_.critic ? " holds no critic/, but this run has a separate critic"
                              : " holds a critic/, but this run uses the policy's value head");
    load_weights(models_.policy, dir / "policy");
    load_optimizer(dir / "policy" / "optimizer.safetensors", models_.policy, policy_optimizer_);
    if (models_.critic) {
      load_weights(*models_.critic, dir / "critic");
      load_optimizer(dir / "critic" / "optimizer.safetensors", *models_.critic, *critic_optimizer_);
    }
    const std::string where = (dir / "trainer_state.json").string();
    try {
      iteration_ = state_integer(state, "iteration");
      episodes_ = state_integer(state, "episodes");
      // Checkpoints older than kl_wait_for_target have no "kl_waiting": their β never waited.
      kl_.set_state(state_number(state, "kl_coef"),
                    state.contains("kl_waiting") && state.at("kl_waiting").get<bool>());
      generation_rng_.set_state(state_rng(state, "generation_rng"));
      shuffle_rng_.set_state(state_rng(state, "shuffle_rng"));
      sampler_.set_state(batcher_state_from_json(state.at("prompts")));
    } catch (const nlohmann::json::exception& e) {
      detail::fail(where, ": ", e.what());
    } catch (const Error& e) {
      detail::fail(where, ": ", e.what());
    }
    TLCR_CHECK(resume_extra || !std::filesystem::exists(dir / "extra"), dir.string(),
               " holds extra state (extra/, e.g. revision rounds') that this run would not "
               "restore; resume it with the same PpoRunOptions::resume_extra (tlcr ppo: the same "
               "--revise-every)");
    if (resume_extra) resume_extra(dir / "extra");
  }

  // Iterates until config.iterations (or run.stop_after), logging, printing and checkpointing.
  // With several ranks, every rank calls it; rank 0 alone prints, logs and checkpoints.
  PpoReport train(const PpoRunOptions& run = {}) {
    if (!run.resume_from.empty()) resume(run.resume_from, run.resume_extra);
    const bool append = !run.resume_from.empty(), leader = comm_.rank() == 0;
    const std::filesystem::path none;
    MetricsLog metrics(leader ? run.metrics_path : none, append, append ? iteration_ : -1,
                       "iteration"),
        samples(leader ? run.samples_path : none, append, append ? iteration_ : -1, "iteration");
    ProgressLine progress(run.label, config_.iterations, run.progress && leader);
    const int64_t first = iteration_;
    Stopwatch clock;
    PpoReport report;
    report.iterations = iteration_;
    while (iteration_ < config_.iterations) {
      PpoIteration it = iterate();
      if (run.after_iteration) run.after_iteration(it.iteration, rollout_, it.metrics);
      metrics.log(it.metrics);
      progress.print(it.iteration, progress_fields(it.metrics), first);
      if (it.samples) {
        if (run.print_samples && leader)
          std::fprintf(stderr, "%s", format_sample_table(*it.samples, run.color).c_str());
        samples.log(to_json(*it.samples));
        report.samples.push_back(std::move(*it.samples));
      }
      report.iterations = it.iteration;
      report.last_metrics = std::move(it.metrics);
      if (iteration_ == run.stop_after) break;
      if (config_.checkpoint_every > 0 && iteration_ % config_.checkpoint_every == 0 &&
          iteration_ < config_.iterations && !run.checkpoint_dir.empty() && leader)
        save(run.checkpoint_dir, run.save_extra);
    }
    if (!run.checkpoint_dir.empty() && leader) save(run.checkpoint_dir, run.save_extra);
    report.seconds = clock.seconds();
    return report;
  }

 private:
  static const PpoConfig& validated(const PpoConfig& config) {
    config.validate();
    return config;
  }

  AdamWOptions adamw_options(double lr) const {
    return {.lr = lr,
            .beta1 = config_.beta1,
            .beta2 = config_.beta2,
            .eps = 1e-8,
            .weight_decay = config_.weight_decay};
  }

  // The moments cross as one download (save) or one upload (load) each.
  static void save_optimizer(const std::filesystem::path& path, const AdamW<T, D>& optimizer) {
    const AdamWState<T, D> s = optimizer.state();
    safetensors::write(path,
                       safetensors::NamedTensors<T>{{"m", s.m.to_host()}, {"v", s.v.to_host()}},
                       {{"step", std::to_string(s.step)}});
  }
  static void load_optimizer(const std::filesystem::path& path,
                             const Transformer<T, Arch, D>& model, AdamW<T, D>& optimizer) {
    const SafetensorsFile<T> file = safetensors::read<T>(path);
    const Shape flat{model.params().numel()};
    TLCR_CHECK(file.metadata.count("step"), path.string(), ": metadata 'step' missing");
    optimizer.load_state({std::stoll(file.metadata.at("step")),
                          to_device<D>(file.tensor("m", flat).clone()),
                          to_device<D>(file.tensor("v", flat).clone())});
  }

  // The saved config must equal ours, except for keys that do not change the numbers.
  void check_resumable_config(const nlohmann::json& saved, const std::filesystem::path& dir) const {
    nlohmann::json current = to_json(config_), recorded = saved;
    // Checkpoints from before micro_batches existed were computed in one part.
    if (recorded.is_object() && !recorded.contains("micro_batches")) recorded["micro_batches"] = 1;
    // … and from before kl_wait_for_target, with a β that never waited.
    if (recorded.is_object() && !recorded.contains("kl_wait_for_target"))
      recorded["kl_wait_for_target"] = false;
    for (const char* key : {"iterations", "sample_every", "sample_rows", "checkpoint_every"}) {
      current.erase(key);
      if (recorded.is_object()) recorded.erase(key);
    }
    check_resumed_settings(recorded, current, dir);
  }

  // Throws naming the row and token of x's first non-finite entry, at flat index i (first_non_finite);
  // nothing when i < 0. The failing value itself crosses only on failure.
  void check_finite(const Var<T, D>& x, int64_t i, const char* name, std::span<const int64_t> rows,
                    const ResponseBatch& rb, const std::string& where) const {
    if (i < 0) return;
    const int64_t k =
        std::upper_bound(rb.offsets.begin(), rb.offsets.end(), i) - rb.offsets.begin() - 1;
    detail::fail(where, ": first non-finite value: ", name, " = ",
                 double(x.value().reshape(Shape{x.numel()}).slice(i, i + 1).item()), " at row ",
                 rows[k], ", response token ", i - rb.offsets[k], " (id ", rb.tokens[i], ")");
  }

  struct MinibatchStats {
    double policy_loss = 0, value_loss = 0, clip_fraction = 0, value_clip_fraction = 0;
    double approx_kl = 0, ratio = 0, ratio_var = 0, entropy = 0;
    double grad_norm = 0, critic_grad_norm = 0;
    bool stopped_early = false;
  };

  // The rollout's constants for `rows` as one (4N) upload: old log-probs, negated advantages, old
  // values, returns.
  Tensor<T, D> minibatch_constants(std::span<const int64_t> rows) const {
    const Rollout& r = rollout_;
    std::vector<T> host;
    for (const auto* part : {&r.logprobs, &r.train_advantages, &r.values, &r.returns}) {
      const bool negate = part == &r.train_advantages;
      for (const double value : r.gather(*part, rows)) host.push_back(T(negate ? -value : value));
    }
    return Tensor<T, D>::from(Shape{int64_t(host.size())}, host);
  }

  // The numbers each part of a minibatch returns (summed over the parts in part order):
  // policy_ratio_stats' 4 sums, the value-clip count, then entropy, policy loss, value loss and
  // the total loss, each the part's mean weighted by its share of the minibatch's tokens.
  static constexpr int64_t kPartNumbers = 9;

  // One part of a minibatch (`rows`, `total_tokens` in the whole minibatch): forward, the finite
  // checks, backward of its weighted loss into the models' gradients. Its index data and
  // constants go up once (three uploads); everything the host reads comes down once.
  std::vector<double> minibatch_part(std::span<const int64_t> rows, int64_t total_tokens,
                                     const std::string& where) {
    Transformer<T, Arch, D>& policy = models_.policy;
    Transformer<T, Arch, D>* critic = models_.critic;
    const Rollout& r = rollout_;
    const ResponseBatch host_rb = make_response_batch(r.prompts, r.responses, rows, pad_token_);
    const DeviceResponseBatch<D> rb = upload_response_batch(policy, host_rb);
    const int64_t n = host_rb.token_count();
    const Tensor<T, D> constants = minibatch_constants(rows);

    const Var<T, D> h = response_hidden(policy, rb);
    const Var<T, D> logits = response_logits(policy, h);
    const Var<T, D> logprobs = token_log_probs(logits, rb.response_tokens);
    const Var<T, D> values = critic ? response_values(*critic, response_hidden(*critic, rb))
                                    : response_values(policy, h);

    const auto [policy_loss, ratio_sums] = detail::policy_loss_terms(
        logprobs, constants.slice(0, n), constants.slice(n, 2 * n), config_.clip_ratio);
    const auto [value_loss, value_clipped] = detail::value_loss_terms(
        values, constants.slice(2 * n, 3 * n), constants.slice(3 * n, 4 * n), config_.clip_value);
    Var<T, D> loss = add(policy_loss, scale(value_loss, T(critic ? 1.0 : config_.value_coef)));
    Tensor<T, D> entropy_value;  // undefined without an entropy bonus
    if (config_.entropy_coef > 0) {
      const Var<T, D> entropy = mean_entropy(logits);
      loss = sub(loss, scale(entropy, T(config_.entropy_coef)));
      entropy_value = entropy.value();
    }
    // (2 + 4 [+ 1] [+ 1] + 3): first non-finite log-prob and value, the ratio sums, the value
    // clip count, the entropy, the policy, value and total losses.
    const std::vector<double> read =
        pack_as_double(first_non_finite(logprobs.value()), first_non_finite(values.value()),
                       ratio_sums, value_clipped, entropy_value, policy_loss.value(),
                       value_loss.value(), loss.value())
            .to_vector();
    check_finite(logprobs, int64_t(read[0]), "policy log-prob", rows, host_rb, where);
    check_finite(values, int64_t(read[1]), "value", rows, host_rb, where);
    // One part: the loss as it is; several: each part's means weighted so that they add up.
    const bool whole = n == total_tokens;
    const double weight = whole ? 1.0 : double(n) / double(total_tokens);
    std::vector<double> out(read.begin() + 2, read.begin() + 6);  // the ratio sums
    std::size_t at = 6;
    out.push_back(value_clipped.defined() ? read[at++] : 0.0);
    out.push_back(entropy_value.defined() ? read[at++] * weight : 0.0);
    for (int k = 0; k < 3; ++k) out.push_back(read[at + k] * weight);  // policy, value, total
    backward(whole ? loss : scale(loss, T(weight)));  // one backward fills both models
    return out;
  }

  // One minibatch in config.micro_batches parts over the ranks, their gradients and numbers
  // summed in part order; then the early stop, or one step of each model.
  MinibatchStats train_minibatch(std::span<const int64_t> rows, double lr, double critic_lr,
                                 const std::string& where) {
    Transformer<T, Arch, D>* critic = models_.critic;
    const int64_t M = int64_t(rows.size()), G = config_.micro_batches;
    int64_t total_tokens = 0;
    for (int64_t b : rows) total_tokens += rollout_.row_length(b);
    std::vector<ParameterStore<T, D>*> stores{&models_.policy.params()};
    if (critic) stores.push_back(&critic->params());
    const std::vector<std::vector<double>> parts = sum_gradients_in_order(
        std::span<ParameterStore<T, D>* const>(stores), comm_, G, kPartNumbers,
        [&](int64_t q, bool mine) {
          if (!mine) return std::vector<double>();
          const PartRange share = part_range(q, M, G);
          return minibatch_part(rows.subspan(share.begin, share.size()), total_tokens, where);
        });
    std::vector<double> sum = parts[0];
    for (std::size_t q = 1; q < parts.size(); ++q)
      for (int64_t k = 0; k < kPartNumbers; ++k) sum[k] += parts[q][k];

    PolicyLoss<T, D> pg;
    detail::set_policy_diagnostics(pg, std::span<const double>(sum).subspan(0, 4), total_tokens);
    MinibatchStats s;
    s.value_clip_fraction = config_.clip_value > 0 ? sum[4] / double(total_tokens) : 0.0;
    s.entropy = sum[5];
    s.policy_loss = sum[6], s.value_loss = sum[7];
    s.clip_fraction = pg.clip_fraction;
    s.approx_kl = pg.approx_kl, s.ratio = pg.ratio_mean, s.ratio_var = pg.ratio_var;
    const double loss_value = sum[8];
    if (!std::isfinite(loss_value))
      detail::fail(where, ": first non-finite value: loss = ", loss_value, " (policy loss ",
                   s.policy_loss, ", value loss ", s.value_loss, ")");
    if (config_.early_stop_kl > 0 && pg.approx_kl > config_.early_stop_kl) {
      s.stopped_early = true;  // the gradients are dropped unstepped
      return s;
    }
    // Each model takes its own step on the summed gradients.
    s.grad_norm = apply_gradients(models_.policy.params(), policy_optimizer_, lr, config_.grad_clip,
                                  where + " (policy)");
    if (critic)
      s.critic_grad_norm = apply_gradients(critic->params(), *critic_optimizer_, critic_lr,
                                           config_.grad_clip, where + " (critic)");
    return s;
  }

  void update(double lr, double critic_lr, const std::string& where, nlohmann::json& m) {
    const int64_t B = rollout_.rows(), M = config_.minibatch_size;
    std::vector<int64_t> order(B);
    for (int64_t b = 0; b < B; ++b) order[b] = b;
    MinibatchStats sum;
    int64_t steps = 0;
    bool stopped = false;
    for (int64_t epoch = 0; epoch < config_.epochs && !stopped; ++epoch) {
      if (B > M)
        detail::shuffle_in_place(order, shuffle_rng_);  // one minibatch: keep rollout order
      for (int64_t first = 0; first < B && !stopped; first += M) {
        const std::span<const int64_t> rows(order.data() + first, M);
        const MinibatchStats s = train_minibatch(rows, lr, critic_lr, where);
        if (s.stopped_early) {
          stopped = true;
          if (steps == 0) sum = s;  // report the rejected minibatch when nothing was stepped
          break;
        }
        sum.policy_loss += s.policy_loss, sum.value_loss += s.value_loss;
        sum.clip_fraction += s.clip_fraction, sum.value_clip_fraction += s.value_clip_fraction;
        sum.approx_kl += s.approx_kl, sum.ratio += s.ratio, sum.ratio_var += s.ratio_var;
        sum.entropy += s.entropy, sum.grad_norm += s.grad_norm;
        sum.critic_grad_norm += s.critic_grad_norm;
        ++steps;
      }
    }
    const double n = std::max<int64_t>(steps, 1);
    m["policy/approxkl_avg"] = sum.approx_kl / n;
    m["policy/clipfrac_avg"] = sum.clip_fraction / n;
    m["loss/policy_avg"] = sum.policy_loss / n;
    m["loss/value_avg"] = sum.value_loss / n;
    m["val/clipfrac_avg"] = sum.value_clip_fraction / n;
    m["val/ratio"] = sum.ratio / n;
    m["val/ratio_var"] = sum.ratio_var / n;
    if (config_.entropy_coef > 0) m["policy/entropy_avg"] = sum.entropy / n;
    m["policy/grad_norm"] = sum.grad_norm / n;
    if (models_.critic) m["critic/grad_norm"] = sum.critic_grad_norm / n;
    m["policy/updates"] = steps;
    m["policy/early_stopped"] = stopped;
  }

  void add_rollout_metrics(nlohmann::json& m) const {
    const Rollout& r = rollout_;
    const int64_t B = r.rows(), N = r.tokens();
    auto per_response_mean = [&](auto token_value) {
      double total = 0;
      for (int64_t i = 0; i < N; ++i) total += token_value(i);
      return total / double(B);
    };
    m["objective/kl"] = per_response_mean([&](int64_t i) { return r.kl[i]; });
    m["objective/kl_k1"] =
        per_response_mean([&](int64_t i) { return kl_k1(r.logprobs[i], r.ref_logprobs[i]); });
    m["objective/kl_k3"] =
        per_response_mean([&](int64_t i) { return kl_k3(r.logprobs[i], r.ref_logprobs[i]); });
    m["objective/kl_full"] = per_response_mean([&](int64_t i) { return r.kl_full[i]; });
    m["objective/kl_coef"] = r.kl_coef;
    m["objective/entropy"] = per_response_mean([&](int64_t i) { return r.entropy[i]; });
    m["objective/scores"] = per_response_mean([&](int64_t i) { return r.scores[i]; });
    m["objective/non_score_reward"] =
        per_response_mean([&](int64_t i) { return -r.kl_coef * r.kl[i]; });
    m["objective/rlhf_reward"] = per_response_mean([&](int64_t i) { return r.rewards[i]; });

    std::vector<double> lengths, errors;
    int64_t ended = 0;
    for (int64_t b = 0; b < B; ++b) {
      lengths.push_back(double(r.row_length(b)));
      ended += r.ended[b];
    }
    double gap = 0;
    for (int64_t i = 0; i < N; ++i) {
      errors.push_back(r.returns[i] - r.values[i]);
      gap = std::max(gap, std::abs(r.sampler_logprobs[i] - r.logprobs[i]));
    }
    const MeanStd length = mean_and_std(lengths);
    const MeanStd returns = mean_and_std(r.returns), error = mean_and_std(errors);
    m["tokens/responses_len_mean"] = length.mean;
    m["tokens/responses_len_std"] = length.std;
    m["val/num_eos_tokens"] = ended;
    m["val/var_explained"] =
        returns.std > 0 ? 1.0 - (error.std * error.std) / (returns.std * returns.std) : 0.0;
    m["policy/sampler_logprob_gap"] = gap;
  }

  static std::string progress_fields(const nlohmann::json& m) {
    char text[256];
    std::snprintf(
        text, sizeof text,
        "score %+.3f | kl %.4f | rlhf %+.3f | len %.1f | approxkl %.2g | clip %.2f | %.2f ep/s",
        m["objective/scores"].get<double>(), m["objective/kl"].get<double>(),
        m["objective/rlhf_reward"].get<double>(), m["tokens/responses_len_mean"].get<double>(),
        m["policy/approxkl_avg"].get<double>(), m["policy/clipfrac_avg"].get<double>(),
        m["eps"].get<double>());
    return text;
  }

  Comm comm_;
  PpoModels<T, Arch, D> models_;
  const Reward& reward_;
  TokenSequences prompts_;
  PpoConfig config_;
  TokenDecoder decode_;
  KlController kl_;
  ShuffledOrder sampler_;  // the prompts, a shuffled pass reshuffled every epoch
  Rng generation_rng_, shuffle_rng_;
  AdamW<T, D> policy_optimizer_;
  std::optional<AdamW<T, D>> critic_optimizer_;
  CosineSchedule
      schedule_;  // a multiplier of lr and critic_lr: 1 after warmup, min_lr_ratio at the end
  GenerationOptions generation_;
  int32_t pad_token_ = 0;
  int64_t iteration_ = 0, episodes_ = 0;
  Rollout rollout_;
};

// Builds a trainer and runs it: the whole of PPO in one call.
template <class T, class Arch, class D = Cpu, TokenRewardModel Reward,
          Communicator Comm = SingleProcess>
PpoReport train_ppo(PpoModels<T, Arch, D> models, const Reward& reward, TokenSequences prompts,
                    const PpoConfig& config, const PpoRunOptions& run = {},
                    TokenDecoder decode = {}, const Comm& comm = {}) {
  PpoTrainer<T, Arch, Reward, D, Comm> trainer(models, reward, std::move(prompts), config,
                                               std::move(decode), comm);
  return trainer.train(run);
}

}  // namespace tlcr
