// Tests for optim/adamw.hpp: one and two steps against hand-computed numbers and against the
// update written out per element, decoupled decay only on the Decay group, bitwise continuation
// after saving and restoring the state, thread-count independence, and errors.
#include "support/testing.hpp"

#include <tlcr/optim/adamw.hpp>

using namespace tlcr;
using testing::random_normal;

TEST_CASE("AdamW: one and two steps computed by hand") {
  // p0 = 1 for both parameters, g = 0.5 at both steps, lr = 0.1, wd = 0.1, β = (0.9, 0.999),
  // ε = 1e-8. A constant gradient gives m̂ = g and v̂ = g² at every step, so the Adam part of each
  // update is lr·0.5/(0.5 + 1e-8) = 0.099999998.
  //   step 1: decayed p1 = 1 - 0.1·0.1·1 - 0.099999998 = 0.890000002
  //           kept    p1 = 1 - 0.099999998             = 0.900000002
  //   step 2: decayed p2 = 0.890000002·(1 - 0.01) - 0.099999998 = 0.78110000398
  //           kept    p2 = 0.900000002 - 0.099999998             = 0.800000004
  ParameterStore<double> store;
  store.add("decayed", {});
  store.add("kept", {}, ParamGroup::NoDecay);
  store.finalize();
  store.values().fill(1.0);
  AdamW<double> adam(store,
                     {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1});
  store.grads().fill(0.5);

  adam.step();
  CHECK(adam.step_count() == 1);
  CHECK(store.values()[0] == doctest::Approx(0.890000002).epsilon(1e-13));
  CHECK(store.values()[1] == doctest::Approx(0.900000002).epsilon(1e-13));
  CHECK(adam.m()[0] == doctest::Approx(0.05).epsilon(1e-14));     // (1 - 0.9)·0.5
  CHECK(adam.v()[0] == doctest::Approx(0.00025).epsilon(1e-14));  // (1 - 0.999)·0.25

  adam.step();
  CHECK(adam.step_count() == 2);
  CHECK(store.values()[0] == doctest::Approx(0.78110000398).epsilon(1e-13));
  CHECK(store.values()[1] == doctest::Approx(0.800000004).epsilon(1e-13));
  CHECK(adam.m()[1] == doctest::Approx(0.095).epsilon(1e-14));       // 0.9·0.05 + 0.1·0.5
  CHECK(adam.v()[1] == doctest::Approx(0.00049975).epsilon(1e-14));  // 0.999·0.00025 + 0.00025
}

TEST_CASE("AdamW matches the per-element update over two steps with random gradients") {
  Rng rng(720);
  ParameterStore<double> store;
  store.add("w", {testing::random_size(rng, 2, 5), 4});
  store.add("g", {4}, ParamGroup::NoDecay);
  store.finalize();
  store.values().copy_from(random_normal<double>({store.numel()}, rng));
  const double lr = 0.01, beta1 = 0.8, beta2 = 0.95, eps = 1e-6, wd = 0.2;
  AdamW<double> adam(store,
                     {.lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps, .weight_decay = wd});

  const std::size_t n = static_cast<std::size_t>(store.numel());
  std::vector<double> p = store.values().to_vector(), m(n, 0.0), v(n, 0.0);
  for (int t = 1; t <= 2; ++t) {
    store.grads().copy_from(random_normal<double>({store.numel()}, rng));
    for (std::size_t i = 0; i < n; ++i) {
      const double g = store.grads()[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(beta1, t));
      const double v_hat = v[i] / (1 - std::pow(beta2, t));
      const double decay = store.decay_mask()[i] ? wd : 0.0;
      p[i] = p[i] - lr * decay * p[i] - lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    adam.step();
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(store.values()[i] == doctest::Approx(p[i]).epsilon(1e-12));
      CHECK(adam.m()[i] == doctest::Approx(m[i]).epsilon(1e-12));
      CHECK(adam.v()[i] == doctest::Approx(v[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("AdamW weight decay shrinks Decay parameters and leaves NoDecay ones untouched") {
  Rng rng(721);
  ParameterStore<float> store;
  store.add("w", {6, 5});
  store.add("b", {5}, ParamGroup::NoDecay);
  store.add("ln.weight", {5}, ParamGroup::NoDecay);
  store.finalize();
  store.values().copy_from(random_normal<float>({store.numel()}, rng));
  const std::vector<float> before = store.values().to_vector();
  AdamW<float> adam(store, {.lr = 0.1, .weight_decay = 0.5});
  // With zero gradients m = v = 0, so the Adam part is exactly 0/(0 + ε) = 0 and only decay acts.
  for (int step = 0; step < 3; ++step) adam.step();
  for (const auto& p : store.parameters()) {
    for (int64_t j = 0; j < p.numel(); ++j) {
      const int64_t i = p.offset + j;
      if (p.group == ParamGroup::NoDecay) {
        CHECK(store.values()[i] == before[i]);  // bitwise unchanged
      } else {
        const double expected = before[i] * std::pow(1.0 - 0.1 * 0.5, 3);
        CHECK(store.values()[i] == doctest::Approx(expected).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("AdamW continues bitwise identically after its state is saved and restored") {
  Rng rng(722);
  auto build = [](ParameterStore<float>& store) {
    store.add("w", {40, 30});
    store.add("b", {30}, ParamGroup::NoDecay);
    store.finalize();
  };
  std::vector<Tensor<float>> gradients;
  for (int i = 0; i < 5; ++i) gradients.push_back(random_normal<float>({1230}, rng));
  const AdamWOptions options{.lr = 3e-3, .beta1 = 0.9, .beta2 = 0.95, .weight_decay = 0.1};

  ParameterStore<float> original;
  build(original);
  original.values().copy_from(random_normal<float>({1230}, rng));
  AdamW<float> adam(original, options);
  for (int i = 0; i < 3; ++i) {
    original.grads().copy_from(gradients[i]);
    adam.step();
  }

  // Checkpoint: values and optimiser state go into a fresh store and optimiser.
  ParameterStore<float> restored;
  build(restored);
  restored.copy_values_from(original);
  AdamW<float> resumed(restored, options);
  resumed.load_state(adam.state());
  CHECK(resumed.step_count() == 3);

  for (int i = 3; i < 5; ++i) {
    original.grads().copy_from(gradients[i]);
    adam.step();
    restored.grads().copy_from(gradients[i]);
    resumed.step();
  }
  CHECK(original.values().to_vector() == restored.values().to_vector());
  CHECK(adam.m().to_vector() == resumed.m().to_vector());
  CHECK(adam.v().to_vector() == resumed.v().to_vector());
  CHECK(resumed.step_count() == 5);

  // state() is a deep copy: stepping afterwards does not change a saved state.
  const AdamWState<float> saved = adam.state();
  adam.step();
  CHECK(saved.step == 5);
  CHECK(saved.m.to_vector() != adam.m().to_vector());
}

TEST_CASE("AdamW gives the same bits for any thread count") {
  const int64_t n = 150000;  // several parallel chunks
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Rng local(724);
    ParameterStore<float> store;
    store.add("w", {n / 2});
    store.add("b", {n / 2}, ParamGroup::NoDecay);
    store.finalize();
    store.values().copy_from(random_normal<float>({n}, local));
    AdamW<float> adam(store, {.lr = 1e-2, .weight_decay = 0.1});
    for (int step = 0; step < 3; ++step) {
      store.grads().copy_from(random_normal<float>({n}, local));
      adam.step();
    }
    return store.values().to_vector();
  };
  const std::vector<float> one = run(1);
  CHECK(one == run(2));
  CHECK(one == run(3));
}

TEST_CASE("AdamW rejects bad options, unfinalized stores and mismatched states") {
  ParameterStore<float> store, bigger;
  store.add("w", {3});
  CHECK_THROWS_WITH_AS(AdamW<float>(store, {}), doctest::Contains("must be finalized first"),
                       Error);
  store.finalize();
  bigger.add("w", {4});
  bigger.finalize();
  CHECK_THROWS_WITH_AS(AdamW<float>(store, {.beta1 = 1.0}),
                       doctest::Contains("expected beta1 in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(AdamW<float>(store, {.beta2 = -0.1}),
                       doctest::Contains("expected beta2 in [0, 1), got -0.1"), Error);
  CHECK_THROWS_WITH_AS(AdamW<float>(store, {.eps = 0}), doctest::Contains("expected eps > 0"),
                       Error);
  CHECK_THROWS_WITH_AS(AdamW<float>(store, {.weight_decay = -0.5}),
                       doctest::Contains("expected weight_decay >= 0, got -0.5"), Error);
  AdamW<float> small(store, {});
  AdamW<float> large(bigger, {});
  CHECK_THROWS_WITH_AS(small.load_state(large.state()),
                       doctest::Contains("AdamW::load_state: shape mismatch: saved m [4] vs "
                                         "expected [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(small.load_state(AdamWState<float>{}),
                       doctest::Contains("m or v is missing"), Error);
}
