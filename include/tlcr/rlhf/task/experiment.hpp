// tlcr/rlhf/task/experiment.hpp — PPO runs evaluated on held-out prompts as they train, and the
// statistics that compare reward kinds over seeds (what `tlcr demo` reports).
//
//   train_and_evaluate  iterates a PpoTrainer, logs every iteration's metrics, and evaluates the
//                       policy (evaluate.hpp) before training, every eval_every iterations and at
//                       the end: an EvalCurve of (iteration, oracle score, KL to the reference, …)
//   to_json / eval_curve_from_json  a curve as JSON and back, bit for bit (a study's finished runs
//                       are read back instead of rerun)
//   score_at_kl         a curve's score where its KL first reaches a budget (linear between
//                       evaluations): the reward-KL frontier at fixed KL
//   finite_mean_std     mean and sample standard deviation of the finite values (over seeds)
//   mean_interval95     the mean with a 95% confidence interval (Student's t, over seeds)
//   paired_difference95 the mean difference a − b of paired runs (same seed: same prompts and
//                       sampler streams) with its 95% interval
//   mean_curve          the seeds' curves averaged point by point (plots: mean ± std)
// Not here: the PPO loop itself (rlhf/ppo/trainer.hpp), tables, JSON and plots (the command).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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

// {"iteration": [...], "score": [...], …}: the columns of the curve (non-finite values as null).
inline nlohmann::json to_json(const EvalCurve& c) {
  auto column = [](const std::vector<double>& xs) {
    nlohmann::json out = nlohmann::json::array();
    for (double x : xs) out.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json());
    return out;
  };
  return {{"iteration", column(c.iteration)},
          {"score", column(c.score)},
          {"kl", column(c.kl)},
          {"length", column(c.length)},
          {"win_rate", column(c.win_rate)},
          {"repetition", column(c.repetition)}};
}

// The inverse of to_json (numbers round-trip exactly); `where` names the source in errors.
inline EvalCurve eval_curve_from_json(const nlohmann::json& j, const std::string& where) {
  EvalCurve c;
  std::size_t points = 0;
  bool first = true;
  for (auto [key, column] : {std::pair{"iteration", &c.iteration},
                             {"score", &c.score},
                             {"kl", &c.kl},
                             {"length", &c.length},
                             {"win_rate", &c.win_rate},
                             {"repetition", &c.repetition}}) {
    TLCR_CHECK(j.is_object() && j.contains(key) && j.at(key).is_array(), where,
               ": expected an evaluation curve with an array \"", key, "\"");
    for (const nlohmann::json& x : j.at(key)) {
      TLCR_CHECK(x.is_number() || x.is_null(), where, ": \"", key,
                 "\" holds a non-number: ", x.dump());
      column->push_back(x.is_null() ? NAN : x.get<double>());
    }
    TLCR_CHECK(first || column->size() == points, where, ": \"", key, "\" has ", column->size(),
               " points, \"iteration\" has ", points);
    points = column->size(), first = false;
  }
  return c;
}

// The curve's last point as an evaluation summary (score, KL, length, win rate, repetition).
inline EvalResult last_point(const EvalCurve& c) {
  TLCR_CHECK(!c.iteration.empty(), "last_point: the curve has no points");
  EvalResult r;
  r.mean_score = c.score.back(), r.mean_kl = c.kl.back(), r.mean_length = c.length.back();
  r.win_rate = c.win_rate.back(), r.repetition_rate = c.repetition.back();
  return r;
}

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

// Student's t quantile t_{0.975} for `dof` degrees of freedom (two-sided 95%): the table to 30,
// then 1.96 + 2.4/dof (within 0.005 of the exact value beyond 30).
inline double student_t975(int dof) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  TLCR_CHECK(dof >= 1, "student_t975: expected at least 1 degree of freedom, got ", dof);
  return dof <= 30 ? table[dof - 1] : 1.96 + 2.4 / dof;
}

// A mean over seeds and the half-width of its 95% confidence interval, mean ± t·s/√n (NaN
// half-width below two finite values).
struct Interval95 {
  double mean = NAN, half_width = NAN;
  int count = 0;
};

inline Interval95 mean_interval95(const std::vector<double>& xs) {
  const FiniteStats m = finite_mean_std(xs);
  Interval95 out{m.mean, NAN, m.count};
  if (m.count >= 2) out.half_width = student_t975(m.count - 1) * m.std / std::sqrt(m.count);
  return out;
}

// The differences a[i] − b[i] of the pairs where both are finite, as mean_interval95.
inline Interval95 paired_difference95(const std::vector<double>& a, const std::vector<double>& b) {
  TLCR_CHECK(a.size() == b.size(), "paired_difference95: ", a.size(), " values paired with ",
             b.size());
  std::vector<double> differences;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) differences.push_back(a[i] - b[i]);
  return mean_interval95(differences);
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
// `after_iteration` (PpoRunOptions') runs after each iteration, before its metrics are logged.
template <class T, class Arch, class Reward, class D>
EvaluatedRun train_and_evaluate(
    PpoTrainer<T, Arch, Reward, D>& trainer, const Transformer<T, Arch, D>& policy,
    const Transformer<T, Arch, D>& reference, const BpeTokenizer& tokenizer, const ChatFormat& chat,
    const std::vector<std::string>& prompts, const EvalOptions& options,
    const EvaluationSchedule& schedule, MetricsLog& metrics, const ProgressLine& progress,
    const std::function<void(int64_t, const Rollout&, nlohmann::json&)>& after_iteration = {}) {
  EvaluatedRun run;
  auto evaluate_now = [&](int64_t iteration) {
    const EvalResult r = evaluate_policy(policy, reference, tokenizer, chat, prompts, options);
    run.curve.add(iteration, r);
    return r;
  };
  evaluate_now(0);
  for (int64_t it = 1; it <= schedule.iterations; ++it) {
    PpoIteration step = trainer.iterate();
    if (after_iteration) after_iteration(it, trainer.last_rollout(), step.metrics);
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
