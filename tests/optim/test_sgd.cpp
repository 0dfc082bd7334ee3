// Tests for optim/sgd.hpp: hand-computed steps for plain, momentum, Nesterov and weight-decayed
// SGD, a random multi-step comparison with the update written out per element, and errors.
#include "support/testing.hpp"

#include <tlcr/optim/sgd.hpp>

using namespace tlcr;
using testing::random_normal;

namespace {
// A store with one Decay and one NoDecay scalar parameter, both starting at 1.
struct TwoScalars {
  ParameterStore<double> store;
  TwoScalars() {
    store.add("decayed", {});
    store.add("kept", {}, ParamGroup::NoDecay);
    store.finalize();
    store.values().fill(1.0);
  }
  double decayed() const { return store.values()[0]; }
  double kept() const { return store.values()[1]; }
  void set_grads(double g) { store.grads().fill(g); }
};
}  // namespace

TEST_CASE("SGD with momentum: two steps computed by hand") {
  // p0 = 1, g1 = 0.5, g2 = -0.25, lr = 0.1, momentum = 0.9.
  SUBCASE("plain momentum: u1 = 0.5, p1 = 0.95; u2 = 0.45 - 0.25 = 0.2, p2 = 0.93") {
    TwoScalars s;
    Sgd<double> sgd(s.store, {.lr = 0.1, .momentum = 0.9});
    s.set_grads(0.5);
    sgd.step();
    CHECK(s.kept() == doctest::Approx(0.95).epsilon(1e-14));
    s.set_grads(-0.25);
    sgd.step();
    CHECK(s.kept() == doctest::Approx(0.93).epsilon(1e-14));
    CHECK(sgd.velocity()[1] == doctest::Approx(0.2).epsilon(1e-14));
  }
  SUBCASE("Nesterov: d1 = 0.5 + 0.9·0.5 = 0.95, p1 = 0.905; d2 = -0.25 + 0.9·0.2, p2 = 0.912") {
    TwoScalars s;
    Sgd<double> sgd(s.store, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    s.set_grads(0.5);
    sgd.step();
    CHECK(s.kept() == doctest::Approx(0.905).epsilon(1e-14));
    s.set_grads(-0.25);
    sgd.step();
    CHECK(s.kept() == doctest::Approx(0.912).epsilon(1e-14));
  }
  SUBCASE("weight decay 0.1 applies to the Decay group only: 1 - 0.1·(0.5 + 0.1) = 0.94") {
    TwoScalars s;
    Sgd<double> sgd(s.store, {.lr = 0.1, .weight_decay = 0.1});
    s.set_grads(0.5);
    sgd.step();
    CHECK(s.decayed() == doctest::Approx(0.94).epsilon(1e-14));
    CHECK(s.kept() == doctest::Approx(0.95).epsilon(1e-14));
  }
  SUBCASE("step(lr) overrides the configured rate: 1 - 0.3·0.5 = 0.85") {
    TwoScalars s;
    Sgd<double> sgd(s.store, {.lr = 0.1});
    s.set_grads(0.5);
    sgd.step(0.3);
    CHECK(s.kept() == doctest::Approx(0.85).epsilon(1e-14));
  }
}

TEST_CASE("SGD matches the per-element update over several random steps") {
  Rng rng(710);
  for (bool nesterov : {false, true}) {
    ParameterStore<double> store;
    store.add("w", {testing::random_size(rng, 2, 6), 3});
    store.add("b", {3}, ParamGroup::NoDecay);
    store.finalize();
    store.values().copy_from(random_normal<double>({store.numel()}, rng));
    const SgdOptions options{
        .lr = 0.05, .momentum = 0.8, .nesterov = nesterov, .weight_decay = 0.3};
    Sgd<double> sgd(store, options);

    std::vector<double> p = store.values().to_vector(), u(p.size(), 0.0);
    const auto& mask = store.decay_mask();
    for (int step = 0; step < 3; ++step) {
      store.grads().copy_from(random_normal<double>({store.numel()}, rng));
      for (std::size_t i = 0; i < p.size(); ++i) {
        double g = store.grads()[i];
        if (mask[i]) g += 0.3 * p[i];
        u[i] = 0.8 * u[i] + g;
        p[i] -= 0.05 * (nesterov ? g + 0.8 * u[i] : u[i]);
      }
      sgd.step();
    }
    for (std::size_t i = 0; i < p.size(); ++i)
      CHECK(store.values()[i] == doctest::Approx(p[i]).epsilon(1e-12));
  }
}

TEST_CASE("SGD rejects bad options and unfinalized stores") {
  ParameterStore<float> store;
  store.add("w", {2});
  CHECK_THROWS_WITH_AS(Sgd<float>(store, {}), doctest::Contains("must be finalized first"), Error);
  store.finalize();
  CHECK_THROWS_WITH_AS(Sgd<float>(store, {.momentum = 1.0}),
                       doctest::Contains("expected momentum in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(Sgd<float>(store, {.nesterov = true}),
                       doctest::Contains("Nesterov needs momentum > 0"), Error);
  CHECK_THROWS_WITH_AS(Sgd<float>(store, {.weight_decay = -1}),
                       doctest::Contains("expected weight_decay >= 0, got -1"), Error);
}
