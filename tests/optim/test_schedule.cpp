// Tests for optim/schedule.hpp: learning rates at chosen steps, worked out by hand from the
// formulas in the header, monotone decay, and errors for bad steps and phase lengths.
#include "support/testing.hpp"

#include <tlcr/optim/schedule.hpp>

using namespace tlcr;

static_assert(LrSchedule<ConstantSchedule>);
static_assert(LrSchedule<WarmupSchedule>);
static_assert(LrSchedule<CosineSchedule>);
static_assert(LrSchedule<LinearDecaySchedule>);
static_assert(!LrSchedule<int>);

namespace {
// Σ lr over the first `steps` updates: a trainer-like use of the concept.
template <LrSchedule Schedule>
double total_lr(const Schedule& schedule, int64_t steps) {
  double total = 0;
  for (int64_t step = 0; step < steps; ++step) total += schedule.lr(step);
  return total;
}
}  // namespace

TEST_CASE("constant schedule") {
  const ConstantSchedule schedule{.base_lr = 3e-4};
  CHECK(schedule.lr(0) == 3e-4);
  CHECK(schedule.lr(123456) == 3e-4);
  CHECK(total_lr(schedule, 10) == doctest::Approx(3e-3));
}

TEST_CASE("linear warmup reaches base_lr at step warmup_steps - 1, then stays") {
  const WarmupSchedule schedule{.base_lr = 1e-3, .warmup_steps = 10};
  CHECK(schedule.lr(0) == doctest::Approx(1e-4));  // 1e-3·1/10
  CHECK(schedule.lr(4) == doctest::Approx(5e-4));  // 1e-3·5/10
  CHECK(schedule.lr(9) == 1e-3);
  CHECK(schedule.lr(10) == 1e-3);
  CHECK(schedule.lr(5000) == 1e-3);
  CHECK(total_lr(schedule, 10) == doctest::Approx(5.5e-3));  // 1e-4·(1 + … + 10)
  const WarmupSchedule no_warmup{.base_lr = 2.0, .warmup_steps = 0};
  CHECK(no_warmup.lr(0) == 2.0);
}

TEST_CASE("cosine schedule: warmup, half-cosine from base_lr to min_lr, then min_lr") {
  const CosineSchedule schedule{
      .base_lr = 1.0, .min_lr = 0.1, .warmup_steps = 10, .total_steps = 110};
  CHECK(schedule.lr(0) == doctest::Approx(0.1));  // warmup: 1·1/10
  CHECK(schedule.lr(9) == doctest::Approx(1.0));
  CHECK(schedule.lr(10) == doctest::Approx(1.0));  // r = 0
  // r = 0.25: 0.1 + 0.9·½(1 + cos(π/4)) = 0.1 + 0.9·0.8535533906 = 0.8681980515
  CHECK(schedule.lr(35) == doctest::Approx(0.8681980515).epsilon(1e-9));
  CHECK(schedule.lr(60) == doctest::Approx(0.55));  // r = 0.5: 0.1 + 0.9·½
  // r = 0.75: 0.1 + 0.9·½(1 − cos(π/4)) = 0.1 + 0.9·0.1464466094 = 0.2318019485
  CHECK(schedule.lr(85) == doctest::Approx(0.2318019485).epsilon(1e-9));
  CHECK(schedule.lr(110) == doctest::Approx(0.1));
  CHECK(schedule.lr(1000) == 0.1);
  for (int64_t step = 10; step < 120; ++step) CHECK(schedule.lr(step + 1) <= schedule.lr(step));
}

TEST_CASE("linear decay schedule, with and without warmup") {
  const LinearDecaySchedule plain{.base_lr = 1.0, .final_lr = 0.0, .total_steps = 100};
  CHECK(plain.lr(0) == 1.0);
  CHECK(plain.lr(25) == doctest::Approx(0.75));
  CHECK(plain.lr(99) == doctest::Approx(0.01));
  CHECK(plain.lr(100) == 0.0);
  CHECK(plain.lr(150) == 0.0);

  const LinearDecaySchedule warm{
      .base_lr = 2.0, .final_lr = 0.5, .warmup_steps = 20, .total_steps = 120};
  CHECK(warm.lr(0) == doctest::Approx(0.1));  // 2·1/20
  CHECK(warm.lr(19) == doctest::Approx(2.0));
  CHECK(warm.lr(20) == doctest::Approx(2.0));
  CHECK(warm.lr(70) == doctest::Approx(1.25));  // halfway: 2 + (0.5 − 2)·0.5
  CHECK(warm.lr(120) == doctest::Approx(0.5));
}

TEST_CASE("schedules reject negative steps and inconsistent phase lengths") {
  CHECK_THROWS_WITH_AS(ConstantSchedule{}.lr(-1),
                       doctest::Contains("ConstantSchedule: expected a step >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS((WarmupSchedule{.warmup_steps = -2}.lr(0)),
                       doctest::Contains("negative warmup_steps -2"), Error);
  CHECK_THROWS_WITH_AS((CosineSchedule{.warmup_steps = 100, .total_steps = 100}.lr(5)),
                       doctest::Contains("CosineSchedule: expected 0 <= warmup_steps < "
                                         "total_steps, got warmup_steps = 100, total_steps = 100"),
                       Error);
  CHECK_THROWS_WITH_AS((LinearDecaySchedule{.total_steps = 0}.lr(0)),
                       doctest::Contains("LinearDecaySchedule: expected 0 <= warmup_steps"), Error);
}
