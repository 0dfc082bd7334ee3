// tlcr/rlhf/discriminator.hpp — the TLCR token discriminator D_φ (Yoon et al. 2024, Fig. 2b):
// data, loss, training, evaluation, files.
//
// D_φ is the SFT model's trunk with a 2-logit classifier head (no bias). It reads the prompt and
// then the response; at every response token t it gives p_t = softmax(z_t)[1] = P(positive),
// computed from the hidden state at t (causal: token t itself is visible).
//
// Loss, per (prompt, rejected, revised) triple — soft-target cross-entropy per labelled token:
//   rejected token: D or S → target (1, 0),  U → (0.5, 0.5)
//   revised token:  A or S → target (0, 1),  U → (0.5, 0.5)
//   L = mean over the rejected response's labelled tokens + mean over the revised one's
// and the batch loss is the mean of L over the triples. Prompt, EOS and padding carry no loss,
// there are no class weights, and neutral tokens are pulled toward p = 0.5 (reward ≈ 0).
// LabelMode::Hard trains on edited tokens only (U tokens unlabelled); a response without edits
// then contributes 0.
// Training: AdamW (β 0.9, 0.95), cosine schedule with warmup, global grad clip, shuffled triples
// every epoch, checkpoints with exact resume (the loop of train/example_loop.hpp). Evaluation on
// held-out triples reports the loss, accuracy on edited tokens (per class and balanced, so 0.5 is
// chance whatever the class mix) and pairwise accuracy: the mean token reward 2p − 1 of the
// chosen response beats the rejected one's.
// Examples that do not fit the model's context are left out and counted.
// Not here: labels from revisions (labels.hpp), rewards from p (rewards.hpp).
// Shape legend: N = triples in a batch, B = 2N rows (rejected rows, then revised rows),
// T = padded time, K = 2 classes (negative, positive).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/ops/token_stats.hpp"
#include "tlcr/rlhf/labels.hpp"
#include "tlcr/rlhf/reward_data.hpp"
#include "tlcr/train/example_loop.hpp"

namespace tlcr {

// ---- examples --------------------------------------------------------------------------------

enum class LabelMode {
  Soft,  // every response token: edited → (1,0) or (0,1), kept → (0.5, 0.5)   (the paper)
  Hard,  // edited tokens only
};

inline const char* label_mode_name(LabelMode mode) {
  return mode == LabelMode::Soft ? "soft" : "hard";
}

// One labelled triple as token ids. Labels: −1 negative, 0 neutral, +1 positive, one per token.
struct DiscriminatorExample {
  std::vector<int32_t> prompt;                          // ChatFormat::encode_prompt
  std::vector<int32_t> rejected, revised, chosen;       // response tokens, no EOS
  std::vector<int8_t> rejected_labels, revised_labels;  // (rejected), (revised)

  // The longest row this example puts into a batch.
  std::size_t longest_row() const {
    return prompt.size() + std::max({rejected.size(), revised.size(), chosen.size()});
  }
};

// Tokenizes the prompt and chosen text and checks the stored ids against the tokenizer.
inline DiscriminatorExample make_discriminator_example(const BpeTokenizer& tokenizer,
                                                       const PromptLabelRecord& record,
                                                       const ChatFormat& format = {},
                                                       const std::string& where = "label record") {
  const LabelRecord& labels = record.labels;
  TLCR_CHECK(labels.rejected_ops.size() == labels.rejected_ids.size() &&
                 labels.revised_ops.size() == labels.revised_ids.size(),
             where, ": ", labels.rejected_ops.size(), " rejected ops for ",
             labels.rejected_ids.size(), " ids, ", labels.revised_ops.size(), " revised ops for ",
             labels.revised_ids.size(), " ids");
  const int64_t vocab = tokenizer.vocab_size();
  check_token_ids(labels.rejected_ids, vocab, where + ": field 'rejected_ids'");
  check_token_ids(labels.revised_ids, vocab, where + ": field 'revised_ids'");
  DiscriminatorExample example;
  example.prompt = format.encode_prompt(tokenizer, record.prompt);
  example.chosen = label_tokens(tokenizer, format, record.chosen);
  example.rejected = labels.rejected_ids;
  example.revised = labels.revised_ids;
  example.rejected_labels = rejected_token_labels(labels.rejected_ops);
  example.revised_labels = revised_token_labels(labels.revised_ops);
  return example;
}

inline std::vector<DiscriminatorExample> make_discriminator_examples(
    const BpeTokenizer& tokenizer, std::span<const PromptLabelRecord> records,
    const ChatFormat& format = {}) {
  std::vector<DiscriminatorExample> examples;
  examples.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i)
    examples.push_back(make_discriminator_example(tokenizer, records[i], format,
                                                  "label record " + std::to_string(i)));
  return examples;
}

// ---- batch and loss --------------------------------------------------------------------------

// The target P(positive) of a label.
inline double positive_target(int8_t label) {
  return label > 0 ? 1.0 : label < 0 ? 0.0 : 0.5;
}

template <class T>
struct DiscriminatorBatch {
  PromptResponseBatch rows;  // B = 2N rows: rejected responses, then revised, each after its prompt
  Tensor<T> targets;         // (B·T, K) target distribution (P(negative), P(positive))
  std::vector<T> weights;  // (B·T) 1 / (labelled tokens of the row · N) on labelled tokens, else 0
  int64_t examples = 0;    // N
  int64_t labelled_tokens = 0;
  std::vector<int8_t> labels;  // (B·T) the label of each position (0 outside responses)
};

// Lays out N triples as 2N rows with their targets and weights. Rows must fit `context`.
template <class T>
DiscriminatorBatch<T> make_discriminator_batch(std::span<const DiscriminatorExample> examples,
                                               LabelMode mode, int64_t context, int32_t filler) {
  TLCR_CHECK(!examples.empty(), "make_discriminator_batch: no examples");
  const std::size_t n = examples.size();
  std::vector<std::vector<int32_t>> prompts, responses;
  std::vector<const std::vector<int8_t>*> row_labels;
  for (int side = 0; side < 2; ++side) {
    for (const DiscriminatorExample& example : examples) {
      const auto& tokens = side == 0 ? example.rejected : example.revised;
      const auto& labels = side == 0 ? example.rejected_labels : example.revised_labels;
      TLCR_CHECK(tokens.size() == labels.size(), "make_discriminator_batch: ", labels.size(),
                 " labels for ", tokens.size(), " response tokens");
      prompts.push_back(example.prompt);
      responses.push_back(tokens);
      row_labels.push_back(&labels);
    }
  }
  std::vector<std::size_t> lengths(responses.size());
  for (std::size_t r = 0; r < responses.size(); ++r) lengths[r] = responses[r].size();

  DiscriminatorBatch<T> batch;
  batch.examples = static_cast<int64_t>(n);
  batch.rows = make_prompt_response_batch(prompts, responses, lengths, context, filler,
                                          "make_discriminator_batch");
  const int64_t positions = batch.rows.tokens.size();
  batch.targets = Tensor<T>(Shape{positions, 2});
  batch.weights.assign(static_cast<std::size_t>(positions), T(0));
  batch.labels.assign(static_cast<std::size_t>(positions), 0);
  for (std::size_t r = 0; r < responses.size(); ++r) {
    const std::vector<int8_t>& labels = *row_labels[r];
    int64_t labelled = 0;
    for (int8_t label : labels) labelled += mode == LabelMode::Soft || label != 0;
    batch.labelled_tokens += labelled;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const int64_t at = batch.rows.at(static_cast<int64_t>(r), static_cast<int64_t>(i));
      const double positive = positive_target(labels[i]);
      batch.targets.data()[at * 2 + 0] = static_cast<T>(1.0 - positive);
      batch.targets.data()[at * 2 + 1] = static_cast<T>(positive);
      batch.labels[at] = labels[i];
      if (mode == LabelMode::Soft || labels[i] != 0)
        batch.weights[at] = static_cast<T>(1.0 / (double(labelled) * double(n)));
    }
  }
  return batch;
}

// The batch loss from the classifier logits (B,T,K) → rank 0:
// Σ_positions w · (−Σ_k y_k log softmax(z)_k) = mean over triples of (rejected mean + revised
// mean). The host-built targets and weights go to the logits' device in one upload.
template <class T, class D>
Var<T, D> discriminator_loss(const Var<T, D>& logits, const DiscriminatorBatch<T>& batch) {
  const TokenBatch& tokens = batch.rows.tokens;
  TLCR_CHECK(logits.shape() == (Shape{tokens.batch, tokens.time, 2}),
             "discriminator_loss: expected logits (", tokens.batch, ", ", tokens.time, ", 2), got ",
             logits.shape().str());
  const int64_t P = tokens.size();
  std::vector<T> host(batch.targets.begin(), batch.targets.end());  // (P·2) targets, (P) weights
  host.insert(host.end(), batch.weights.begin(), batch.weights.end());
  const auto device = Tensor<T, D>::from(Shape{3 * P}, host);
  const Var<T, D> flat = reshape(logits, Shape{P, 2});
  return sum(soft_cross_entropy(flat, device.slice(0, 2 * P).reshape(Shape{P, 2}),
                                device.slice(2 * P, 3 * P)));
}

template <class T, class Arch, class D>
Var<T, D> discriminator_forward_loss(const Transformer<T, Arch, D>& model,
                                     const DiscriminatorBatch<T>& batch) {
  const Var<T, D> h = model.hidden(ModelInput::from(batch.rows.tokens));
  return discriminator_loss(model.token_logits(h), batch);
}

// ---- probabilities ---------------------------------------------------------------------------

namespace detail {
inline void check_discriminator(const HeadConfig& heads, const std::string& who) {
  TLCR_CHECK(heads.token_classes == 2, who, ": expected a token discriminator (2 token classes), ",
             "the model has ", heads.token_classes);
}
}  // namespace detail

inline constexpr float kNotScored = std::numeric_limits<float>::quiet_NaN();

// p_t for every scored response token (those before the first EOS or PAD); kNotScored (NaN) on
// EOS, padding and whatever follows them. Runs under NoGrad, `batch_size` rows per forward pass;
// each pass's p = σ(z1 − z0) (ops/token_stats.hpp) crosses to the host as one (B·T) vector.
template <class T, class Arch, class D>
TokenRewards discriminator_probabilities(const Transformer<T, Arch, D>& model,
                                         const TokenSequences& prompts,
                                         const TokenSequences& responses, const ResponseEnds& ends,
                                         int64_t batch_size = 16) {
  detail::check_discriminator(model.heads(), "discriminator_probabilities");
  TLCR_CHECK(prompts.size() == responses.size(), "discriminator_probabilities: ", prompts.size(),
             " prompts for ", responses.size(), " responses");
  TLCR_CHECK(batch_size > 0, "discriminator_probabilities: batch_size must be positive");
  NoGrad no_grad;
  TokenRewards p(responses.size());
  for (std::size_t i = 0; i < responses.size(); ++i) p[i].assign(responses[i].size(), kNotScored);

  // Rows with something to read, in order, batch_size at a time.
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < responses.size(); ++i)
    if (ends.scored_length(responses[i]) > 0) rows.push_back(i);
  for (std::size_t begin = 0; begin < rows.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(rows.size(), begin + static_cast<std::size_t>(batch_size));
    std::vector<std::vector<int32_t>> chunk_prompts, chunk_responses;
    std::vector<std::size_t> lengths;
    for (std::size_t k = begin; k < end; ++k) {
      chunk_prompts.push_back(prompts[rows[k]]);
      chunk_responses.push_back(responses[rows[k]]);
      lengths.push_back(ends.scored_length(responses[rows[k]]));
    }
    const PromptResponseBatch batch =
        make_prompt_response_batch(chunk_prompts, chunk_responses, lengths,
                                   model.config().context_length, ends.filler(), "discriminator");
    const Var<T, D> logits = model.token_logits(model.hidden(ModelInput::from(batch.tokens)));
    const std::vector<float> positive = positive_probabilities(logits.value()).to_vector();
    for (std::size_t k = begin; k < end; ++k) {
      const int64_t b = static_cast<int64_t>(k - begin);
      for (int64_t i = 0; i < batch.response_length[b]; ++i)
        p[rows[k]][i] = positive[batch.at(b, i)];
    }
  }
  return p;
}

// ---- evaluation ------------------------------------------------------------------------------

struct DiscriminatorEval {
  int64_t examples = 0;
  double loss = NAN;  // the training objective on these examples
  int64_t negative_tokens = 0, positive_tokens = 0, neutral_tokens = 0;
  double negative_accuracy = NAN;  // share of negative (D/S on rejected) tokens with p < 0.5
  double positive_accuracy = NAN;  // share of positive (A/S on revised) tokens with p > 0.5
  double edited_accuracy = NAN;    // over all edited tokens together
  double balanced_accuracy = NAN;  // mean of the two class accuracies: chance is 0.5
  double neutral_mean_p = NAN;     // mean p over kept (U) tokens; the target is 0.5
  double pairwise_accuracy = NAN;  // mean r(chosen) > mean r(rejected), r = 2p − 1; ties half

  nlohmann::ordered_json to_json() const {
    auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
    return {{"examples", examples},
            {"loss", number(loss)},
            {"negative_tokens", negative_tokens},
            {"positive_tokens", positive_tokens},
            {"neutral_tokens", neutral_tokens},
            {"negative_accuracy", number(negative_accuracy)},
            {"positive_accuracy", number(positive_accuracy)},
            {"edited_accuracy", number(edited_accuracy)},
            {"balanced_accuracy", number(balanced_accuracy)},
            {"neutral_mean_p", number(neutral_mean_p)},
            {"pairwise_accuracy", number(pairwise_accuracy)}};
  }
  // The inverse of to_json (null → NaN), for the copy a checkpoint keeps.
  static DiscriminatorEval from_json(const nlohmann::json& j) {
    auto number = [&](const char* key) { return j.at(key).is_null() ? NAN : state_number(j, key); };
    DiscriminatorEval eval;
    eval.examples = state_integer(j, "examples");
    eval.loss = number("loss");
    eval.negative_tokens = state_integer(j, "negative_tokens");
    eval.positive_tokens = state_integer(j, "positive_tokens");
    eval.neutral_tokens = state_integer(j, "neutral_tokens");
    eval.negative_accuracy = number("negative_accuracy");
    eval.positive_accuracy = number("positive_accuracy");
    eval.edited_accuracy = number("edited_accuracy");
    eval.balanced_accuracy = number("balanced_accuracy");
    eval.neutral_mean_p = number("neutral_mean_p");
    eval.pairwise_accuracy = number("pairwise_accuracy");
    return eval;
  }
  std::string summary() const {
    std::ostringstream text;
    text.precision(3);
    text << "edited-token accuracy " << edited_accuracy << " (negative " << negative_accuracy
         << ", positive " << positive_accuracy << ", balanced " << balanced_accuracy
         << ") | pairwise " << pairwise_accuracy << " | loss " << loss << " | " << examples
         << " examples";
    return text.str();
  }
};

namespace detail {
inline double mean_reward(std::span<const float> p) {
  if (p.empty()) return 0;
  double total = 0;
  for (float x : p) total += 2.0 * x - 1.0;
  return total / double(p.size());
}
}  // namespace detail

template <class T, class Arch, class D>
DiscriminatorEval evaluate_discriminator(const Transformer<T, Arch, D>& model,
                                         std::span<const DiscriminatorExample> examples,
                                         LabelMode mode, const ResponseEnds& ends,
                                         int64_t batch_size = 16) {
  detail::check_discriminator(model.heads(), "evaluate_discriminator");
  DiscriminatorEval eval;
  eval.examples = static_cast<int64_t>(examples.size());
  if (examples.empty()) return eval;
  NoGrad no_grad;
  double loss_sum = 0, neutral_p = 0, pair_wins = 0;
  int64_t negative_right = 0, positive_right = 0;
  TokenSequences prompts, chosen;
  std::vector<double> rejected_mean;
  const int64_t step = std::max<int64_t>(1, batch_size / 2);  // two rows per example
  for (std::size_t begin = 0; begin < examples.size(); begin += static_cast<std::size_t>(step)) {
    const std::size_t end = std::min(examples.size(), begin + static_cast<std::size_t>(step));
    const auto part = examples.subspan(begin, end - begin);
    const DiscriminatorBatch<T> batch =
        make_discriminator_batch<T>(part, mode, model.config().context_length, ends.filler());
    const Var<T, D> logits = model.token_logits(model.hidden(ModelInput::from(batch.rows.tokens)));
    loss_sum += double(discriminator_loss(logits, batch).item()) * double(part.size());
    const std::vector<float> positive = positive_probabilities(logits.value()).to_vector();
    const int64_t n = static_cast<int64_t>(part.size());
    for (int64_t row = 0; row < 2 * n; ++row) {
      std::vector<float> row_p(static_cast<std::size_t>(batch.rows.response_length[row]));
      for (int64_t i = 0; i < batch.rows.response_length[row]; ++i) {
        const int64_t at = batch.rows.at(row, i);
        const float p = positive[at];
        row_p[i] = p;
        const int8_t label = batch.labels[at];
        if (label < 0) {
          ++eval.negative_tokens;
          negative_right += p < 0.5f;
        } else if (label > 0) {
          ++eval.positive_tokens;
          positive_right += p > 0.5f;
        } else {
          ++eval.neutral_tokens;
          neutral_p += p;
        }
      }
      if (row < n) rejected_mean.push_back(detail::mean_reward(row_p));
    }
    for (const DiscriminatorExample& example : part) {
      prompts.push_back(example.prompt);
      chosen.push_back(example.chosen);
    }
  }
  const TokenRewards chosen_p =
      discriminator_probabilities(model, prompts, chosen, ends, batch_size);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const double chosen_mean = detail::mean_reward(chosen_p[i]);
    pair_wins += chosen_mean > rejected_mean[i] ? 1.0 : chosen_mean == rejected_mean[i] ? 0.5 : 0.0;
  }
  auto ratio = [](double a, double b) { return b > 0 ? a / b : NAN; };
  eval.loss = loss_sum / double(examples.size());
  eval.negative_accuracy = ratio(negative_right, eval.negative_tokens);
  eval.positive_accuracy = ratio(positive_right, eval.positive_tokens);
  eval.edited_accuracy =
      ratio(negative_right + positive_right, eval.negative_tokens + eval.positive_tokens);
  eval.balanced_accuracy = 0.5 * (eval.negative_accuracy + eval.positive_accuracy);
  eval.neutral_mean_p = ratio(neutral_p, eval.neutral_tokens);
  eval.pairwise_accuracy = pair_wins / double(examples.size());
  return eval;
}

// ---- training --------------------------------------------------------------------------------

struct DiscriminatorTrainOptions {
  int64_t epochs = 2;
  int64_t batch_size = 8;     // triples per step (2 rows each)
  int64_t max_steps = 0;      // > 0: exactly this many steps instead of `epochs` passes
  int64_t micro_batches = 1;  // > 1: the step's batch in that many parts (train/example_loop.hpp)
  LabelMode labels = LabelMode::Soft;
  // The paper's 7B run used lr 1e-5; small models from scratch want more.
  double lr = 3e-4, min_lr = 3e-5;
  int64_t warmup_steps = 20;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, grad_clip = 1.0;
  uint64_t seed = 0;                       // order of the triples
  int64_t log_every = 20, eval_every = 0;  // eval_every 0: evaluate at the end only
  int64_t eval_batch_size = 32;            // rows per forward pass when evaluating
  std::filesystem::path metrics_path;      // empty: no metrics file
  std::filesystem::path checkpoint_dir;    // empty: no checkpoints
  int64_t checkpoint_every = 0;            // steps between checkpoints; 0: only at the end
  std::filesystem::path resume_from;       // a checkpoint directory to continue from
  int64_t stop_after = 0;  // > 0: stop (and checkpoint) after this step, as if interrupted
  bool progress = true;
  std::string label = "discriminator";
};

struct DiscriminatorReport {
  int64_t steps = 0;  // counting those before a resume
  double last_loss = NAN, seconds = 0;
  int64_t train_examples = 0, skipped_too_long = 0;  // examples that did not fit the context
  DiscriminatorEval before, after;                   // held-out, before and after training
};

// Trains `model` (a discriminator: token_classes == 2) on `train`, evaluating on `held_out`, in
// the loop of train/example_loop.hpp (checkpoints and exact resume included; several ranks with a
// communicator, rank 0 alone evaluating).
template <class T, class Arch, class D, Communicator Comm = SingleProcess>
DiscriminatorReport train_discriminator(Transformer<T, Arch, D>& model,
                                        std::vector<DiscriminatorExample> train,
                                        std::vector<DiscriminatorExample> held_out,
                                        const ResponseEnds& ends,
                                        const DiscriminatorTrainOptions& options,
                                        const Comm& comm = {}) {
  detail::check_discriminator(model.heads(), options.label);
  DiscriminatorReport report;
  const std::size_t context = static_cast<std::size_t>(model.config().context_length);
  auto too_long = [&](const DiscriminatorExample& e) { return e.longest_row() > context; };
  for (auto* set : {&train, &held_out}) {
    const auto removed = std::erase_if(*set, too_long);
    report.skipped_too_long += static_cast<int64_t>(removed);
  }
  TLCR_CHECK(!train.empty(), options.label, ": no training examples fit the context of ", context);
  report.train_examples = static_cast<int64_t>(train.size());

  ExampleLoopOptions loop = example_loop_options(options, /*shuffle_stream=*/11);
  loop.settings = {{"label_mode", label_mode_name(options.labels)}};
  auto batch_loss = [&](std::span<const int64_t> indices, nlohmann::json&) {
    std::vector<DiscriminatorExample> picked;
    for (int64_t i : indices) picked.push_back(train[i]);
    const DiscriminatorBatch<T> batch = make_discriminator_batch<T>(
        picked, options.labels, model.config().context_length, ends.filler());
    return discriminator_forward_loss(model, batch);
  };
  auto evaluate = [&] {
    return evaluate_discriminator(model, std::span<const DiscriminatorExample>(held_out),
                                  options.labels, ends, options.eval_batch_size);
  };
  auto describe = [](const DiscriminatorEval& eval) {
    std::ostringstream text;
    text.precision(4);
    text << "held-out balanced acc " << eval.balanced_accuracy << ", pairwise "
         << eval.pairwise_accuracy;
    return text.str();
  };
  const auto result =
      train_on_examples(model, report.train_examples, loop, batch_loss, evaluate, describe, comm);
  report.steps = result.steps;
  report.last_loss = result.last_loss;
  report.seconds = result.seconds;
  report.before = result.before;
  report.after = result.after;
  return report;
}

// ---- files -----------------------------------------------------------------------------------

// A fresh discriminator on the trunk of the model in `sft_dir`; the head is drawn from `seed`.
template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> discriminator_from_sft(const std::filesystem::path& sft_dir,
                                               uint64_t seed = 0) {
  return model_with_trunk_of<T, Arch, D>(sft_dir, HeadConfig{.lm = false, .token_classes = 2},
                                         seed);
}

// A model directory (io/model_dir.hpp) plus "tlcr_reward": {"kind": "token_discriminator", …}.
template <class T, class Arch, class D>
void save_discriminator(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                        LabelMode mode, const DiscriminatorEval& eval = {}) {
  detail::check_discriminator(model.heads(), "save_discriminator");
  save_model(dir, model);
  write_reward_metadata(dir, {{"kind", "token_discriminator"},
                              {"label_mode", label_mode_name(mode)},
                              {"held_out", eval.to_json()}});
}

// The same, plus <dir>/tokenizer.json.
template <class T, class Arch, class D>
void save_discriminator(const std::filesystem::path& dir, const Transformer<T, Arch, D>& model,
                        const BpeTokenizer& tokenizer, LabelMode mode,
                        const DiscriminatorEval& eval = {}) {
  save_discriminator(dir, model, mode, eval);
  save_tokenizer(tokenizer, dir / "tokenizer.json");
}

template <class T, class Arch, class D = Cpu>
Transformer<T, Arch, D> load_discriminator(const std::filesystem::path& dir) {
  Transformer<T, Arch, D> model = load_model<T, Arch, D>(dir);
  TLCR_CHECK(model.heads().token_classes == 2, dir.string(),
             ": not a token discriminator (its config.json declares ", model.heads().token_classes,
             " token classes, expected 2)");
  return model;
}

}  // namespace tlcr
