// tlcr/train/lm_trainer.hpp — language-model training: pretraining on text and SFT on
// (prompt, response) pairs are the same loop over different batchers (LmBatcher / SequenceBatcher
// from train/batches.hpp; SFT targets only the response tokens).
//
// Each step: zero the gradient buffer, accumulate `grad_accum` micro-batches of mean next-token
// cross-entropy (with dropout when asked: each micro-batch's masks seeded from (dropout_seed,
// step, micro-batch), nn/dropout.hpp; held-out batches never drop), stop with a report on a non-finite loss, then apply_gradients (train_step.hpp:
// finite check, clip, AdamW step at the cosine-schedule rate). Every `log_every` steps a progress line goes to stderr
// and a record to the metrics JSONL; every `eval_every` steps the held-out batches are scored;
// every `checkpoint_every` steps (and at the end) a checkpoint is written, from which `resume`
// continues bit for bit. Not here: RLHF losses (rlhf/), the command line (examples/tlcr/). Shape
// legend: B = batch rows, T = time, V = vocabulary.
#pragma once

#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/dist/data_parallel.hpp"
#include "tlcr/optim/schedule.hpp"
#include "tlcr/train/checkpoint.hpp"
#include "tlcr/train/metrics.hpp"
#include "tlcr/train/train_step.hpp"

namespace tlcr {

struct LmTrainOptions {
  int64_t steps = 1000;
  int64_t grad_accum = 1;
  double lr = 1e-3, min_lr = 1e-4;
  int64_t warmup_steps = 50;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, grad_clip = 1.0;
  DropoutRates dropout;                                            // all 0: none
  uint64_t dropout_seed = 0;                                       // the run's masks derive from it
  int64_t log_every = 20, eval_every = 200, checkpoint_every = 0;  // 0: checkpoint only at the end
  std::filesystem::path checkpoint_dir;                            // empty: no checkpoints
  std::filesystem::path metrics_path;                              // empty: no metrics file
  std::filesystem::path resume_from;  // a checkpoint directory to continue from
  int64_t stop_after = 0;  // >0: stop (and checkpoint) after this step, as if interrupted
  bool progress = true;
  std::string label = "train";
  // The caller's own settings (batch size, seed, …), saved in checkpoints and checked on resume
  // with the trainer's: a resumed run must be the run that stopped.
  nlohmann::json settings = nlohmann::json::object();
};

namespace detail {
// What must not change between a run and its resumption.
inline nlohmann::json lm_train_settings(const LmTrainOptions& o) {
  nlohmann::json settings{{"steps", o.steps},
                          {"grad_accum", o.grad_accum},
                          {"lr", o.lr},
                          {"min_lr", o.min_lr},
                          {"warmup_steps", o.warmup_steps},
                          {"weight_decay", o.weight_decay},
                          {"beta1", o.beta1},
                          {"beta2", o.beta2},
                          {"grad_clip", o.grad_clip}};
  if (o.dropout.any()) {  // runs without dropout keep the settings they always had
    settings["dropout"] = o.dropout.to_json();
    settings["dropout_seed"] = o.dropout_seed;
  }
  settings.update(o.settings);
  return settings;
}
}  // namespace detail

struct LmTrainReport {
  int64_t steps = 0;
  double last_loss = 0, eval_loss = NAN, seconds = 0, tokens_per_second = 0;
};

// Mean cross-entropy of the batch's targets (B·T, kIgnoreIndex skipped) → rank 0, with `dropout`
// in the forward pass (default: none). The targets go up with the ids and positions: two uploads
// in all.
template <class T, class Arch, class D>
Var<T, D> language_model_loss(const Transformer<T, Arch, D>& model, const TokenBatch& batch,
                              const Dropout& dropout = {}) {
  const DeviceBatch<D> up = model.upload(ModelInput::from(batch), {batch.targets});
  return model.lm_loss(model.hidden(up.tokens, nullptr, dropout), up.indices[0]);
}

// Mean loss over held-out batches, weighted by their target counts.
template <class T, class Arch, class D>
double evaluate_loss(const Transformer<T, Arch, D>& model, const std::vector<TokenBatch>& batches) {
  NoGrad no_grad;
  double total = 0, count = 0;
  for (const TokenBatch& batch : batches) {
    const double n = static_cast<double>(batch.target_count());
    if (n == 0) continue;
    total += language_model_loss(model, batch).item() * n;
    count += n;
  }
  return count > 0 ? total / count : NAN;
}

// With a communicator of several ranks (dist/communicator.hpp; every rank calls this with the
// same model, batcher and options): the micro-batches of each step are shared out and their
// gradients summed in a fixed order (dist/data_parallel.hpp), so the weights are bitwise those of
// one process; only rank 0 evaluates, prints, logs and checkpoints. grad_accum is the global
// number of micro-batches per step, whatever the rank count.
template <class T, class Arch, class D, class Batcher, Communicator Comm = SingleProcess>
LmTrainReport train_language_model(Transformer<T, Arch, D>& model, Batcher& batcher,
                                   const std::vector<TokenBatch>& eval_batches,
                                   const LmTrainOptions& options, const Comm& comm = {}) {
  TLCR_CHECK(options.steps > 0 && options.grad_accum > 0, options.label,
             ": steps and grad_accum must be positive");
  options.dropout.validate();
  AdamW<T, D> optimizer(model.params(), {.lr = options.lr,
                                         .beta1 = options.beta1,
                                         .beta2 = options.beta2,
                                         .eps = 1e-8,
                                         .weight_decay = options.weight_decay});
  // Short runs (tests, smoke runs) get a warmup shorter than the run itself.
  const CosineSchedule schedule{options.lr, options.min_lr,
                                std::min(options.warmup_steps, options.steps - 1), options.steps};
  const nlohmann::json settings = detail::lm_train_settings(options);
  int64_t first_step = 0;
  const bool resuming = !options.resume_from.empty();
  if (resuming) {
    const nlohmann::json state = load_checkpoint(options.resume_from, model, optimizer);
    const std::string where = (options.resume_from / "trainer_state.json").string();
    try {
      // Checkpoints written before settings were saved have none to compare.
      if (state.contains("settings"))
        check_resumed_settings(state.at("settings"), settings, options.resume_from);
      first_step = state_integer(state, "step");
      batcher.set_state(batcher_state_from_json(state.at("batcher")));
    } catch (const nlohmann::json::exception& e) {
      detail::fail(where, ": ", e.what());
    }
    TLCR_CHECK(first_step >= 0 && first_step <= options.steps, where, ": step ", first_step,
               " is outside this run's 0…", options.steps);
  }
  const bool leader = comm.rank() == 0;  // the rank that evaluates, prints and writes
  MetricsLog metrics(leader ? options.metrics_path : std::filesystem::path(), resuming,
                     resuming ? first_step : -1);
  ProgressLine progress(options.label, options.steps, options.progress && leader);
  auto checkpoint = [&](int64_t step) {
    if (options.checkpoint_dir.empty() || !leader) return;
    save_checkpoint(
        options.checkpoint_dir, model, optimizer,
        {{"step", step}, {"batcher", to_json(batcher.state())}, {"settings", settings}});
  };

  LmTrainReport report;
  report.steps = first_step;  // a finished run resumed stays finished: no step runs, none is lost
  Stopwatch clock, window;
  int64_t window_tokens = 0, total_tokens = 0;
  for (int64_t step = first_step; step < options.steps; ++step) {
    const std::vector<double> losses = sum_gradients_in_order(
        model.params(), comm, options.grad_accum, [&](int64_t micro, bool mine) -> double {
          const TokenBatch batch = batcher.next();
          window_tokens += batch.target_count();
          if (!mine) return 0;
          const Var<T, D> loss = language_model_loss(
              model, batch, Dropout::for_step(options.dropout, options.dropout_seed, step, micro));
          backward(options.grad_accum == 1 ? loss : scale(loss, T(1) / T(options.grad_accum)));
          return loss.item();
        });
    double loss_sum = 0;
    for (std::size_t micro = 0; micro < losses.size(); ++micro) {
      if (!std::isfinite(losses[micro]))
        detail::fail(options.label, ": loss became ", losses[micro], " at step ", step,
                     " (micro-batch ", micro, "); stopped. The last good checkpoint is ",
                     options.checkpoint_dir.empty() ? std::string("(none)")
                                                    : options.checkpoint_dir.string());
      loss_sum += losses[micro];
    }
    const double lr = schedule.lr(step);
    const double grad_norm = apply_gradients(model.params(), optimizer, lr, options.grad_clip,
                                             options.label + " step " + std::to_string(step));
    report.last_loss = loss_sum / options.grad_accum;

    const bool last = step + 1 == options.steps || step + 1 == options.stop_after;
    nlohmann::json record{
        {"step", step + 1}, {"loss", report.last_loss}, {"lr", lr}, {"grad_norm", grad_norm}};
    if (leader && options.eval_every > 0 && ((step + 1) % options.eval_every == 0 || last) &&
        !eval_batches.empty()) {
      report.eval_loss = evaluate_loss(model, eval_batches);
      record["eval_loss"] = report.eval_loss;
    }
    if ((step + 1) % options.log_every == 0 || last) {
      const double tokens_per_second = window_tokens / std::max(window.seconds(), 1e-9);
      total_tokens += window_tokens;
      window_tokens = 0;
      window.restart();
      record["tokens_per_second"] = tokens_per_second;
      std::ostringstream fields;
      fields.precision(4);
      fields << "loss " << report.last_loss;
      if (record.contains("eval_loss")) fields << " | eval " << report.eval_loss;
      fields << " | lr " << lr << " | " << static_cast<long>(tokens_per_second) << " tok/s";
      progress.print(step + 1, fields.str(), first_step);
      metrics.log(record);
    }
    report.steps = step + 1;
    if (last) break;
    if (options.checkpoint_every > 0 && (step + 1) % options.checkpoint_every == 0)
      checkpoint(step + 1);
  }
  checkpoint(report.steps);
  report.seconds = clock.seconds();
  report.tokens_per_second = (total_tokens + window_tokens) / std::max(report.seconds, 1e-9);
  return report;
}

}  // namespace tlcr
