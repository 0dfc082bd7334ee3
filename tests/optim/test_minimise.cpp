// End-to-end optimisation: ParameterStore + autograd + optimiser (+ schedule and clipping) drive
// known functions to their known minima — a random convex quadratic ½xᵀAx − bᵀx (minimum at
// x* = A⁻¹b) with SGD and with AdamW, and the Rosenbrock valley (minimum at (1, 1)) with AdamW.
#include "support/testing.hpp"

#include <Eigen/Cholesky>

#include <tlcr/optim/adamw.hpp>
#include <tlcr/optim/clip.hpp>
#include <tlcr/optim/schedule.hpp>
#include <tlcr/optim/sgd.hpp>

using namespace tlcr;
using testing::random_normal;

namespace {
// A random SPD matrix A = MᵀM/n + I (eigenvalues in [1, ~5]), a random b, and the exact minimiser.
struct Quadratic {
  int64_t n;
  Tensor<double> a, b, minimiser;

  Quadratic(int64_t size, Rng& rng) : n(size), a({size, size}), b({size}), minimiser({size}) {
    const Tensor<double> m = random_normal<double>({size, size}, rng);
    a.matrix() = m.matrix().transpose() * m.matrix() / double(size);
    a.matrix().diagonal().array() += 1.0;
    b = random_normal<double>({size}, rng);
    minimiser.vector() = a.matrix().llt().solve(b.vector());
  }

  // f(x) = ½ Σ x ⊙ (x·A) − Σ b ⊙ x for x of shape (1, n); its gradient is Ax − b.
  Var<double> operator()(const Var<double>& x) const {
    const Var<double> quadratic = scale(sum(mul(x, matmul(x, constant(a)))), 0.5);
    return sub(quadratic, sum(mul(x, constant(b))));
  }
};

double distance(const Tensor<double>& x, const Tensor<double>& target) {
  return (x.vector() - target.vector()).norm();
}
}  // namespace

TEST_CASE("SGD with Nesterov momentum finds the minimum of a random convex quadratic") {
  Rng rng(740);
  const Quadratic f(12, rng);
  ParameterStore<double> store;
  Var<double> x = store.add("x", {1, 12}, ParamGroup::NoDecay);
  store.finalize();
  store.init_normal("x", 1.0, rng);
  Sgd<double> sgd(store, {.lr = 0.1, .momentum = 0.8, .nesterov = true});

  const double start = distance(x.value(), f.minimiser);
  for (int step = 0; step < 300; ++step) {
    store.zero_grad();
    backward(f(x));
    sgd.step();
  }
  INFO("distance to x* went from " << start << " to " << distance(x.value(), f.minimiser));
  CHECK(distance(x.value(), f.minimiser) < 1e-8);
  CHECK(grad_norm(store) < 1e-7);  // the last gradient, Ax − b, vanishes at the minimum
}

TEST_CASE("AdamW with a cosine schedule and clipping finds the minimum of a random quadratic") {
  Rng rng(741);
  const Quadratic f(10, rng);
  ParameterStore<double> store;
  Var<double> x = store.add("x", {1, 10}, ParamGroup::NoDecay);  // decay would move the optimum
  store.finalize();
  store.init_normal("x", 2.0, rng);
  AdamW<double> adam(store, {.beta1 = 0.9, .beta2 = 0.99, .weight_decay = 0.1});
  const CosineSchedule schedule{
      .base_lr = 0.1, .min_lr = 1e-4, .warmup_steps = 20, .total_steps = 1500};

  for (int64_t step = 0; step < schedule.total_steps; ++step) {
    store.zero_grad();
    backward(f(x));
    clip_grad_norm(store, 1.0);
    adam.step(schedule.lr(step));
  }
  INFO("distance to x*: " << distance(x.value(), f.minimiser));
  CHECK(distance(x.value(), f.minimiser) < 1e-6);
}

TEST_CASE("AdamW walks the Rosenbrock valley to (1, 1)") {
  // f(u, w) = (1 − u)² + 100·(w − u²)², minimum 0 at (1, 1), started at (−1.2, 1).
  ParameterStore<double> store;
  Var<double> u = store.add("u", {}, ParamGroup::NoDecay);
  Var<double> w = store.add("w", {}, ParamGroup::NoDecay);
  store.finalize();
  store.init_constant("u", -1.2);
  store.init_constant("w", 1.0);
  const Var<double> one = constant(Tensor<double>::full({}, 1.0));
  auto rosenbrock = [&] {
    const Var<double> a = sub(one, u);
    const Var<double> valley = sub(w, mul(u, u));
    return add(mul(a, a), scale(mul(valley, valley), 100.0));
  };
  AdamW<double> adam(store, {.beta1 = 0.9, .beta2 = 0.999, .weight_decay = 0});
  const CosineSchedule schedule{
      .base_lr = 0.02, .min_lr = 1e-5, .warmup_steps = 0, .total_steps = 6000};

  for (int64_t step = 0; step < schedule.total_steps; ++step) {
    store.zero_grad();
    backward(rosenbrock());
    adam.step(schedule.lr(step));
  }
  INFO("ended at (" << u.value()[0] << ", " << w.value()[0] << ")");
  CHECK(std::abs(u.value()[0] - 1.0) < 1e-3);
  CHECK(std::abs(w.value()[0] - 1.0) < 2e-3);
  NoGrad no_grad;
  CHECK(rosenbrock().value()[0] < 1e-6);
}
