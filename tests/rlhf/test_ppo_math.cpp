// Tests for rlhf/ppo/{gae,kl,losses,config}.hpp on cases small enough to work out by hand: GAE and
// returns = advantages + values; the clipped policy and value losses (values, clip fractions,
// gradients, gradcheck); the KL estimators (formulas, full KL ≥ 0 and = 0 for identical models,
// k1 and k3 agreeing with the full KL in expectation); the adaptive KL controller; config JSON.
#include "support/testing.hpp"

#include <set>

#include <tlcr/rlhf/ppo.hpp>

#include <cmath>
#include <numeric>

using namespace tlcr;

TEST_CASE("GAE on a three-token response matches the hand computation") {
  // γ = 0.9, λ = 0.8, V_3 = 0:
  //   t=2: δ = 2 − 0.2 = 1.8                  A = 1.8
  //   t=1: δ = 0 + 0.9·0.2 − 1.0 = −0.82      A = −0.82 + 0.72·1.8 = 0.476
  //   t=0: δ = 1 + 0.9·1.0 − 0.5 = 1.4        A = 1.4 + 0.72·0.476 = 1.74272
  const std::vector<double> rewards{1, 0, 2}, values{0.5, 1.0, 0.2};
  std::vector<double> advantages(3), returns(3);
  generalized_advantages(rewards, values, 0.9, 0.8, advantages, returns);
  CHECK(advantages[2] == doctest::Approx(1.8).epsilon(1e-12));
  CHECK(advantages[1] == doctest::Approx(0.476).epsilon(1e-12));
  CHECK(advantages[0] == doctest::Approx(1.74272).epsilon(1e-12));
  // (Constant folding may round a fused multiply-add differently: allow the last bit.)
  for (int t = 0; t < 3; ++t)
    CHECK(returns[t] == doctest::Approx(advantages[t] + values[t]).epsilon(1e-15));
}

TEST_CASE("GAE limits: λ = 1, γ = 1 gives reward-to-go minus value; λ = 0 gives the TD error") {
  Rng rng(11);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t L = testing::random_size(rng, 1, 12);
    std::vector<double> rewards(L), values(L), advantages(L), returns(L);
    for (int64_t t = 0; t < L; ++t) rewards[t] = rng.normal(), values[t] = rng.normal();
    generalized_advantages(rewards, values, 1.0, 1.0, advantages, returns);
    for (int64_t t = 0; t < L; ++t) {
      const double to_go = std::accumulate(rewards.begin() + t, rewards.end(), 0.0);
      CHECK(returns[t] == doctest::Approx(to_go).epsilon(1e-12));
      CHECK(returns[t] == advantages[t] + values[t]);
    }
    const double gamma = rng.uniform(0.5, 1.0);
    generalized_advantages(rewards, values, gamma, 0.0, advantages, returns);
    for (int64_t t = 0; t < L; ++t) {
      const double next = t + 1 < L ? values[t + 1] : 0.0;
      CHECK(advantages[t] == doctest::Approx(rewards[t] + gamma * next - values[t]).epsilon(1e-12));
    }
  }
  std::vector<double> too_short(2);
  CHECK_THROWS_WITH_AS(
      generalized_advantages(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2, 3}, 1, 1,
                             too_short, too_short),
      doctest::Contains("3 rewards, 3 values, 2 advantage slots"), Error);
}

TEST_CASE("whitening gives zero mean and unit std, or keeps the mean") {
  Rng rng(12);
  std::vector<double> x(50);
  for (double& v : x) v = 3 + 2 * rng.normal();
  std::vector<double> centred = x, scaled = x;
  whiten(centred);
  const MeanStd a = mean_and_std(centred);
  CHECK(std::abs(a.mean) < 1e-12);
  CHECK(a.std == doctest::Approx(1.0).epsilon(1e-6));
  whiten(scaled, /*keep_mean=*/true);
  const MeanStd before = mean_and_std(x), b = mean_and_std(scaled);
  CHECK(b.mean == doctest::Approx(before.mean).epsilon(1e-12));
  CHECK(b.std == doctest::Approx(1.0).epsilon(1e-6));
  std::vector<double> one{4.0};
  whiten(one);
  CHECK(one[0] == 4.0);
}

TEST_CASE("clipped surrogate: values, clip fraction and gradients by hand") {
  // ε = 0.2. Token 0: ρ = 1.5, A = 1 → max(−1.5, −1.2) = −1.2 (clipped, no gradient)
  //          token 1: ρ = 0.5, A = −2 → max(1.0, 1.6) = 1.6 (clipped, no gradient)
  //          token 2: ρ = 1.1, A = 0.5 → −0.55 on both sides (unclipped)
  //          token 3: ρ = 1.5, A = −1 → max(1.5, 1.2) = 1.5 (outside the range, yet unclipped wins)
  const std::vector<double> old{-1.0, -2.0, -0.5, -3.0}, adv{1.0, -2.0, 0.5, -1.0};
  const std::vector<double> ratios{1.5, 0.5, 1.1, 1.5};
  Tensor<double> now(Shape{4});
  for (int i = 0; i < 4; ++i) now[i] = old[i] + std::log(ratios[i]);
  const Var<double> logprobs = parameter(now);
  const PolicyLoss<double> pg = clipped_policy_loss(logprobs, old, adv, 0.2);
  CHECK(pg.loss.value()[0] == doctest::Approx((-1.2 + 1.6 - 0.55 + 1.5) / 4).epsilon(1e-12));
  CHECK(pg.clip_fraction == 0.5);
  CHECK(pg.ratio_mean == doctest::Approx(1.15).epsilon(1e-12));
  double squares = 0;
  for (double r : ratios) squares += std::log(r) * std::log(r);
  CHECK(pg.approx_kl == doctest::Approx(0.5 * squares / 4).epsilon(1e-12));
  backward(pg.loss);
  // d/d log π of −A·ρ/4 is −A·ρ/4 on unclipped tokens.
  CHECK(logprobs.grad()[0] == 0.0);
  CHECK(logprobs.grad()[1] == 0.0);
  CHECK(logprobs.grad()[2] == doctest::Approx(-0.5 * 1.1 / 4).epsilon(1e-12));
  CHECK(logprobs.grad()[3] == doctest::Approx(1.0 * 1.5 / 4).epsilon(1e-12));
}

TEST_CASE("clipped value loss: values, clip fraction and gradients by hand") {
  // clip 0.2. Token 0: V_old 0, V 0.5, R 1 → (0.5−1)² = 0.25 vs (0.2−1)² = 0.64: clipped wins
  //           token 1: V_old 1, V 0.9, R 0 → 0.81 on both sides (inside the range)
  const std::vector<double> old{0.0, 1.0}, returns{1.0, 0.0};
  const Var<double> values = parameter(Tensor<double>::from(Shape{2}, {0.5, 0.9}));
  const ValueLoss<double> vf = clipped_value_loss(values, old, returns, 0.2);
  CHECK(vf.loss.value()[0] == doctest::Approx(0.5 * (0.64 + 0.81) / 2).epsilon(1e-12));
  CHECK(vf.clip_fraction == 0.5);
  backward(vf.loss);
  CHECK(values.grad()[0] == 0.0);
  CHECK(values.grad()[1] == doctest::Approx(0.5 * 2 * 0.9 / 2).epsilon(1e-12));

  const Var<double> unclipped_values = parameter(Tensor<double>::from(Shape{2}, {0.5, 0.9}));
  const ValueLoss<double> plain = clipped_value_loss(unclipped_values, old, returns, 0.0);
  CHECK(plain.loss.value()[0] == doctest::Approx(0.5 * (0.25 + 0.81) / 2).epsilon(1e-12));
  CHECK(plain.clip_fraction == 0.0);
}

TEST_CASE("the PPO losses and the entropy pass gradcheck on random inputs") {
  Rng rng(13);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t N = testing::random_size(rng, 2, 9), V = testing::random_size(rng, 2, 7);
    std::vector<double> old(N), adv(N), old_values(N), returns(N);
    for (int64_t i = 0; i < N; ++i) {
      old[i] = rng.normal() - 2, adv[i] = rng.normal();
      old_values[i] = rng.normal(), returns[i] = rng.normal();
    }
    Tensor<double> now(Shape{N}), values(Shape{N});
    for (int64_t i = 0; i < N; ++i)
      now[i] = old[i] + 0.4 * rng.normal(), values[i] = old_values[i] + 0.4 * rng.normal();
    const Var<double> logprobs = parameter(now), v = parameter(values);
    const Var<double> logits = parameter(testing::random_normal<double>(Shape{N, V}, rng));
    TLCR_CHECK_GRADIENTS([&] { return clipped_policy_loss(logprobs, old, adv, 0.2).loss; },
                         {logprobs});
    TLCR_CHECK_GRADIENTS([&] { return clipped_value_loss(v, old_values, returns, 0.2).loss; }, {v});
    TLCR_CHECK_GRADIENTS([&] { return mean_entropy(logits); }, {logits});
    double expected = 0;
    for (int64_t i = 0; i < N; ++i) {
      const std::span<const double> row(logits.value().data() + i * V, V);
      expected += full_kl_and_entropy(row, row).entropy / double(N);
    }
    CHECK(mean_entropy(logits).value()[0] == doctest::Approx(expected).epsilon(1e-10));
  }
}

TEST_CASE("loss inputs of the wrong length are reported") {
  const Var<double> x = parameter(Tensor<double>(Shape{3}));
  CHECK_THROWS_WITH_AS(clipped_policy_loss(x, std::vector<double>(3), std::vector<double>(2), 0.2),
                       doctest::Contains("3 tokens but 3 old log-probs and 2 advantages"), Error);
  CHECK_THROWS_WITH_AS(clipped_value_loss(x, std::vector<double>(4), std::vector<double>(3), 0.2),
                       doctest::Contains("3 tokens but 4 old values and 3 returns"), Error);
}

TEST_CASE("k1 and k3 follow their formulas; k3 is never negative") {
  CHECK(kl_k1(-1.0, -1.5) == doctest::Approx(0.5));
  // r = π_ref/π = e^{-0.5}: k3 = (r − 1) − log r = e^{-0.5} − 1 + 0.5
  CHECK(kl_k3(-1.0, -1.5) == doctest::Approx(std::exp(-0.5) - 0.5).epsilon(1e-12));
  CHECK(kl_k3(-2.0, -2.0) == 0.0);
  Rng rng(14);
  for (int i = 0; i < 100; ++i) CHECK(kl_k3(rng.normal() - 3, rng.normal() - 3) >= 0.0);
}

TEST_CASE("full KL: hand value, ≥ 0 on random logits, exactly 0 for identical logits") {
  // π = (½, ½), π_ref = (¾, ¼): KL = ½·log(½/¾) + ½·log(½/¼) = ½·log(4/3)
  const std::vector<float> uniform{0.f, 0.f}, skewed{std::log(3.f), 0.f};
  CHECK(full_kl<float>(uniform, skewed) ==
        doctest::Approx(0.5 * std::log(4.0 / 3.0)).epsilon(1e-6));
  CHECK(full_kl_and_entropy<float>(uniform, skewed).entropy == doctest::Approx(std::log(2.0)));
  Rng rng(15);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t V = testing::random_size(rng, 2, 40);
    const Tensor<float> a = testing::random_normal<float>(Shape{V}, rng, 3.0);
    const Tensor<float> b = testing::random_normal<float>(Shape{V}, rng, 3.0);
    const std::span<const float> sa(a.data(), V), sb(b.data(), V);
    CHECK(full_kl(sa, sb) >= 0.0);
    CHECK(full_kl(sa, sa) == 0.0);
  }
  CHECK_THROWS_WITH_AS(full_kl<float>(uniform, std::vector<float>{0.f, 1.f, 2.f}),
                       doctest::Contains("2 policy logits against 3 reference logits"), Error);
}

TEST_CASE("k1 and k3 average to the full KL over tokens sampled from the policy") {
  Rng rng(16);
  const int64_t V = 6;
  const Tensor<double> z = testing::random_normal<double>(Shape{V}, rng);
  const Tensor<double> z_ref = testing::random_normal<double>(Shape{V}, rng);
  const std::span<const double> logits(z.data(), V), ref_logits(z_ref.data(), V);
  const double exact = full_kl(logits, ref_logits);
  std::vector<double> probs(V);
  for (int64_t v = 0; v < V; ++v) probs[v] = std::exp(token_logprob(logits, int32_t(v)));
  double k1 = 0, k3 = 0;
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) {
    const int32_t a = static_cast<int32_t>(rng.categorical<double>(probs));
    const double lp = token_logprob(logits, a), ref = token_logprob(ref_logits, a);
    k1 += kl_k1(lp, ref) / draws;
    k3 += kl_k3(lp, ref) / draws;
  }
  CHECK(k1 == doctest::Approx(exact).epsilon(0.05));
  CHECK(k3 == doctest::Approx(exact).epsilon(0.05));
}

TEST_CASE("the KL controller: fixed stays, adaptive moves β by the clipped proportional error") {
  KlController fixed(0.1);
  fixed.update(50.0, 32);
  CHECK(fixed.coef() == 0.1);
  CHECK_FALSE(fixed.adaptive());

  KlController adaptive(0.2, /*target=*/6.0, /*horizon=*/10000);
  adaptive.update(6.6, 100);  // e = 0.1 → β·(1 + 0.1·100/10000)
  CHECK(adaptive.coef() == doctest::Approx(0.2 * 1.001).epsilon(1e-12));
  const double before = adaptive.coef();
  adaptive.update(60.0, 100);  // e clipped to 0.2
  CHECK(adaptive.coef() == doctest::Approx(before * 1.002).epsilon(1e-12));
  adaptive.update(0.0, 100);  // e clipped to −0.2
  CHECK(adaptive.coef() == doctest::Approx(before * 1.002 * 0.998).epsilon(1e-12));

  KlController restored(0.2, 6.0);
  restored.set_state(adaptive.state());
  CHECK(restored.coef() == adaptive.coef());
  CHECK_THROWS_AS(restored.set_state(-1.0), Error);
}

TEST_CASE("the KL controller waiting for its target holds β until the KL first reaches it") {
  KlController waiting(0.1, /*target=*/2.0, /*horizon=*/16, /*wait_for_target=*/true);
  KlController classic(0.1, 2.0, 16);
  for (double kl : {0.0, 0.5, 1.9}) {
    waiting.update(kl, 32), classic.update(kl, 32);
    CHECK(waiting.coef() == 0.1);
    CHECK(waiting.waiting());
  }
  CHECK(classic.coef() == doctest::Approx(0.1 * 0.6 * 0.6 * (1 - 0.05 * 2)).epsilon(1e-12));
  waiting.update(3.0, 32);  // reached: e = 0.2 → β·(1 + 0.2·32/16)
  CHECK_FALSE(waiting.waiting());
  CHECK(waiting.coef() == doctest::Approx(0.14).epsilon(1e-12));
  waiting.update(1.0, 32);  // from now on it also lowers β: e = −0.2
  CHECK(waiting.coef() == doctest::Approx(0.14 * 0.6).epsilon(1e-12));

  // The waiting flag is part of the checkpointed state.
  KlController before(0.3, 1.0, 16, true), after(0.3, 1.0, 16, true);
  after.set_state(before.state(), before.waiting());
  after.update(0.5, 32);
  CHECK(after.coef() == 0.3);
  after.set_state(0.3, false);
  after.update(0.5, 32);
  CHECK(after.coef() == doctest::Approx(0.3 * 0.6).epsilon(1e-12));
}

TEST_CASE("PpoConfig: the presets, a JSON round trip, and clear errors") {
  const PpoConfig tlcr_preset = tlcr_ppo_preset();
  CHECK(tlcr_preset.kl_coef == 0.1);
  CHECK(tlcr_preset.kl_estimator == KlEstimator::Full);
  CHECK(tlcr_preset.reward_clip == 5.0);
  CHECK(tlcr_preset.lambda == 0.95);
  CHECK(tlcr_preset.lr == 1e-6);
  CHECK(tlcr_preset.top_p == 0.9);
  CHECK(tlcr_preset.epochs == 1);
  CHECK_FALSE(tlcr_preset.whiten_advantages);
  const PpoConfig small = small_ppo_preset();
  small.validate();
  CHECK(small.lr > tlcr_preset.lr);
  CHECK(small.whiten_advantages);
  PpoConfig short_run = small;  // a warmup longer than the run is capped, not refused
  short_run.iterations = 2;
  CHECK_NOTHROW(short_run.validate());

  const nlohmann::json j = to_json(small);
  CHECK(j["kl_estimator"] == "full");
  const PpoConfig back = apply_ppo_config_json(PpoConfig{}, j, "test");
  CHECK(to_json(back) == j);

  const PpoConfig changed = apply_ppo_config_json(
      small, nlohmann::json{{"kl_estimator", "k3"}, {"lr", 1e-4}, {"epochs", 2}}, "ppo.json");
  CHECK(changed.kl_estimator == KlEstimator::K3);
  CHECK(changed.lr == 1e-4);
  CHECK(changed.epochs == 2);
  CHECK(changed.batch_size == small.batch_size);

  CHECK_THROWS_WITH_AS(
      apply_ppo_config_json(small, nlohmann::json{{"learning_rate", 1}}, "ppo.json"),
      doctest::Contains("ppo.json: unknown PPO setting 'learning_rate'"), Error);
  CHECK_THROWS_WITH_AS(
      apply_ppo_config_json(small, nlohmann::json{{"epochs", 1.5}}, "ppo.json"),
      doctest::Contains("ppo.json: field 'epochs': expected an integer, found 1.5"), Error);
  CHECK_THROWS_WITH_AS(
      apply_ppo_config_json(small, nlohmann::json{{"kl_estimator", "k2"}}, "ppo.json"),
      doctest::Contains("expected a KL estimator \"k1\", \"k3\" or \"full\", found \"k2\""), Error);
  CHECK_THROWS_WITH_AS(
      apply_ppo_config_json(small, nlohmann::json{{"minibatch_size", 5}}, "ppo.json"),
      doctest::Contains("minibatch_size 5 must divide batch_size 32"), Error);
}

TEST_CASE("ppo_setting_info describes every PPO setting once, in visit order, in a known group") {
  std::vector<std::string> visited;
  PpoConfig config;
  visit_ppo_config(config, [&](const char* name, auto&) { visited.emplace_back(name); });
  const auto& info = ppo_setting_info();
  REQUIRE(info.size() == visited.size());
  const std::set<std::string> groups = {"rollout",      "reward shaping", "KL",
                                        "optimisation", "critic",         "reporting"};
  for (std::size_t i = 0; i < info.size(); ++i) {
    CAPTURE(visited[i]);
    CHECK(info[i].name == visited[i]);
    CHECK(groups.count(info[i].group) == 1);
    CHECK(std::string(info[i].help).size() > 5);
  }
}
