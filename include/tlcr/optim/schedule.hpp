// tlcr/optim/schedule.hpp — learning-rate schedules: small value types with lr(step).
//
// `step` counts optimiser updates from 0: lr(0) is the rate of the first update. With W =
// warmup_steps and S = total_steps:
//   ConstantSchedule     lr = base_lr
//   WarmupSchedule       lr = base_lr·(step + 1)/W  for step < W,  then base_lr
//   CosineSchedule       warmup as above, then with r = (step − W)/(S − W):
//                        lr = min_lr + (base_lr − min_lr)·½(1 + cos(π·r)),  min_lr for step ≥ S
//   LinearDecaySchedule  warmup as above, then lr = base_lr + (final_lr − base_lr)·r,
//                        final_lr for step ≥ S
// The warmup starts at base_lr/W rather than 0, so no update is wasted. Every schedule satisfies
// the LrSchedule concept, so trainers can take any of them as a template parameter.
// Not here: the optimisers that use the rate (adamw.hpp, sgd.hpp).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>

#include "tlcr/config.hpp"

namespace tlcr {

// Anything that maps an update index to a learning rate.
template <class S>
concept LrSchedule = requires(const S& schedule, int64_t step) {
  { schedule.lr(step) } -> std::convertible_to<double>;
};

namespace detail {
inline void check_step(const char* schedule, int64_t step) {
  TLCR_CHECK(step >= 0, schedule, ": expected a step >= 0, got ", step);
}
// base_lr·(step + 1)/warmup_steps; call only for step < warmup_steps.
inline double warmup_lr(double base_lr, int64_t step, int64_t warmup_steps) {
  return base_lr * double(step + 1) / double(warmup_steps);
}
inline void check_phases(const char* schedule, int64_t warmup_steps, int64_t total_steps) {
  TLCR_CHECK(warmup_steps >= 0 && warmup_steps < total_steps, schedule,
             ": expected 0 <= warmup_steps < total_steps, got warmup_steps = ", warmup_steps,
             ", total_steps = ", total_steps);
}
// r: the fraction of the decay phase done at `step` (≥ warmup_steps), clamped to 1.
inline double decay_progress(int64_t step, int64_t warmup_steps, int64_t total_steps) {
  if (step >= total_steps) return 1.0;
  return double(step - warmup_steps) / double(total_steps - warmup_steps);
}
}  // namespace detail

struct ConstantSchedule {
  double base_lr = 1e-3;

  double lr(int64_t step) const {
    detail::check_step("ConstantSchedule", step);
    return base_lr;
  }
};

struct WarmupSchedule {
  double base_lr = 1e-3;
  int64_t warmup_steps = 0;

  double lr(int64_t step) const {
    detail::check_step("WarmupSchedule", step);
    TLCR_CHECK(warmup_steps >= 0, "WarmupSchedule: negative warmup_steps ", warmup_steps);
    return step < warmup_steps ? detail::warmup_lr(base_lr, step, warmup_steps) : base_lr;
  }
};

struct CosineSchedule {
  double base_lr = 1e-3;
  double min_lr = 0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  double lr(int64_t step) const {
    detail::check_step("CosineSchedule", step);
    detail::check_phases("CosineSchedule", warmup_steps, total_steps);
    if (step < warmup_steps) return detail::warmup_lr(base_lr, step, warmup_steps);
    const double r = detail::decay_progress(step, warmup_steps, total_steps);
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * r));
  }
};

struct LinearDecaySchedule {
  double base_lr = 1e-3;
  double final_lr = 0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  double lr(int64_t step) const {
    detail::check_step("LinearDecaySchedule", step);
    detail::check_phases("LinearDecaySchedule", warmup_steps, total_steps);
    if (step < warmup_steps) return detail::warmup_lr(base_lr, step, warmup_steps);
    const double r = detail::decay_progress(step, warmup_steps, total_steps);
    return base_lr + (final_lr - base_lr) * r;
  }
};

}  // namespace tlcr
