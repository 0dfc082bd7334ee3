// Tests for train/train_step.hpp: train_step is backward → finite check → clip → step, with the
// norm from before clipping; a non-finite gradient stops it before anything is stepped.
#include "support/testing.hpp"

using namespace tlcr;

namespace {
struct Quadratic {
  ParameterStore<double> store;
  Var<double> w;
  Quadratic() {
    w = store.add("w", Shape{3});
    store.finalize();
    w.value().copy_from(Tensor<double>::from({3}, {3, -4, 0}));
  }
};
}  // namespace

TEST_CASE("train_step: clipped SGD step on Σ w²") {
  Quadratic q;
  Sgd<double> optimizer(q.store, {.lr = 0.1});
  q.store.zero_grad();
  // d/dw Σ w² = 2w = (6, −8, 0): norm 10, clipped to 1 → (0.6, −0.8, 0).
  const double norm = train_step(sum(mul(q.w, q.w)), q.store, optimizer, 0.1, 1.0, "test step");
  CHECK(norm == doctest::Approx(10.0));
  CHECK(q.w.value()[0] == doctest::Approx(3 - 0.06));
  CHECK(q.w.value()[1] == doctest::Approx(-4 + 0.08));
  CHECK(q.w.value()[2] == 0.0);
}

TEST_CASE("train_step: a non-finite gradient names the step and the parameter, nothing moves") {
  Quadratic q;
  Sgd<double> optimizer(q.store, {.lr = 0.1});
  q.store.zero_grad();
  q.w.value()[2] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(train_step(sum(mul(q.w, q.w)), q.store, optimizer, 0.1, 1.0, "step 7"),
                       doctest::Contains("step 7: non-finite gradient"), Error);
  CHECK(q.w.value()[0] == 3.0);
}
