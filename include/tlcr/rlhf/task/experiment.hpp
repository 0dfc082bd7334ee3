// tlcr/rlhf/task/experiment.hpp — PPO runs evaluated on held-out prompts as they train, and the
// statistics that compare reward kinds over seeds (what `tlcr demo` reports).
//
//   train_and_evaluate  iterates a PpoTrainer, logs every iteration's metrics, and evaluates the
//                       policy (evaluate.hpp) before training, every eval_every iterations and at
//                       the end: an EvalCurve of (iteration, oracle score, KL to the reference, …)
//   score_at_kl         a curve's score where its KL first reaches a budget (linear between
//                       evaluations): the reward-KL frontier at fixed KL
//   finite_mean_std     mean and sample standard deviation of the finite values (over seeds)
//   mean_curve          the seeds' curves averaged point by point (plots: mean ± std)
// Not here: the PPO loop itself (rlhf/ppo/trainer.hpp), tables, JSON and plots (the command).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/rlhf/ppo/trainer.hpp"
#include "tlcr/rlhf/task/evaluate.hpp"
#include "tlcr/train/metrics.hpp"

namespace tlcr {

// One run's held-out evaluations, one entry per evaluation point.
struct EvalCurve {
  std::vector<double> iteration, score, kl, length, win_rate, repetition;

  void add(int64_t at, const EvalResult& r) {
    iteration.push_back(static_cast<double>(at)), score.push_back(r.mean_score);
    kl.push_back(r.mean_kl), length.push_back(r.mean_length);
    win_rate.push_back(r.win_rate), repetition.push_back(r.repetition_rate);
  }
};

// The score where the curve's KL first reaches `budget` (linear between evaluations), or NaN if
// it never does.
inline double score_at_kl(const EvalCurve& c, double budget) {
  for (std::size_t i = 1; i < c.kl.size(); ++i)
    if (c.kl[i] >= budget) {
      const double w = (budget - c.kl[i - 1]) / std::max(c.kl[i] - c.kl[i - 1], 1e-12);
      return c.score[i - 1] + std::clamp(w, 0.0, 1.0) * (c.score[i] - c.score[i - 1]);
    }
  return NAN;
}

struct FiniteStats {
  double mean = NAN, std = NAN;
  int count = 0;  // finite values
};

// Over the finite values only; std is the sample standard deviation (0 for a single value).
inline FiniteStats finite_mean_std(const std::vector<double>& xs) {
  FiniteStats m;
  double sum = 0, sum2 = 0;
  for (double x : xs)
    if (std::isfinite(x)) sum += x, sum2 += x * x, ++m.count;
  if (m.count == 0) return m;
  m.mean = sum / m.count;
  m.std = m.count > 1 ? std::sqrt(std::max(0.0, (sum2 - m.count * m.mean * m.mean) / (m.count - 1)))
                      : 0.0;
  return m;
}

// Several seeds' curves (evaluated at the same iterations) averaged point by point.
struct MeanCurve {
  std::vector<double> iteration, score, score_std, kl;
};

inline MeanCurve mean_curve(const std::vector<EvalCurve>& curves) {
  MeanCurve out;
  if (curves.empty()) return out;
  for (std::size_t i = 0; i < curves.front().iteration.size(); ++i) {
    std::vector<double> score, kl;
    for (const EvalCurve& c : curves) score.push_back(c.score[i]), kl.push_back(c.kl[i]);
    out.iteration.push_back(curves.front().iteration[i]);
    out.score.push_back(finite_mean_std(score).mean);
    out.score_std.push_back(finite_mean_std(score).std);
    out.kl.push_back(finite_mean_std(kl).mean);
  }
  return out;
}

struct EvaluatedRun {
  EvalCurve curve;
  EvalResult last;  // the evaluation after the last iteration
};

struct EvaluationSchedule {
  int64_t iterations = 0;  // PPO iterations to run
  int64_t eval_every = 1;  // evaluate every this many iterations (and after the last)
};

// Runs `schedule.iterations` PPO iterations of `trainer`, whose policy is `policy`, evaluating it
// against `reference` on `prompts` before the first iteration, every eval_every and after the
// last. Each iteration's metrics go to `metrics`; each evaluation prints a progress line.
template <class T, class Arch, class Reward, class D>
EvaluatedRun train_and_evaluate(PpoTrainer<T, Arch, Reward, D>& trainer,
                                const Transformer<T, Arch, D>& policy,
                                const Transformer<T, Arch, D>& reference,
                                const BpeTokenizer& tokenizer, const ChatFormat& chat,
                                const std::vector<std::string>& prompts, const EvalOptions& options,
                                const EvaluationSchedule& schedule, MetricsLog& metrics,
                                const ProgressLine& progress) {
  EvaluatedRun run;
  auto evaluate_now = [&](int64_t iteration) {
    const EvalResult r = evaluate_policy(policy, reference, tokenizer, chat, prompts, options);
    run.curve.add(iteration, r);
    return r;
  };
  evaluate_now(0);
  for (int64_t it = 1; it <= schedule.iterations; ++it) {
    const PpoIteration step = trainer.iterate();
    metrics.log(step.metrics);
    if (it % schedule.eval_every == 0 || it == schedule.iterations) {
      run.last = evaluate_now(it);
      std::ostringstream fields;
      fields.precision(3);
      fields << "oracle score " << run.last.mean_score << " | KL " << run.last.mean_kl << " | win "
             << run.last.win_rate << " | reward " << step.metrics.value("objective/scores", 0.0);
      progress.print(it, fields.str());
    }
  }
  return run;
}

}  // namespace tlcr
