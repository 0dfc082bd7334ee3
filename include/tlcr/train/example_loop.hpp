// tlcr/train/example_loop.hpp — the training loop of the reward-model trainers: a fixed set of
// examples visited in shuffled order, epoch after epoch, one batch of them per AdamW step.
//
// Each step takes the next `batch_size` indices of the shuffled order (an epoch's last batch may
// be smaller; the step after it reshuffles), zeroes the gradients, asks the trainer for the
// batch's loss, stops with a report on a non-finite loss, and takes train_step (train_step.hpp:
// backward, finite check, clip, AdamW step at the cosine-schedule rate). The held-out set is evaluated before training,
// every `eval_every` steps and at the end. Every `log_every` steps a progress line goes to stderr
// and a record to the metrics JSONL. With a checkpoint directory, a checkpoint
// (train/checkpoint.hpp) is written every `checkpoint_every` steps and at the end, and
// `resume_from` continues from one bit for bit: its trainer_state.json holds the step, the
// shuffled order with its Rng, the last loss, the evaluation before training, and the settings a
// resumed run must share.
// Not here: what a batch is and what its loss is (the trainers: rlhf/discriminator.hpp,
// rlhf/sequence_reward.hpp), language-model training (train/lm_trainer.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/dist/data_parallel.hpp"
#include "tlcr/optim/adamw.hpp"
#include "tlcr/optim/schedule.hpp"
#include "tlcr/text/json_describe.hpp"
#include "tlcr/train/batches.hpp"
#include "tlcr/train/checkpoint.hpp"
#include "tlcr/train/metrics.hpp"
#include "tlcr/train/train_step.hpp"

namespace tlcr {

struct ExampleLoopOptions {
  int64_t epochs = 1;
  int64_t batch_size = 8;  // examples per step
  int64_t max_steps = 0;   // > 0: exactly this many steps instead of `epochs` passes
  // > 1: each step's batch is cut into this many contiguous micro-batches, each one's loss weighted
  // by its share of the examples and their gradients summed in a fixed order
  // (dist/data_parallel.hpp): what lets several ranks share a step
  int64_t micro_batches = 1;
  double lr = 3e-4, min_lr = 3e-5;
  int64_t warmup_steps = 20;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, grad_clip = 1.0;
  uint64_t seed = 0;            // the order of the examples
  uint64_t shuffle_stream = 0;  // the order's Rng stream: each trainer draws its own order
  int64_t log_every = 20, eval_every = 0;  // eval_every 0: evaluate at the end only
  int64_t checkpoint_every = 0;            // 0: checkpoint only at the end
  std::filesystem::path metrics_path;      // empty: no metrics file
  std::filesystem::path checkpoint_dir;    // empty: no checkpoints
  std::filesystem::path resume_from;       // a checkpoint directory to continue from
  int64_t stop_after = 0;  // > 0: stop (and checkpoint) after this step, as if interrupted (no
                           // extra evaluation or metrics record)
  bool progress = true;
  std::string label = "train";
  nlohmann::json settings = nlohmann::json::object();  // the trainer's own settings that change
                                                       // the numbers; a resume must match them
};

// The shared fields of a trainer's options (DiscriminatorTrainOptions, RewardModelTrainOptions),
// which name them as ExampleLoopOptions does.
template <class Options>
ExampleLoopOptions example_loop_options(const Options& o, uint64_t shuffle_stream) {
  return {.epochs = o.epochs,
          .batch_size = o.batch_size,
          .max_steps = o.max_steps,
          .micro_batches = o.micro_batches,
          .lr = o.lr,
          .min_lr = o.min_lr,
          .warmup_steps = o.warmup_steps,
          .weight_decay = o.weight_decay,
          .beta1 = o.beta1,
          .beta2 = o.beta2,
          .grad_clip = o.grad_clip,
          .seed = o.seed,
          .shuffle_stream = shuffle_stream,
          .log_every = o.log_every,
          .eval_every = o.eval_every,
          .checkpoint_every = o.checkpoint_every,
          .metrics_path = o.metrics_path,
          .checkpoint_dir = o.checkpoint_dir,
          .resume_from = o.resume_from,
          .stop_after = o.stop_after,
          .progress = o.progress,
          .label = o.label};
}

template <class Eval>
struct ExampleLoopResult {
  int64_t steps = 0;  // steps completed, counting those before a resume
  double last_loss = NAN, seconds = 0;
  Eval before;  // held out, before training
  Eval after;   // held out, the latest evaluation: after the last step unless stopped early
};

namespace detail {
// The settings a checkpoint records and a resumed run must share: everything that changes the
// numbers, and nothing that only changes what is printed or written.
inline nlohmann::json example_loop_settings(const ExampleLoopOptions& o, int64_t examples,
                                            int64_t total_steps) {
  nlohmann::json settings{{"examples", examples},
                          {"batch_size", o.batch_size},
                          {"total_steps", total_steps},
                          {"lr", o.lr},
                          {"min_lr", o.min_lr},
                          {"warmup_steps", o.warmup_steps},
                          {"weight_decay", o.weight_decay},
                          {"beta1", o.beta1},
                          {"beta2", o.beta2},
                          {"grad_clip", o.grad_clip},
                          {"seed", o.seed}};
  if (o.micro_batches > 1) settings["micro_batches"] = o.micro_batches;  // 1: the settings of old
  settings.update(o.settings);
  return settings;
}

// Reads trainer_state.json of `dir` and checks that its settings equal `settings`.
inline nlohmann::json read_example_loop_state(const std::filesystem::path& dir,
                                              const nlohmann::json& settings) {
  namespace fs = std::filesystem;
  recover_directory(dir);
  const fs::path file = dir / "trainer_state.json";
  TLCR_CHECK(fs::is_directory(dir), "resuming from '", dir.string(),
             "': expected a checkpoint directory, found ",
             fs::exists(dir) ? "something else" : "nothing");
  TLCR_CHECK(fs::exists(file), "resuming from '", dir.string(),
             "': expected a checkpoint, but it holds no trainer_state.json");
  const nlohmann::json state = read_json_file(file);
  auto require = [&](const char* key, bool (nlohmann::json::*is_kind)() const noexcept,
                     const char* expected) {
    const bool present = state.is_object() && state.contains(key);
    TLCR_CHECK(present && (state[key].*is_kind)(), file.string(), ": field '", key, "': expected ",
               expected, ", found ", present ? describe_json(state[key]) : "nothing");
  };
  require("step", &nlohmann::json::is_number_integer, "an integer");
  require("order", &nlohmann::json::is_object, "an object");
  require("settings", &nlohmann::json::is_object, "an object");
  check_resumed_settings(state["settings"], settings, dir);
  return state;
}
}  // namespace detail

// Trains `model` on `examples` examples (indices 0 … examples − 1), the trainer supplying:
//   batch_loss(std::span<const int64_t> indices, nlohmann::json& record) → Var<T> rank 0:
//     the mean loss of those examples; it may add its own fields to the step's metrics record
//     (with micro-batches, those of the first micro-batch only)
//   evaluate() → Eval: the held-out evaluation (Eval has to_json() and static from_json())
//   describe(const Eval&) → std::string: the evaluation's part of the progress line
// With a communicator of several ranks (every rank calling this alike), the micro-batches of each
// step are shared out and the weights stay bitwise those of one process; rank 0 alone evaluates,
// prints, logs and checkpoints (the other ranks' result holds no evaluations).
template <class T, class Arch, class D, class BatchLoss, class Evaluate, class Describe,
          Communicator Comm = SingleProcess>
auto train_on_examples(Transformer<T, Arch, D>& model, int64_t examples,
                       const ExampleLoopOptions& options, BatchLoss&& batch_loss,
                       Evaluate&& evaluate, Describe&& describe, const Comm& comm = {}) {
  using Eval = std::decay_t<std::invoke_result_t<Evaluate&>>;
  TLCR_CHECK(options.batch_size > 0 && (options.epochs > 0 || options.max_steps > 0), options.label,
             ": batch_size and epochs (or max_steps) must be positive");
  TLCR_CHECK(examples > 0, options.label, ": no training examples");
  TLCR_CHECK(options.micro_batches >= 1 && options.micro_batches <= options.batch_size,
             options.label, ": micro_batches must be in 1 … batch_size (", options.batch_size,
             "), got ", options.micro_batches);
  const bool leader = comm.rank() == 0;  // the rank that evaluates, prints and writes
  const int64_t per_epoch = (examples + options.batch_size - 1) / options.batch_size;
  const int64_t total = options.max_steps > 0 ? options.max_steps : options.epochs * per_epoch;
  AdamW<T, D> optimizer(model.params(), {.lr = options.lr,
                                         .beta1 = options.beta1,
                                         .beta2 = options.beta2,
                                         .eps = 1e-8,
                                         .weight_decay = options.weight_decay});
  // Short runs (tests, smoke runs) get a warmup shorter than the run itself.
  const CosineSchedule schedule{options.lr, options.min_lr,
                                std::min(options.warmup_steps, total - 1), total};
  const nlohmann::json settings = detail::example_loop_settings(options, examples, total);
  ShuffledOrder order(examples, Rng(options.seed, options.shuffle_stream), options.label,
                      "examples");

  ExampleLoopResult<Eval> result;
  const bool resuming = !options.resume_from.empty();
  // The sentence a failed step ends its report with.
  std::string last_good = options.checkpoint_dir.empty()
                              ? "There is no checkpoint (no checkpoint directory was given)"
                              : "There is no checkpoint yet";
  if (resuming) {
    const nlohmann::json state = detail::read_example_loop_state(options.resume_from, settings);
    load_checkpoint(options.resume_from, model, optimizer);
    const std::string where = (options.resume_from / "trainer_state.json").string();
    try {
      order.set_state(batcher_state_from_json(state.at("order")));
      result.steps = state_integer(state, "step");
      result.last_loss = state.at("last_loss").is_null() ? NAN : state_number(state, "last_loss");
      result.before = Eval::from_json(state.at("before"));
    } catch (const nlohmann::json::exception& e) {
      detail::fail(where, ": ", e.what());
    } catch (const Error& e) {
      detail::fail(where, ": ", e.what());
    }
    last_good = "The last good checkpoint is '" + options.resume_from.string() + "' (step " +
                std::to_string(result.steps) + ")";
  } else if (leader) {
    result.before = evaluate();
  }
  const int64_t first_step = result.steps;
  MetricsLog metrics(leader ? options.metrics_path : std::filesystem::path(), /*append=*/resuming,
                     resuming ? first_step : -1);
  ProgressLine progress(options.label, total, options.progress && leader);
  auto checkpoint = [&](int64_t step) {
    if (options.checkpoint_dir.empty() || !leader) return;
    const nlohmann::json last_loss =
        std::isfinite(result.last_loss) ? nlohmann::json(result.last_loss) : nlohmann::json();
    save_checkpoint(options.checkpoint_dir, model, optimizer,
                    {{"step", step},
                     {"order", to_json(order.state())},
                     {"last_loss", last_loss},
                     {"before", result.before.to_json()},
                     {"settings", settings}});
    last_good = "The last good checkpoint is '" + options.checkpoint_dir.string() + "' (step " +
                std::to_string(step) + ")";
  };

  Stopwatch clock;
  for (int64_t step = first_step; step < total; ++step) {
    const std::vector<int64_t> indices = order.next_in_pass(options.batch_size);
    nlohmann::json record{{"step", step + 1}};
    // Micro-batch p: the contiguous share [p·n/parts, (p+1)·n/parts) of the batch's n examples,
    // its mean loss weighted by its share, so that the weighted losses add up to the batch's.
    const int64_t n = int64_t(indices.size()), parts = std::min(options.micro_batches, n);
    const std::vector<double> losses =
        sum_gradients_in_order(model.params(), comm, parts, [&](int64_t part, bool mine) -> double {
          if (!mine) return 0;
          const PartRange share = part_range(part, n, parts);
          nlohmann::json part_record;
          const Var<T, D> loss =
              batch_loss(std::span<const int64_t>(indices).subspan(share.begin, share.size()),
                         part == 0 ? record : part_record);
          if (parts == 1) {
            backward(loss);
            return loss.value().item();  // the step's one download
          }
          const double weight = double(share.size()) / double(n);
          backward(scale(loss, T(weight)));
          return loss.value().item() * weight;
        });
    double value = 0;
    for (double part_loss : losses) value += part_loss;
    if (!std::isfinite(value))
      detail::fail(options.label, ": loss became ", value, " at step ", step, "; stopped. ",
                   last_good);
    const double lr = schedule.lr(step);
    const double grad_norm = apply_gradients(model.params(), optimizer, lr, options.grad_clip,
                                             options.label + " step " + std::to_string(step));
    result.last_loss = value;
    result.steps = step + 1;

    const bool last = step + 1 == total;
    record["loss"] = value;
    record["lr"] = lr;
    record["grad_norm"] = grad_norm;
    const bool evaluated =
        leader && (last || (options.eval_every > 0 && (step + 1) % options.eval_every == 0));
    if (evaluated) {
      result.after = evaluate();
      record["eval"] = result.after.to_json();
    }
    if ((step + 1) % std::max<int64_t>(options.log_every, 1) == 0 || last) {
      std::ostringstream fields;
      fields.precision(4);
      fields << "loss " << value << " | lr " << lr;
      if (evaluated) fields << " | " << describe(result.after);
      progress.print(step + 1, fields.str(), first_step);
      metrics.log(record);
    }
    // A stop is an interruption: the run it resumes into logs and evaluates as if there had
    // been none, so the two metrics files together equal one uninterrupted run's.
    if (last || step + 1 == options.stop_after) break;
    if (options.checkpoint_every > 0 && (step + 1) % options.checkpoint_every == 0)
      checkpoint(step + 1);
  }
  // A resumed run with no steps left still reports where its model stands.
  if (first_step >= total && leader) result.after = evaluate();
  checkpoint(result.steps);
  result.seconds = clock.seconds();
  return result;
}

}  // namespace tlcr
