// Tests for ops/token_stats.hpp: each statistic against a direct double computation on random
// logits, and the same bits on SealedCpu.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

TEST_CASE("token_stats: probabilities, full KL and entropy against the definitions") {
  Rng rng(41);
  const Tensor<float> two = random_normal<float>({3, 4, 2}, rng, 2.0);
  const Tensor<float> p = positive_probabilities(two);
  REQUIRE(p.numel() == 12);
  for (int64_t i = 0; i < 12; ++i)
    CHECK(p[i] == doctest::Approx(std::exp(two[2 * i + 1]) /
                                  (std::exp(two[2 * i]) + std::exp(two[2 * i + 1])))
                      .epsilon(1e-6));

  const int64_t N = 5, V = 9;
  const Tensor<float> logits = random_normal<float>({N, V}, rng, 1.5);
  const Tensor<float> ref = random_normal<float>({N, V}, rng, 1.5);
  const Tensor<double> stats = token_kl_stats(logits, ref);
  for (int64_t i = 0; i < N; ++i) {
    double z = 0, z_ref = 0;
    for (int64_t v = 0; v < V; ++v)
      z += std::exp(double(logits[i * V + v])), z_ref += std::exp(double(ref[i * V + v]));
    double kl = 0, entropy = 0;
    for (int64_t v = 0; v < V; ++v) {
      const double logp = double(logits[i * V + v]) - std::log(z);
      const double logq = double(ref[i * V + v]) - std::log(z_ref);
      kl += std::exp(logp) * (logp - logq);
      entropy -= std::exp(logp) * logp;
    }
    CHECK(stats[i * 2] == doctest::Approx(kl).epsilon(1e-9));
    CHECK(stats[i * 2 + 1] == doctest::Approx(entropy).epsilon(1e-9));
    CHECK(stats[i * 2] >= 0);
  }
  // The same bits through SealedCpu, and KL 0 against itself.
  const auto on_device = [](const Tensor<float>& t) {
    return Tensor<float, SealedCpu>::to_device(t);
  };
  CHECK(token_kl_stats(on_device(logits), on_device(ref)).to_vector() == stats.to_vector());
  const Tensor<double> self = token_kl_stats(logits, logits);
  for (int64_t i = 0; i < N; ++i) CHECK(self[i * 2] == 0.0);
}

TEST_CASE("token_stats: ratio sums, counts, the first non-finite value and packing") {
  Rng rng(42);
  const Tensor<double> a = random_normal<double>({50}, rng), b = random_normal<double>({50}, rng);
  const Tensor<double> log_ratio = random_normal<double>({50}, rng, 0.1);
  Tensor<double> ratio({50});
  for (int64_t i = 0; i < 50; ++i) ratio[i] = std::exp(log_ratio[i]);
  double greater = 0, lr2 = 0, r = 0, r2 = 0;
  for (int64_t i = 0; i < 50; ++i) {
    greater += a[i] > b[i];
    lr2 += log_ratio[i] * log_ratio[i], r += ratio[i], r2 += ratio[i] * ratio[i];
  }
  // Sums in index order; compared with a tolerance because the compiler may fuse the
  // multiply-adds differently in the kernel and here.
  const std::vector<double> sums = policy_ratio_stats(a, b, log_ratio, ratio).to_vector();
  REQUIRE(sums.size() == 4);
  CHECK(sums[0] == greater);
  CHECK(sums[1] == doctest::Approx(lr2).epsilon(1e-12));
  CHECK(sums[2] == doctest::Approx(r).epsilon(1e-12));
  CHECK(sums[3] == doctest::Approx(r2).epsilon(1e-12));
  CHECK(count_greater(a, b)[0] == greater);

  Tensor<float> x = random_normal<float>({20}, rng);
  CHECK(first_non_finite(x)[0] == -1);
  x[13] = std::numeric_limits<float>::infinity();
  x[17] = std::numeric_limits<float>::quiet_NaN();
  CHECK(first_non_finite(x)[0] == 13);

  const Tensor<int32_t> ints = Tensor<int32_t>::from({2}, {7, -3});
  CHECK(pack_as_double(ints, Tensor<float>(), count_greater(a, b)).to_vector() ==
        std::vector<double>{7, -3, greater});
}
