// Tests for generate/sampler.hpp: greedy, temperature, top-k and top-p behave as defined,
// log-probabilities are exact, draws are deterministic from the seed and match the distribution.
#include <doctest/doctest.h>
#include <tlcr/generate/sampler.hpp>

#include <array>
#include <cmath>
#include <map>

using namespace tlcr;

namespace {
const std::array<float, 5> kLogits{1.0f, 3.0f, 0.5f, 3.0f, -2.0f};

std::array<int, 5> histogram(const SamplingOptions& options, int draws, uint64_t seed) {
  Rng rng(seed);
  std::array<int, 5> counts{};
  for (int i = 0; i < draws; ++i) ++counts[sample_token<float>(kLogits, options, rng).token];
  return counts;
}
}  // namespace

TEST_CASE("greedy picks the largest logit, the lower id on ties, and reports its log-prob") {
  Rng rng(1);
  const SampledToken t = sample_token<float>(kLogits, {.temperature = 0}, rng);
  CHECK(t.token == 1);
  double z = 0;
  for (float x : kLogits) z += std::exp(x);
  CHECK(t.logprob == doctest::Approx(3.0 - std::log(z)));
}

TEST_CASE("temperature 1 samples from softmax(logits)") {
  const int draws = 100000;
  const auto counts = histogram({}, draws, 7);
  double z = 0;
  for (float x : kLogits) z += std::exp(x);
  for (int i = 0; i < 5; ++i)
    CHECK(counts[i] / double(draws) == doctest::Approx(std::exp(kLogits[i]) / z).epsilon(0.05).scale(0.01));
}

TEST_CASE("top-k keeps only the k most likely tokens") {
  const auto counts = histogram({.top_k = 2}, 20000, 8);
  CHECK(counts[0] == 0);
  CHECK(counts[2] == 0);
  CHECK(counts[4] == 0);
  CHECK(counts[1] / 20000.0 == doctest::Approx(0.5).epsilon(0.05));
}

TEST_CASE("top-p keeps the smallest prefix reaching p; sampling log-prob is renormalised") {
  // softmax mass: tokens 1 and 3 hold ≈ 0.44 each, so p = 0.8 keeps exactly {1, 3}.
  const auto counts = histogram({.top_p = 0.8}, 20000, 9);
  CHECK(counts[0] + counts[2] + counts[4] == 0);
  Rng rng(3);
  const SampledToken t = sample_token<float>(kLogits, {.top_p = 0.8}, rng);
  CHECK(t.sampling_logprob == doctest::Approx(std::log(0.5)));
  const SampledToken tiny = sample_token<float>(kLogits, {.top_p = 1e-6}, rng);
  CHECK(tiny.token == 1);  // at least one token always survives
}

TEST_CASE("same seed, same tokens; bad options and NaN logits are rejected") {
  Rng a(42), b(42);
  for (int i = 0; i < 50; ++i)
    CHECK(sample_token<float>(kLogits, {.temperature = 0.7, .top_k = 4}, a).token ==
          sample_token<float>(kLogits, {.temperature = 0.7, .top_k = 4}, b).token);
  CHECK_THROWS_WITH_AS(SamplingOptions{.top_p = 0}.validate(), doctest::Contains("top_p must be in (0, 1]"), Error);
  const std::array<float, 2> bad{0.0f, NAN};
  Rng rng;
  CHECK_THROWS_WITH_AS(sample_token<float>(bad, {}, rng), doctest::Contains("logit 1 is NaN"), Error);
}
