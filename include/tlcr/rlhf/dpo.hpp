// tlcr/rlhf/dpo.hpp — Direct Preference Optimization (Rafailov et al. 2023), the offline baseline:
// the policy learns from preference pairs directly, with no reward model and no sampling.
//
// For a pair (x, y_c ≻ y_r) and a frozen reference π_ref (the SFT model), each response has the
// implicit reward
//   r(x, y) = β·(log π(y|x) − log π_ref(y|x)),   log π(y|x) = Σ_t log π(a_t | x, a_<t)
// summed over the response tokens up to and including its first EOS (when it has one), and the
// loss is the Bradley–Terry loss of those rewards,
//   L = −log σ(r(x, y_c) − r(x, y_r))            (mean over the pairs of a batch).
// β (default 0.1) sets how far the policy may move from the reference: the smaller, the further.
// The reference is a constant: its log-probs come from a NoGrad forward of the same rows, per batch
// (so a policy equal to its reference has rewards of exactly 0 and a loss of exactly log 2).
// Training: AdamW (β 0.9, 0.95, no weight decay by default), cosine schedule with warmup, global
// grad clip, shuffled pairs every epoch, micro-batches and data-parallel ranks, checkpoints with
// exact resume (the loop of train/example_loop.hpp). Each step's metrics record and the held-out
// evaluation use TRL's names: rewards/chosen, rewards/rejected (mean r), rewards/margins (mean
// r_c − r_r), rewards/accuracies (share of pairs with r_c > r_r; ties, as at the start, count as
// wrong), logps/chosen, logps/rejected (mean log π(y|x)). With micro-batches a step's record holds
// the first micro-batch's numbers (the loss is the whole batch's).
// Pairs that do not fit the model's context are left out and counted.
// The per-token form of r, the implicit token reward used by RTO (Zhong et al. 2024), is in
// rlhf/dpo_reward.hpp. Not here: PPO (rlhf/ppo.hpp), the Bradley–Terry reward model
// (rlhf/sequence_reward.hpp), whose loss DPO reuses.
// Shape legend: N = pairs in a batch, B = rows (2N for pairs: chosen rows, then rejected rows),
//               K = response tokens of the B rows together, L = the longest response of the rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/rlhf/ppo/rollout.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/rlhf/sequence_reward.hpp"
#include "tlcr/train/example_loop.hpp"

namespace tlcr {

// ---- sequence log-probs ----------------------------------------------------------------------

// Rows of (prompt, response up to and including its first EOS) whose response tokens' log-probs
// are summed per row.
struct SequenceLogProbRows {
  ResponseBatch responses;      // the K response tokens, packed, and where each is predicted
  std::vector<int32_t> gather;  // (B·L) row b's tokens are entries gather[b·L + t] of the K;
                                // K (one past the last) fills the rest and reads a zero
  int64_t longest = 0;          // L

  int64_t rows() const { return static_cast<int64_t>(responses.offsets.size()) - 1; }
};

// Builds the rows; each must have a prompt token, a response token before its first EOS or PAD
// (or an EOS) and fit in `context` positions. Errors name `who` and the row.
inline SequenceLogProbRows make_sequence_log_prob_rows(const TokenSequences& prompts,
                                                       const TokenSequences& responses,
                                                       const ResponseEnds& ends, int64_t context,
                                                       const std::string& who) {
  TLCR_CHECK(prompts.size() == responses.size(), who, ": ", prompts.size(), " prompts for ",
             responses.size(), " responses");
  TLCR_CHECK(!prompts.empty(), who, ": no rows");
  TokenSequences kept(responses.size());
  std::vector<int64_t> order(responses.size());
  for (std::size_t b = 0; b < responses.size(); ++b) {
    const std::size_t length = ends.length_with_eos(responses[b]);
    TLCR_CHECK(!prompts[b].empty() && length > 0, who, ": row ", b, " has ", prompts[b].size(),
               " prompt tokens and ", length,
               " response tokens up to its first EOS (need at least 1 of each)");
    TLCR_CHECK(static_cast<int64_t>(prompts[b].size() + length) <= context, who, ": row ", b,
               " has ", prompts[b].size(), " prompt + ", length,
               " response tokens, more than the model's context of ", context);
    kept[b].assign(responses[b].begin(),
                   responses[b].begin() + static_cast<std::ptrdiff_t>(length));
    order[b] = static_cast<int64_t>(b);
  }
  SequenceLogProbRows out;
  out.responses = make_response_batch(prompts, kept, order, ends.filler());
  const std::vector<int64_t>& offsets = out.responses.offsets;
  for (std::size_t b = 0; b + 1 < offsets.size(); ++b)
    out.longest = std::max(out.longest, offsets[b + 1] - offsets[b]);
  const int32_t zero_slot = static_cast<int32_t>(out.responses.token_count());
  out.gather.assign(static_cast<std::size_t>(out.rows() * out.longest), zero_slot);
  for (int64_t b = 0; b < out.rows(); ++b)
    for (int64_t t = 0; t < offsets[b + 1] - offsets[b]; ++t)
      out.gather[b * out.longest + t] = static_cast<int32_t>(offsets[b] + t);
  return out;
}

// SequenceLogProbRows' index data on device D: the models' tokens, the predicting positions, the
// response tokens and the gather indices, in two uploads that every model reading them shares.
template <class D>
struct DeviceSequenceRows {
  DeviceResponseBatch<D> responses;
  Tensor<int32_t, D> gather;  // (B·L)
  int64_t rows = 0, longest = 0;
};

template <class T, class Arch, class D>
DeviceSequenceRows<D> upload_sequence_rows(const Transformer<T, Arch, D>& model,
                                           const SequenceLogProbRows& rows) {
  const ResponseBatch& rb = rows.responses;
  DeviceBatch<D> up =
      model.upload(ModelInput::from(rb.batch), {rb.predict_at, rb.tokens, rows.gather});
  return {{std::move(up.tokens), up.indices[0], up.indices[1], rb.batch.batch, rb.batch.time},
          up.indices[2],
          rows.rows(),
          rows.longest};
}

// log π(a_t | x, a_<t) of every response token: (K), differentiable.
template <class T, class Arch, class D>
Var<T, D> response_token_log_probs(const Transformer<T, Arch, D>& model,
                                   const DeviceResponseBatch<D>& rb) {
  return token_log_probs(response_logits(model, response_hidden(model, rb)), rb.response_tokens);
}

// Per-token values (K) summed per row → (B): the K values with a zero appended, gathered into a
// right-padded (B, L) table and summed along L. Differentiable (the gather's backward scatters).
template <class T, class D>
Var<T, D> sum_per_row(const Var<T, D>& per_token, const DeviceSequenceRows<D>& rows) {
  const int64_t K = per_token.numel();
  TLCR_CHECK(per_token.shape().rank == 1 && K == rows.responses.response_tokens.numel(),
             "sum_per_row: expected one value per response token (",
             rows.responses.response_tokens.numel(), "), got ", per_token.shape().str());
  const Var<T, D> table = concat(
      std::vector<Var<T, D>>{reshape(per_token, Shape{K, 1}), constant(Tensor<T, D>(Shape{1, 1}))},
      0);  // (K + 1, 1)
  const Var<T, D> padded = embedding(table, rows.gather, Shape{rows.rows, rows.longest});
  return sum(reshape(padded, Shape{rows.rows, rows.longest}), 1);
}

// log π(y|x) of every row: (B), differentiable.
template <class T, class Arch, class D>
Var<T, D> sequence_log_probs(const Transformer<T, Arch, D>& model,
                             const DeviceSequenceRows<D>& rows) {
  return sum_per_row(response_token_log_probs(model, rows.responses), rows);
}

// log π(y|x) of every (prompt, response) row, under NoGrad, `batch_size` rows per forward pass;
// each pass is one download.
template <class T, class Arch, class D>
std::vector<double> sequence_log_probs(const Transformer<T, Arch, D>& model,
                                       const TokenSequences& prompts,
                                       const TokenSequences& responses, const ResponseEnds& ends,
                                       int64_t batch_size = 16) {
  TLCR_CHECK(batch_size > 0, "sequence_log_probs: batch_size must be positive, got ", batch_size);
  TLCR_CHECK(prompts.size() == responses.size(), "sequence_log_probs: ", prompts.size(),
             " prompts for ", responses.size(), " responses");
  NoGrad no_grad;
  std::vector<double> out;
  for (std::size_t begin = 0; begin < prompts.size(); begin += std::size_t(batch_size)) {
    const std::size_t end = std::min(prompts.size(), begin + std::size_t(batch_size));
    const TokenSequences chunk_prompts(prompts.begin() + begin, prompts.begin() + end);
    const TokenSequences chunk_responses(responses.begin() + begin, responses.begin() + end);
    const SequenceLogProbRows rows = make_sequence_log_prob_rows(
        chunk_prompts, chunk_responses, ends, model.config().context_length, "sequence_log_probs");
    const std::vector<T> values =
        sequence_log_probs(model, upload_sequence_rows(model, rows)).value().to_vector();
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

// ---- loss ------------------------------------------------------------------------------------

namespace detail {
inline void check_dpo_beta(double beta, const std::string& who) {
  TLCR_CHECK(std::isfinite(beta) && beta > 0, who, ": expected β (beta) > 0, got ", beta);
}
template <class T, class Arch, class D>
void check_dpo_models(const Transformer<T, Arch, D>& policy,
                      const Transformer<T, Arch, D>& reference, const std::string& who) {
  TLCR_CHECK(policy.heads().lm, who, ": expected a policy with an LM head, it has none");
  TLCR_CHECK(reference.heads().lm, who, ": expected a reference with an LM head, it has none");
  TLCR_CHECK(policy.config().vocab_size == reference.config().vocab_size &&
                 policy.config().context_length == reference.config().context_length,
             who, ": the policy has a vocabulary of ", policy.config().vocab_size,
             " and a context of ", policy.config().context_length, ", the reference ",
             reference.config().vocab_size, " and ", reference.config().context_length);
}
}  // namespace detail

// The DPO loss from rewards already computed: chosen, rejected (N) = β·(log π − log π_ref) of
// each side → rank 0, mean over pairs of −log σ(chosen − rejected).
template <class T, class D>
Var<T, D> dpo_loss(const Var<T, D>& chosen_rewards, const Var<T, D>& rejected_rewards) {
  return bradley_terry_loss(chosen_rewards, rejected_rewards);
}

// Pairs as 2N rows: chosen responses, then rejected ones.
inline SequenceLogProbRows make_dpo_pair_rows(std::span<const TokenizedPair> pairs,
                                              const ResponseEnds& ends, int64_t context) {
  TokenSequences prompts, responses;
  for (int side = 0; side < 2; ++side)
    for (const TokenizedPair& pair : pairs) {
      prompts.push_back(pair.prompt);
      responses.push_back(side == 0 ? pair.chosen : pair.rejected);
    }
  return make_sequence_log_prob_rows(prompts, responses, ends, context, "dpo pairs");
}

// The sequence log-probs behind a batch's loss: policy and reference, (2N) each, chosen rows first.
struct DpoLogProbs {
  std::vector<double> policy, reference;
};

// The DPO loss of a batch of pairs (rank 0, differentiable in the policy only); `log_probs` (if
// given) receives both models' sequence log-probs (one download).
template <class T, class Arch, class D>
Var<T, D> dpo_forward_loss(const Transformer<T, Arch, D>& policy,
                           const Transformer<T, Arch, D>& reference,
                           std::span<const TokenizedPair> pairs, const ResponseEnds& ends,
                           double beta, DpoLogProbs* log_probs = nullptr) {
  detail::check_dpo_beta(beta, "dpo_forward_loss");
  const SequenceLogProbRows rows = make_dpo_pair_rows(pairs, ends, policy.config().context_length);
  const DeviceSequenceRows<D> up = upload_sequence_rows(policy, rows);
  Var<T, D> reference_logps;
  {
    NoGrad no_grad;
    reference_logps = sequence_log_probs(reference, up);
  }
  const Var<T, D> policy_logps = sequence_log_probs(policy, up);  // (2N)
  const Var<T, D> rewards = scale(sub(policy_logps, reference_logps), T(beta));
  const int64_t n = static_cast<int64_t>(pairs.size());
  if (log_probs) {
    NoGrad no_grad;
    const std::vector<T> both =
        concat(std::vector<Var<T, D>>{policy_logps, reference_logps}, 0).value().to_vector();
    log_probs->policy.assign(both.begin(), both.begin() + 2 * n);
    log_probs->reference.assign(both.begin() + 2 * n, both.end());
  }
  return dpo_loss(slice(rewards, 0, 0, n), slice(rewards, 0, n, 2 * n));
}

// ---- evaluation ------------------------------------------------------------------------------

// Means over pairs, in TRL's names where it has one (to_json).
struct DpoEval {
  int64_t pairs = 0;
  double loss = NAN;             // −log σ(r_c − r_r)
  double accuracy = NAN;         // share of pairs with r_c > r_r (ties count as wrong)
  double reward_chosen = NAN;    // r_c = β·(log π(y_c) − log π_ref(y_c))
  double reward_rejected = NAN;  // r_r
  double margin = NAN;           // r_c − r_r
  double logps_chosen = NAN;     // log π(y_c)
  double logps_rejected = NAN;   // log π(y_r)

  nlohmann::ordered_json to_json() const {
    auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
    return {{"pairs", pairs},
            {"loss", number(loss)},
            {"rewards/accuracies", number(accuracy)},
            {"rewards/chosen", number(reward_chosen)},
            {"rewards/rejected", number(reward_rejected)},
            {"rewards/margins", number(margin)},
            {"logps/chosen", number(logps_chosen)},
            {"logps/rejected", number(logps_rejected)}};
  }
  // The inverse of to_json (null → NaN), for the copy a checkpoint keeps.
  static DpoEval from_json(const nlohmann::json& j) {
    auto number = [&](const char* key) { return j.at(key).is_null() ? NAN : state_number(j, key); };
    return {.pairs = state_integer(j, "pairs"),
            .loss = number("loss"),
            .accuracy = number("rewards/accuracies"),
            .reward_chosen = number("rewards/chosen"),
            .reward_rejected = number("rewards/rejected"),
            .margin = number("rewards/margins"),
            .logps_chosen = number("logps/chosen"),
            .logps_rejected = number("logps/rejected")};
  }
  std::string summary() const {
    std::ostringstream text;
    text.precision(3);
    text << "accuracy " << accuracy << " | loss " << loss << " | margin " << margin
         << " | rewards chosen " << reward_chosen << ", rejected " << reward_rejected << " | "
         << pairs << " pairs";
    return text.str();
  }
};

// The statistics of N pairs from their sequence log-probs (2N each, chosen rows first), in double.
inline DpoEval dpo_statistics(std::span<const double> policy, std::span<const double> reference,
                              double beta) {
  TLCR_CHECK(policy.size() == reference.size() && policy.size() % 2 == 0,
             "dpo_statistics: ", policy.size(), " policy and ", reference.size(),
             " reference log-probs (expected 2N of each)");
  DpoEval eval;
  const std::size_t n = policy.size() / 2;
  eval.pairs = static_cast<int64_t>(n);
  if (n == 0) return eval;
  double loss = 0, wins = 0, chosen = 0, rejected = 0, logps_chosen = 0, logps_rejected = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r_c = beta * (policy[i] - reference[i]);
    const double r_r = beta * (policy[n + i] - reference[n + i]);
    const double z = r_c - r_r;
    loss += std::max(-z, 0.0) + std::log1p(std::exp(-std::abs(z)));  // −log σ(z), stable
    wins += z > 0;
    chosen += r_c, rejected += r_r;
    logps_chosen += policy[i], logps_rejected += policy[n + i];
  }
  const double count = double(n);
  eval.loss = loss / count;
  eval.accuracy = wins / count;
  eval.reward_chosen = chosen / count;
  eval.reward_rejected = rejected / count;
  eval.margin = (chosen - rejected) / count;
  eval.logps_chosen = logps_chosen / count;
  eval.logps_rejected = logps_rejected / count;
  return eval;
}

// The held-out evaluation: under NoGrad, `batch_size` rows (batch_size / 2 pairs) per forward
// pass of each model, one download per pass.
template <class T, class Arch, class D>
DpoEval evaluate_dpo(const Transformer<T, Arch, D>& policy,
                     const Transformer<T, Arch, D>& reference, std::span<const TokenizedPair> pairs,
                     const ResponseEnds& ends, double beta, int64_t batch_size = 32) {
  detail::check_dpo_models(policy, reference, "evaluate_dpo");
  if (pairs.empty()) return dpo_statistics({}, {}, beta);
  NoGrad no_grad;
  std::vector<double> chosen_policy, rejected_policy, chosen_reference, rejected_reference;
  const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, batch_size / 2));
  for (std::size_t begin = 0; begin < pairs.size(); begin += step) {
    const auto part = pairs.subspan(begin, std::min(step, pairs.size() - begin));
    DpoLogProbs log_probs;
    dpo_forward_loss(policy, reference, part, ends, beta, &log_probs);
    const auto n = static_cast<std::ptrdiff_t>(part.size());
    chosen_policy.insert(chosen_policy.end(), log_probs.policy.begin(),
                         log_probs.policy.begin() + n);
    rejected_policy.insert(rejected_policy.end(), log_probs.policy.begin() + n,
                           log_probs.policy.end());
    chosen_reference.insert(chosen_reference.end(), log_probs.reference.begin(),
                            log_probs.reference.begin() + n);
    rejected_reference.insert(rejected_reference.end(), log_probs.reference.begin() + n,
                              log_probs.reference.end());
  }
  chosen_policy.insert(chosen_policy.end(), rejected_policy.begin(), rejected_policy.end());
  chosen_reference.insert(chosen_reference.end(), rejected_reference.begin(),
                          rejected_reference.end());
  return dpo_statistics(chosen_policy, chosen_reference, beta);
}

// ---- training --------------------------------------------------------------------------------

struct DpoTrainOptions {
  double beta = 0.1;  // the implicit reward's scale: smaller lets the policy move further
  int64_t epochs = 1;
  int64_t batch_size = 8;     // pairs per step (2 rows each, through both models)
  int64_t max_steps = 0;      // > 0: exactly this many steps instead of `epochs` passes
  int64_t micro_batches = 1;  // > 1: the step's batch in that many parts (train/example_loop.hpp)
  double lr = 1e-4, min_lr = 1e-5;
  int64_t warmup_steps = 10;
  double weight_decay = 0.0, beta1 = 0.9, beta2 = 0.95, grad_clip = 1.0;
  uint64_t seed = 0;                       // order of the pairs
  int64_t log_every = 20, eval_every = 0;  // eval_every 0: evaluate at the end only
  int64_t eval_batch_size = 32;            // rows per forward pass when evaluating
  std::filesystem::path metrics_path;
  std::filesystem::path checkpoint_dir;  // empty: no checkpoints
  int64_t checkpoint_every = 0;          // steps between checkpoints; 0: only at the end
  std::filesystem::path resume_from;     // a checkpoint directory to continue from
  int64_t stop_after = 0;  // > 0: stop (and checkpoint) after this step, as if interrupted
  bool progress = true;
  std::string label = "dpo";
};

struct DpoReport {
  int64_t steps = 0;  // counting those before a resume
  double last_loss = NAN, seconds = 0;
  int64_t train_pairs = 0, skipped_too_long = 0;
  DpoEval before, after;  // held-out, before and after training
};

// Trains `policy` by DPO against the frozen `reference` on `train`, evaluating on `held_out`, in
// the loop of train/example_loop.hpp (micro-batches, ranks, checkpoints and exact resume). A
// resumed run must use the same β; the reference is not checkpointed (pass the same one).
template <class T, class Arch, class D, Communicator Comm = SingleProcess>
DpoReport train_dpo(Transformer<T, Arch, D>& policy, const Transformer<T, Arch, D>& reference,
                    std::vector<TokenizedPair> train, std::vector<TokenizedPair> held_out,
                    const ResponseEnds& ends, const DpoTrainOptions& options,
                    const Comm& comm = {}) {
  detail::check_dpo_beta(options.beta, options.label);
  detail::check_dpo_models(policy, reference, options.label);
  // A pair needs a prompt token and a token in each response (tokenize_preference gives them).
  for (const auto& [set, which] : {std::pair{&train, "training"}, std::pair{&held_out, "held-out"}})
    for (std::size_t i = 0; i < set->size(); ++i) {
      const TokenizedPair& p = (*set)[i];
      const std::size_t chosen = ends.length_with_eos(p.chosen);
      const std::size_t rejected = ends.length_with_eos(p.rejected);
      TLCR_CHECK(!p.prompt.empty() && chosen > 0 && rejected > 0, options.label, ": ", which,
                 " pair ", i, " has ", p.prompt.size(), " prompt tokens, ", chosen, " chosen and ",
                 rejected, " rejected tokens up to the first EOS (need at least 1 of each)");
    }
  DpoReport report;
  const std::size_t context = static_cast<std::size_t>(policy.config().context_length);
  auto too_long = [&](const TokenizedPair& p) {
    return p.prompt.size() +
               std::max(ends.length_with_eos(p.chosen), ends.length_with_eos(p.rejected)) >
           context;
  };
  for (auto* set : {&train, &held_out})
    report.skipped_too_long += static_cast<int64_t>(std::erase_if(*set, too_long));
  TLCR_CHECK(!train.empty(), options.label, ": no training pairs fit the context of ", context);
  report.train_pairs = static_cast<int64_t>(train.size());

  auto batch_loss = [&](std::span<const int64_t> indices, nlohmann::json& record) {
    std::vector<TokenizedPair> picked;
    for (int64_t i : indices) picked.push_back(train[i]);
    DpoLogProbs log_probs;
    Var<T, D> loss = dpo_forward_loss(policy, reference, std::span<const TokenizedPair>(picked),
                                      ends, options.beta, &log_probs);
    const DpoEval batch = dpo_statistics(log_probs.policy, log_probs.reference, options.beta);
    record["rewards/chosen"] = batch.reward_chosen;
    record["rewards/rejected"] = batch.reward_rejected;
    record["rewards/accuracies"] = batch.accuracy;
    record["rewards/margins"] = batch.margin;
    record["logps/chosen"] = batch.logps_chosen;
    record["logps/rejected"] = batch.logps_rejected;
    return loss;
  };
  auto evaluate = [&] {
    return evaluate_dpo(policy, reference, std::span<const TokenizedPair>(held_out), ends,
                        options.beta, options.eval_batch_size);
  };
  auto describe = [](const DpoEval& eval) {
    std::ostringstream text;
    text.precision(4);
    text << "held-out accuracy " << eval.accuracy << " | margin " << eval.margin;
    return text.str();
  };
  ExampleLoopOptions loop = example_loop_options(options, /*shuffle_stream=*/17);
  loop.settings["beta"] = options.beta;
  const auto result =
      train_on_examples(policy, report.train_pairs, loop, batch_loss, evaluate, describe, comm);
  report.steps = result.steps;
  report.last_loss = result.last_loss;
  report.before = result.before;
  report.after = result.after;
  report.seconds = result.seconds;
  return report;
}

// ---- files -----------------------------------------------------------------------------------

// What a DPO policy directory records of its training, in config.json's "tlcr_reward" object
// ({"kind": "dpo", "beta": β, "reference": path, "held_out": {…}}): with its reference, the
// policy defines the implicit reward (rlhf/dpo_reward.hpp).
struct DpoPolicyInfo {
  double beta = 0.1;
  std::filesystem::path reference;  // the reference's directory as given when training
};

// A policy directory (config.json, model.safetensors, tokenizer.json) that `tlcr generate` and
// `tlcr eval --policy` open like any model, plus the DPO metadata.
template <class T, class Arch, class D>
void save_dpo_policy(const std::filesystem::path& dir, const Transformer<T, Arch, D>& policy,
                     const BpeTokenizer& tokenizer, const DpoPolicyInfo& info,
                     const DpoEval& eval = {}) {
  TLCR_CHECK(policy.heads().lm, "save_dpo_policy: expected a policy with an LM head, it has none");
  detail::check_dpo_beta(info.beta, "save_dpo_policy");
  save_model(dir, policy, tokenizer);
  write_reward_metadata(dir, {{"kind", "dpo"},
                              {"beta", info.beta},
                              {"reference", info.reference.string()},
                              {"held_out", eval.to_json()}});
}

// The DPO metadata of a policy directory, if it has any.
inline std::optional<DpoPolicyInfo> read_dpo_policy_info(const std::filesystem::path& dir) {
  if (reward_model_kind(dir) != "dpo") return std::nullopt;
  const nlohmann::json metadata = *read_reward_metadata(dir);
  const std::string where = (dir / "config.json").string() + ": field 'tlcr_reward.";
  TLCR_CHECK(metadata.contains("beta") && metadata["beta"].is_number(), where,
             "beta': expected a number, found ",
             metadata.contains("beta") ? describe_json(metadata["beta"]) : "nothing");
  TLCR_CHECK(metadata.contains("reference") && metadata["reference"].is_string(), where,
             "reference': expected a string, found ",
             metadata.contains("reference") ? describe_json(metadata["reference"]) : "nothing");
  DpoPolicyInfo info{metadata["beta"].get<double>(), metadata["reference"].get<std::string>()};
  detail::check_dpo_beta(info.beta, where + "beta'");
  return info;
}

}  // namespace tlcr
