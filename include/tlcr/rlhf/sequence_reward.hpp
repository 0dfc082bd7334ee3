// tlcr/rlhf/sequence_reward.hpp — the Bradley–Terry sequence-level reward model, the baseline
// TLCR compares against (sequence-level PPO in Yoon et al. 2024): data, loss, training, evaluation,
// files, and the model as a TokenRewardModel.
//
// The model is the SFT trunk with a sequence-score head: one scalar s(x, y) read at the last
// response token — EOS included in the response, so the score sees the whole answer and the
// decision to stop. For a pair (x, y_c ≻ y_r) the loss is
//   −log σ(s(x, y_c) − s(x, y_r))        (mean over the pairs of a batch)
// and pairwise accuracy is the share of pairs with s(x, y_c) > s(x, y_r) (ties count half).
// Training: AdamW (β 0.9, 0.95), cosine schedule with warmup, global grad clip, shuffled pairs
// every epoch, checkpoints with exact resume (the loop of train/example_loop.hpp).
//
// Score normalisation (optional, on by default): after training, the mean μ and standard
// deviation σ of the scores of every training response (chosen and rejected) are measured and
// stored in config.json as "tlcr_reward": {"normalization": {"mean": μ, "std": σ}}. A
// SequenceReward loaded with normalisation returns (s − μ) / σ, so rewards have a known scale
// whatever the run (PPO's KL coefficient and reward clip assume that). Pairwise accuracy does not
// change: the map is increasing.
//
// As a TokenRewardModel (SequenceReward): the score sits on the last response token — the EOS
// when the response has one, else its last token (a response cut off by the length limit) — and
// every other token gets 0. This is the classic RLHF placement (the action that ends the answer
// gets the answer's reward) and the one exception to "EOS gets 0"; padding still gets 0.
// Pairs that do not fit the model's context are left out and counted.
// Not here: token-level rewards (rewards.hpp), the hybrid of both (rewards.hpp, HybridReward).
// Shape legend: N = pairs in a batch, B = 2N rows (chosen rows, then rejected rows), T = time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/text/json_describe.hpp"
#include "tlcr/train/example_loop.hpp"

namespace tlcr {

// ---- loss ------------------------------------------------------------------------------------

// mean over pairs of −log σ(chosen − rejected); chosen, rejected (N) → rank 0.
// −log σ(d) is bce_with_logits(d, 1), which stays finite for any d.
template <class T, class D>
Var<T, D> bradley_terry_loss(const Var<T, D>& chosen, const Var<T, D>& rejected) {
  TLCR_CHECK(chosen.shape().rank == 1 && chosen.shape() == rejected.shape(),
             "bradley_terry_loss: expected chosen and rejected scores (N), got ",
             chosen.shape().str(), " and ", rejected.shape().str());
  Tensor<T, D> ones(chosen.shape());
  ones.fill(T(1));
  return mean(bce_with_logits(sub(chosen, rejected), ones));
}

// ---- batches and scores ----------------------------------------------------------------------

namespace detail {
inline void check_sequence_model(const HeadConfig& heads, const std::string& who) {
  TLCR_CHECK(heads.sequence_score, who, ": expected a sequence reward model (a sequence-score ",
             "head), the model has none");
}
}  // namespace detail

// Rows of (prompt, response up to and including its first EOS) and where each row's score is read.
struct ScoredRows {
  PromptResponseBatch rows;
  std::vector<int32_t> last_index;  // (B) position of the row's last response token
};

inline ScoredRows make_scored_rows(const TokenSequences& prompts, const TokenSequences& responses,
                                   const ResponseEnds& ends, int64_t context,
                                   const std::string& who) {
  std::vector<std::size_t> lengths(responses.size());
  for (std::size_t b = 0; b < responses.size(); ++b) {
    lengths[b] = ends.length_with_eos(responses[b]);
    TLCR_CHECK(lengths[b] > 0, who, ": row ", b, " has no response token to read a score at");
  }
  ScoredRows scored;
  scored.rows =
      make_prompt_response_batch(prompts, responses, lengths, context, ends.filler(), who);
  for (std::size_t b = 0; b < responses.size(); ++b)
    scored.last_index.push_back(
        static_cast<int32_t>(scored.rows.response_start[b] + scored.rows.response_length[b] - 1));
  return scored;
}

// Pairs as 2N rows: chosen responses, then rejected ones.
inline ScoredRows make_pair_rows(std::span<const TokenizedPair> pairs, const ResponseEnds& ends,
                                 int64_t context) {
  TokenSequences prompts, responses;
  for (int side = 0; side < 2; ++side)
    for (const TokenizedPair& pair : pairs) {
      prompts.push_back(pair.prompt);
      responses.push_back(side == 0 ? pair.chosen : pair.rejected);
    }
  return make_scored_rows(prompts, responses, ends, context, "reward-model pairs");
}

// One score per row of `batch` (B): its index data, the gather rows included, go up in two uploads.
template <class T, class Arch, class D>
Var<T, D> scored_row_scores(const Transformer<T, Arch, D>& model, const ScoredRows& batch) {
  const TokenBatch& tokens = batch.rows.tokens;
  const std::vector<int32_t> rows =
      Transformer<T, Arch, D>::sequence_rows(tokens.batch, tokens.time, batch.last_index);
  const DeviceBatch<D> up = model.upload(ModelInput::from(tokens), {rows});
  return model.sequence_scores_at(model.hidden(up.tokens), up.indices[0]);
}

// The BT loss of a batch of pairs; `scores` (if given) receives the 2N scores (one download).
template <class T, class Arch, class D>
Var<T, D> bradley_terry_forward_loss(const Transformer<T, Arch, D>& model,
                                     std::span<const TokenizedPair> pairs, const ResponseEnds& ends,
                                     std::vector<double>* scores = nullptr) {
  const ScoredRows batch = make_pair_rows(pairs, ends, model.config().context_length);
  const Var<T, D> s = scored_row_scores(model, batch);
  const int64_t n = static_cast<int64_t>(pairs.size());
  if (scores) {
    const std::vector<T> values = s.value().to_vector();
    scores->assign(values.begin(), values.end());
  }
  return bradley_terry_loss(slice(s, 0, 0, n), slice(s, 0, n, 2 * n));
}

// Raw scores s(x, y), one per row, read at the last response token (EOS included). Rows without
// any response token give NaN. Under NoGrad, `batch_size` rows per forward pass, each one download.
template <class T, class Arch, class D>
std::vector<double> sequence_model_scores(const Transformer<T, Arch, D>& model,
                                          const TokenSequences& prompts,
                                          const TokenSequences& responses, const ResponseEnds& ends,
                                          int64_t batch_size = 16) {
  detail::check_sequence_model(model.heads(), "sequence_model_scores");
  TLCR_CHECK(prompts.size() == responses.size(), "sequence_model_scores: ", prompts.size(),
             " prompts for ", responses.size(), " responses");
  TLCR_CHECK(batch_size > 0, "sequence_model_scores: batch_size must be positive");
  NoGrad no_grad;
  std::vector<double> scores(responses.size(), NAN);
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < responses.size(); ++i)
    if (ends.length_with_eos(responses[i]) > 0) rows.push_back(i);
  for (std::size_t begin = 0; begin < rows.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(rows.size(), begin + static_cast<std::size_t>(batch_size));
    TokenSequences chunk_prompts, chunk_responses;
    for (std::size_t k = begin; k < end; ++k) {
      chunk_prompts.push_back(prompts[rows[k]]);
      chunk_responses.push_back(responses[rows[k]]);
    }
    const ScoredRows batch = make_scored_rows(chunk_prompts, chunk_responses, ends,
                                              model.config().context_length, "sequence reward");
    const Var<T, D> s = scored_row_scores(model, batch);
    const std::vector<T> values = s.value().to_vector();
    for (std::size_t k = begin; k < end; ++k) scores[rows[k]] = values[k - begin];
  }
  return scores;
}

// ---- evaluation ------------------------------------------------------------------------------

struct PairwiseEval {
  int64_t pairs = 0;
  double loss = NAN;         // mean −log σ(s_c − s_r)
  double accuracy = NAN;     // share of pairs with s_c > s_r; ties count half
  double mean_margin = NAN;  // mean s_c − s_r

  nlohmann::ordered_json to_json() const {
    auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
    return {{"pairs", pairs},
            {"loss", number(loss)},
            {"accuracy", number(accuracy)},
            {"mean_margin", number(mean_margin)}};
  }
  // The inverse of to_json (null → NaN), for the copy a checkpoint keeps.
  static PairwiseEval from_json(const nlohmann::json& j) {
    auto number = [&](const char* key) { return j.at(key).is_null() ? NAN : state_number(j, key); };
    return {.pairs = state_integer(j, "pairs"),
            .loss = number("loss"),
            .accuracy = number("accuracy"),
            .mean_margin = number("mean_margin")};
  }
  std::string summary() const {
    std::ostringstream text;
    text.precision(3);
    text << "pairwise accuracy " << accuracy << " | loss " << loss << " | margin " << mean_margin
         << " | " << pairs << " pairs";
    return text.str();
  }
};

template <class T, class Arch, class D>
PairwiseEval evaluate_reward_model(const Transformer<T, Arch, D>& model,
                                   std::span<const TokenizedPair> pairs, const ResponseEnds& ends,
                                   int64_t batch_size = 32) {
  detail::check_sequence_model(model.heads(), "evaluate_reward_model");
  PairwiseEval eval;
  eval.pairs = static_cast<int64_t>(pairs.size());
  if (pairs.empty()) return eval;
  NoGrad no_grad;
  double loss = 0, wins = 0, margin = 0;
  const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, batch_size / 2));
  for (std::size_t begin = 0; begin < pairs.size(); begin += step) {
    const auto part = pairs.subspan(begin, std::min(step, pairs.size() - begin));
    std::vector<double> s;
    loss += double(bradley_terry_forward_loss(model, part, ends, &s).item()) * part.size();
    const std::size_t n = part.size();
    for (std::size_t i = 0; i < n; ++i) {
      const double d = s[i] - s[n + i];
      wins += d > 0 ? 1.0 : d == 0 ? 0.5 : 0.0;
      margin += d;
    }
  }
  eval.loss = loss / double(pairs.size());
  eval.accuracy = wins / double(pairs.size());
  eval.mean_margin = margin / double(pairs.size());
  return eval;
}

// ---- normalisation ---------------------------------------------------------------------------

struct ScoreNormalization {
  double mean = 0, stddev = 1;

  double apply(double score) const { return (score - mean) / stddev; }
  nlohmann::json to_json() const { return {{"mean", mean}, {"std", stddev}}; }
};

// μ and σ (population) of the given scores; σ below 1e-8 is taken as 1 (nothing to scale).
inline ScoreNormalization measure_normalization(const std::vector<double>& scores) {
  ScoreNormalization norm;
  if (scores.empty()) return norm;
  double total = 0;
  for (double s : scores) total += s;
  norm.mean = total / double(scores.size());
  double squares = 0;
  for (double s : scores) squares += (s - norm.mean) * (s - norm.mean);
  const double deviation = std::sqrt(squares / double(scores.size()));
  norm.stddev = deviation > 1e-8 ? deviation : 1.0;
  return norm;
}

// ---- training --------------------------------------------------------------------------------

struct RewardModelTrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 8;     // pairs per step (2 rows each)
  int64_t max_steps = 0;      // > 0: exactly this many steps instead of `epochs` passes
  int64_t micro_batches = 1;  // > 1: the step's batch in that many parts (train/example_loop.hpp)
  double lr = 3e-4, min_lr = 3e-5;
  int64_t warmup_steps = 20;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, grad_clip = 1.0;
  uint64_t seed = 0;                       // order of the pairs
  bool normalize = true;                   // measure μ, σ of the training scores after training
  int64_t log_every = 20, eval_every = 0;  // eval_every 0: evaluate at the end only
  int64_t eval_batch_size = 32;            // rows per forward pass when evaluating
  std::filesystem::path metrics_path;
  std::filesystem::path checkpoint_dir;  // empty: no checkpoints
  int64_t checkpoint_every = 0;          // steps between checkpoints; 0: only at the end
  std::filesystem::path resume_from;     // a checkpoint directory to continue from
  int64_t stop_after = 0;  // > 0: stop (and checkpoint) after this step, as if interrupted
  bool progress = true;
  std::string label = "reward-model";
};

struct RewardModelReport {
  int64_t steps = 0;  // counting those before a resume
  double last_loss = NAN, seconds = 0;
  int64_t train_pairs = 0, skipped_too_long = 0;
  PairwiseEval before, after;                       // held-out, before and after training
  std::optional<ScoreNormalization> normalization;  // when options.normalize
};

// Trains `model` (a sequence reward model) on `train`, evaluating on `held_out`, in the loop of
// train/example_loop.hpp (checkpoints and exact resume included); then, with options.normalize,
// measures the normalisation on the training responses.
template <class T, class Arch, class D, Communicator Comm = SingleProcess>
RewardModelReport train_reward_model(Transformer<T, Arch, D>& model,
                                     std::vector<TokenizedPair> train,
                                     std::vector<TokenizedPair> held_out, const ResponseEnds& ends,
                                     const RewardModelTrainOptions& options,
                                     const Comm& comm = {}) {
  detail::check_sequence_model(model.heads(), options.label);
  RewardModelReport report;
  const std::size_t context = static_cast<std::size_t>(model.config().context_length);
  auto too_long = [&](const TokenizedPair& p) {
    return p.prompt.size() + std::max(p.chosen.size(), p.rejected.size()) > context;
  };
  for (auto* set : {&train, &held_out})
    report.skipped_too_long += static_cast<int64_t>(std::erase_if(*set, too_long));
  TLCR_CHECK(!train.empty(), options.label, ": no training pairs fit the context of ", context);
  report.train_pairs = static_cast<int64_t>(train.size());

  // The pairs' scores also give the batch accuracy: the share of pairs ranked right.
  auto batch_loss = [&](std::span<const int64_t> indices, nlohmann::json& record) {
    std::vector<TokenizedPair> picked;
    for (int64_t i : indices) picked.push_back(train[i]);
    std::vector<double> scores;
    Var<T, D> loss =
        bradley_terry_forward_loss(model, std::span<const TokenizedPair>(picked), ends, &scores);
    int64_t right = 0;
    const std::size_t n = picked.size();
    for (std::size_t i = 0; i < n; ++i) right += scores[i] > scores[n + i];
    record["batch_accuracy"] = double(right) / double(n);
    return loss;
  };
  auto evaluate = [&] {
    return evaluate_reward_model(model, std::span<const TokenizedPair>(held_out), ends,
                                 options.eval_batch_size);
  };
  auto describe = [](const PairwiseEval& eval) {
    std::ostringstream text;
    text.precision(4);
    text << "held-out accuracy " << eval.accuracy;
    return text.str();
  };
  const auto result =
      train_on_examples(model, report.train_pairs, example_loop_options(options, 13), batch_loss,
                        evaluate, describe, comm);
  report.steps = result.steps;
  report.last_loss = result.last_loss;
  report.before = result.before;
  report.after = result.after;

  Stopwatch clock;
  if (options.normalize) {
    TokenSequences prompts, responses;
    for (const TokenizedPair& pair : train)
      for (const auto* response : {&pair.chosen, &pair.rejected}) {
        prompts.push_back(pair.prompt);
        responses.push_back(*response);
      }
    report.normalization = measure_normalization(
        sequence_model_scores(model, prompts, responses, ends, options.eval_batch_size));
  }
  report.seconds = result.seconds + clock.seconds();
  return report;
}

// ---- files -----------------------------------------------------------------------------------

template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> reward_model_from_sft(const std::filesystem::path& sft_dir,
                                              uint64_t seed = 0) {
  return model_with_trunk_of<T, Arch, D>(sft_dir, HeadConfig{.lm = false, .sequence_score = true},
                                         seed);
}

// A model directory plus "tlcr_reward": {"kind": "bradley_terry", "normalization": {…} | null, …}.
template <class T, class Arch, class D>
void save_reward_model(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                       const std::optional<ScoreNormalization>& normalization,
                       const PairwiseEval& eval = {}) {
  detail::check_sequence_model(model.heads(), "save_reward_model");
  save_model(dir, model);
  write_reward_metadata(
      dir, {{"kind", "bradley_terry"},
            {"normalization", normalization ? normalization->to_json() : nlohmann::json()},
            {"held_out", eval.to_json()}});
}

// The same, plus <dir>/tokenizer.json.
template <class T, class Arch, class D>
void save_reward_model(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                       const BpeTokenizer& tokenizer,
                       const std::optional<ScoreNormalization>& normalization,
                       const PairwiseEval& eval = {}) {
  save_reward_model(dir, model, normalization, eval);
  save_tokenizer(tokenizer, dir / "tokenizer.json");
}

template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> load_reward_model(const std::filesystem::path& dir) {
  Transformer<T, Arch, D> model = load_model<T, Arch, D>(dir);
  TLCR_CHECK(model.heads().sequence_score, dir.string(),
             ": not a sequence reward model (its config.json declares no sequence-score head)");
  return model;
}

// The normalisation stored with a reward model, if any.
inline std::optional<ScoreNormalization> read_score_normalization(
    const std::filesystem::path& dir) {
  const auto metadata = read_reward_metadata(dir);
  if (!metadata || !metadata->contains("normalization") || (*metadata)["normalization"].is_null())
    return std::nullopt;
  const nlohmann::json& j = (*metadata)["normalization"];
  const std::string where = (dir / "config.json").string() + ": field 'tlcr_reward.normalization'";
  TLCR_CHECK(j.is_object() && j.contains("mean") && j["mean"].is_number() && j.contains("std") &&
                 j["std"].is_number(),
             where, ": expected {\"mean\": number, \"std\": number}, found ", describe_json(j));
  ScoreNormalization norm{j["mean"].get<double>(), j["std"].get<double>()};
  TLCR_CHECK(norm.stddev > 0, where, ": std must be positive, found ", norm.stddev);
  return norm;
}

// ---- as a TokenRewardModel -------------------------------------------------------------------

// The (normalised) sequence score on the last response token (EOS if present), 0 elsewhere.
template <class T, class Arch, class D = Cpu>
class SequenceReward {
 public:
  SequenceReward(std::shared_ptr<const Transformer<T, Arch, D>> model, ResponseEnds ends,
                 std::optional<ScoreNormalization> normalization = {}, int64_t batch_size = 16)
      : model_(std::move(model)),
        ends_(ends),
        normalization_(normalization),
        batch_size_(batch_size) {
    TLCR_CHECK(model_ != nullptr, "SequenceReward: no model");
    detail::check_sequence_model(model_->heads(), "SequenceReward");
  }

  // One score per row, normalised when the reward has a normalisation; NaN for empty responses.
  std::vector<double> sequence_scores(const TokenSequences& prompts,
                                      const TokenSequences& responses) const {
    std::vector<double> scores =
        sequence_model_scores(*model_, prompts, responses, ends_, batch_size_);
    if (normalization_)
      for (double& s : scores) s = normalization_->apply(s);
    return scores;
  }

  TokenRewards score(const TokenSequences& prompts, const TokenSequences& responses) const {
    const std::vector<double> scores = sequence_scores(prompts, responses);
    TokenRewards rewards(responses.size());
    for (std::size_t row = 0; row < responses.size(); ++row) {
      rewards[row].assign(responses[row].size(), 0.0f);
      const std::size_t length = ends_.length_with_eos(responses[row]);
      if (length > 0) rewards[row][length - 1] = static_cast<float>(scores[row]);
    }
    return rewards;
  }
  std::string name() const { return normalization_ ? "sequence (normalised)" : "sequence"; }

  const std::optional<ScoreNormalization>& normalization() const { return normalization_; }
  const Transformer<T, Arch, D>& model() const { return *model_; }
  const ResponseEnds& ends() const { return ends_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  std::shared_ptr<const Transformer<T, Arch, D>> model_;
  ResponseEnds ends_;
  std::optional<ScoreNormalization> normalization_;
  int64_t batch_size_;
};

// Loads a reward-model directory as a SequenceReward; with `normalize`, the stored normalisation
// is applied (and must exist).
template <class T, class Arch, class D = Cpu>
SequenceReward<T, Arch, D> load_sequence_reward(const std::filesystem::path& dir,
                                                const ResponseEnds& ends, bool normalize = true,
                                                int64_t batch_size = 16) {
  std::optional<ScoreNormalization> normalization;
  if (normalize) {
    normalization = read_score_normalization(dir);
    TLCR_CHECK(normalization.has_value(), dir.string(),
               ": no score normalisation stored (train with normalisation, or load without it)");
  }
  return SequenceReward<T, Arch, D>(
      std::make_shared<const Transformer<T, Arch, D>>(load_reward_model<T, Arch, D>(dir)), ends,
      normalization, batch_size);
}

}  // namespace tlcr
