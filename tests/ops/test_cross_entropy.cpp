// Tests for ops/cross_entropy.hpp and autograd/fn/cross_entropy.hpp: cross-entropy (ignore index,
// weights), token log-probabilities, soft-target cross-entropy and BCE with logits — values against
// direct formulas, known values, stability at ±1000, gradient checks in double, input errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/cross_entropy.hpp>
#include <tlcr/ops/cross_entropy.hpp>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

// The default ignore index of the losses (the kIgnore of train/batches.hpp).
constexpr int32_t kIgnore = -100;

namespace {
// log softmax(row)[v], computed the long way in double.
double naive_log_softmax(const double* row, int64_t size, int64_t v) {
  double total = 0;
  for (int64_t j = 0; j < size; ++j) total += std::exp(row[j]);
  return row[v] - std::log(total);
}

// Random targets in [0, V), each replaced by the ignore index with probability ignore_fraction.
std::vector<int32_t> random_targets(Rng& rng, int64_t rows, int64_t V, double ignore_fraction) {
  std::vector<int32_t> targets(rows);
  for (auto& t : targets)
    t = rng.uniform() < ignore_fraction ? kIgnore : int32_t(rng.uniform_int(V));
  return targets;
}

std::vector<double> random_weights(Rng& rng, int64_t rows) {
  std::vector<double> weights(rows);
  for (double& w : weights) w = rng.uniform(0.1, 2.0);
  return weights;
}

bool all_finite(const Tensor<float>& t) {
  for (float v : t)
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace

TEST_CASE("cross_entropy is the weighted mean of −log p over the rows that are not ignored") {
  Rng rng(400);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t B = random_size(rng, 1, 4), T = random_size(rng, 1, 5),
                  V = random_size(rng, 2, 30);
    Tensor<double> logits = random_normal<double>({B, T, V}, rng, 3.0);
    const auto targets = random_targets(rng, B * T, V, 0.3);
    const auto weights = random_weights(rng, B * T);
    for (bool weighted : {false, true}) {
      double numerator = 0, denominator = 0;
      for (int64_t i = 0; i < B * T; ++i) {
        if (targets[i] == kIgnore) continue;
        const double w = weighted ? weights[i] : 1.0;
        numerator -= w * naive_log_softmax(logits.data() + i * V, V, targets[i]);
        denominator += w;
      }
      const double expected = denominator > 0 ? numerator / denominator : 0.0;
      auto loss = weighted ? cross_entropy(constant(logits), targets, weights)
                           : cross_entropy(constant(logits), targets);
      CHECK(loss.shape() == Shape{});
      CHECK(loss.value()[0] == doctest::Approx(expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("cross_entropy known values: uniform logits give log V; ±1000 logits stay finite") {
  const int64_t V = 7;
  auto uniform =
      cross_entropy(constant(Tensor<float>::full({3, V}, 2.5f)), std::vector<int32_t>{0, 3, 6});
  CHECK(uniform.value()[0] == doctest::Approx(std::log(double(V))).epsilon(1e-6));

  auto extreme =
      parameter(Tensor<float>::from({2, 3}, {1000.f, -1000.f, 0.f, -1000.f, 1000.f, 1000.f}));
  auto confident = cross_entropy(extreme, std::vector<int32_t>{0, kIgnore});
  CHECK(confident.value()[0] == doctest::Approx(0.0));
  auto wrong = cross_entropy(extreme, std::vector<int32_t>{1, 0});
  // row 0: lse = 1000 → −log p = 2000; row 1: lse = 1000 + log 2 → 2000 + log 2.
  CHECK(wrong.value()[0] == doctest::Approx((2000.0 + 2000.0 + std::log(2.0)) / 2).epsilon(1e-6));
  backward(wrong);
  CHECK(all_finite(extreme.grad()));
  CHECK(extreme.grad()[0] == doctest::Approx(0.5));   // (softmax − onehot)/2 at the row max
  CHECK(extreme.grad()[1] == doctest::Approx(-0.5));  // the target
  CHECK(extreme.grad()[3] == doctest::Approx(-0.5));
  CHECK(extreme.grad()[4] == doctest::Approx(0.25));
}

TEST_CASE("cross_entropy with every row ignored is 0 with a zero gradient") {
  Rng rng(401);
  auto logits = parameter(random_normal<double>({4, 5}, rng));
  const std::vector<int32_t> ignored(4, kIgnore);
  auto loss = cross_entropy(logits, ignored);
  CHECK(loss.value()[0] == 0.0);
  backward(loss);
  for (double g : logits.grad()) CHECK(g == 0.0);
  const std::vector<int32_t> other_ignore = {-1, -1, -1, -1};
  CHECK(cross_entropy(logits, other_ignore, {}, -1).value()[0] == 0.0);
}

TEST_CASE("cross_entropy passes gradcheck, with ignored rows and with weights") {
  Rng rng(402);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t N = random_size(rng, 1, 6), V = random_size(rng, 2, 6);
    auto logits = parameter(random_normal<double>({N, V}, rng, 2.0));
    auto targets = random_targets(rng, N, V, 0.3);
    targets[0] = int32_t(rng.uniform_int(V));  // at least one row counts
    const auto weights = random_weights(rng, N);
    TLCR_CHECK_GRADIENTS([&] { return cross_entropy(logits, targets); }, {logits});
    TLCR_CHECK_GRADIENTS([&] { return cross_entropy(logits, targets, weights); }, {logits});
  }
  auto logits3 = parameter(random_normal<double>({2, 3, 4}, rng));
  const std::vector<int32_t> targets3 = {0, 3, kIgnore, 1, 2, 2};
  TLCR_CHECK_GRADIENTS([&] { return cross_entropy(logits3, targets3); }, {logits3});
}

TEST_CASE("token_log_probs gathers log softmax at the targets and passes gradcheck") {
  Rng rng(403);
  const int64_t B = 3, T = 4, V = 9;
  Tensor<double> logits = random_normal<double>({B, T, V}, rng, 2.0);
  const auto targets = random_targets(rng, B * T, V, 0.25);
  auto out = token_log_probs(constant(logits), targets);
  CHECK(out.shape() == Shape{B, T});
  for (int64_t i = 0; i < B * T; ++i) {
    const double expected =
        targets[i] == kIgnore ? 0.0 : naive_log_softmax(logits.data() + i * V, V, targets[i]);
    CHECK(out.value()[i] == doctest::Approx(expected).epsilon(1e-12));
  }
  // Over every possible target the probabilities sum to 1.
  double total = 0;
  for (int32_t v = 0; v < V; ++v) {
    Tensor<double> row = logits.at(0).at(0).reshape({1, V});
    total += std::exp(token_log_probs(constant(row), std::vector<int32_t>{v}).value()[0]);
  }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));

  auto x = parameter(random_normal<double>({2, 3, 5}, rng, 2.0));
  const std::vector<int32_t> picks = {4, 0, kIgnore, 2, 2, 1};
  TLCR_CHECK_GRADIENTS([&] { return token_log_probs(x, picks); }, {x});

  // Stable at ±1000: log p of the max is 0, of the min is −2000.
  auto extreme = token_log_probs(constant(Tensor<float>::from({1, 2}, {1000.f, -1000.f})),
                                 std::vector<int32_t>{1});
  CHECK(extreme.value()[0] == doctest::Approx(-2000.0));
}

TEST_CASE("soft_cross_entropy: one-hot targets equal hard cross-entropy; (0.5, 0.5) known value") {
  Rng rng(404);
  const int64_t N = 5, K = 4;
  Tensor<double> logits = random_normal<double>({N, K}, rng, 2.0);
  const auto hard = random_targets(rng, N, K, 0.0);
  Tensor<double> onehot({N, K});
  for (int64_t i = 0; i < N; ++i) onehot[i * K + hard[i]] = 1.0;
  auto per_row = soft_cross_entropy(constant(logits), onehot);
  CHECK(per_row.shape() == Shape{N});
  for (int64_t i = 0; i < N; ++i)
    CHECK(per_row.value()[i] ==
          doctest::Approx(-naive_log_softmax(logits.data() + i * K, K, hard[i])).epsilon(1e-12));

  // Two logits with the neutral target (0.5, 0.5): loss = −½ log p − ½ log(1−p), log 2 at p = ½.
  Tensor<double> two = Tensor<double>::from({2, 2}, {0.0, 0.0, 1.0, -1.0});
  Tensor<double> neutral = Tensor<double>::full({2, 2}, 0.5);
  auto neutral_loss = soft_cross_entropy(constant(two), neutral);
  CHECK(neutral_loss.value()[0] == doctest::Approx(std::log(2.0)).epsilon(1e-12));
  const double p = 1 / (1 + std::exp(-2.0));
  CHECK(neutral_loss.value()[1] ==
        doctest::Approx(-0.5 * std::log(p) - 0.5 * std::log(1 - p)).epsilon(1e-12));

  // Row weights scale each row; weight 0 masks it out entirely.
  const std::vector<double> weights = {2.0, 0.0};
  auto weighted = soft_cross_entropy(constant(two), neutral, weights);
  CHECK(weighted.value()[0] == doctest::Approx(2 * std::log(2.0)).epsilon(1e-12));
  CHECK(weighted.value()[1] == 0.0);
}

TEST_CASE("soft_cross_entropy passes gradcheck, with row weights and a masked row") {
  Rng rng(405);
  auto logits = parameter(random_normal<double>({2, 3, 4}, rng, 2.0));
  Tensor<double> targets = testing::random_uniform<double>({2, 3, 4}, rng, 0.0, 1.0);
  for (int64_t i = 0; i < 6; ++i) {  // rows sum to 1, except the last, which sums to 0.7
    double total = 0;
    for (int64_t k = 0; k < 4; ++k) total += targets[i * 4 + k];
    for (int64_t k = 0; k < 4; ++k) targets[i * 4 + k] *= (i == 5 ? 0.7 : 1.0) / total;
  }
  TLCR_CHECK_GRADIENTS([&] { return soft_cross_entropy(logits, targets); }, {logits});
  const std::vector<double> weights = {1.0, 0.0, 0.5, 2.0, 1.0, 0.25};
  TLCR_CHECK_GRADIENTS([&] { return soft_cross_entropy(logits, targets, weights); }, {logits});
  auto masked = soft_cross_entropy(logits, targets, weights);
  backward(sum(masked));
  for (int64_t k = 0; k < 4; ++k) CHECK(logits.grad()[1 * 4 + k] == 0.0);
}

TEST_CASE(
    "bce_with_logits: known values, agreement with the direct formula, stability, gradcheck") {
  Rng rng(406);
  Tensor<double> x = random_normal<double>({3, 4}, rng, 2.0);
  Tensor<double> y = testing::random_uniform<double>({3, 4}, rng, 0.0, 1.0);
  auto out = bce_with_logits(constant(x), y);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double s = 1 / (1 + std::exp(-x[i]));
    CHECK(out.value()[i] ==
          doctest::Approx(-y[i] * std::log(s) - (1 - y[i]) * std::log(1 - s)).epsilon(1e-10));
  }
  auto zero =
      bce_with_logits(constant(Tensor<float>::full({1}, 0.f)), Tensor<float>::full({1}, 1.f));
  CHECK(zero.value()[0] == doctest::Approx(std::log(2.0)));

  auto extreme = parameter(Tensor<float>::from({4}, {1000.f, 1000.f, -1000.f, -1000.f}));
  Tensor<float> labels = Tensor<float>::from({4}, {1.f, 0.f, 0.f, 1.f});
  auto stable = bce_with_logits(extreme, labels);
  CHECK(stable.value()[0] == 0.0f);
  CHECK(stable.value()[1] == doctest::Approx(1000.0));
  CHECK(stable.value()[2] == 0.0f);
  CHECK(stable.value()[3] == doctest::Approx(1000.0));
  backward(sum(stable));
  CHECK(all_finite(extreme.grad()));
  CHECK(extreme.grad()[1] == doctest::Approx(1.0));   // σ(1000) − 0
  CHECK(extreme.grad()[3] == doctest::Approx(-1.0));  // σ(−1000) − 1

  auto logits = parameter(random_normal<double>({2, 5}, rng, 2.0));
  Tensor<double> targets = testing::random_uniform<double>({2, 5}, rng, 0.0, 1.0);
  TLCR_CHECK_GRADIENTS([&] { return bce_with_logits(logits, targets); }, {logits});
}

TEST_CASE("loss input errors name the op, the row and the expected range") {
  auto logits = constant(Tensor<float>({2, 3}));
  CHECK_THROWS_WITH_AS(cross_entropy(logits, std::vector<int32_t>{0, 3}),
                       doctest::Contains("cross_entropy: target 3 at row 1 is outside [0, 3)"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, std::vector<int32_t>{0}),
                       doctest::Contains("cross_entropy: 1 targets for logits [2, 3] with 2 rows"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, std::vector<int32_t>{0, 1}, std::vector<float>{1.f}),
                       doctest::Contains("cross_entropy: 1 weights for 2 rows"), Error);
  CHECK_THROWS_WITH_AS(
      cross_entropy(logits, std::vector<int32_t>{0, 1}, std::vector<float>{1.f, -1.f}),
      doctest::Contains("weight -1 at row 1 must be finite and ≥ 0"), Error);
  CHECK_THROWS_WITH_AS(token_log_probs(logits, std::vector<int32_t>{-5, 0}),
                       doctest::Contains("token_log_probs: target -5 at row 0"), Error);
  CHECK_THROWS_WITH_AS(
      soft_cross_entropy(logits, Tensor<float>({2, 4})),
      doctest::Contains("soft_cross_entropy: shape mismatch: logits [2, 3] vs targets [2, 4]"),
      Error);
  CHECK_THROWS_WITH_AS(bce_with_logits(logits, Tensor<float>({3, 2})),
                       doctest::Contains("bce_with_logits: shape mismatch"), Error);
}
