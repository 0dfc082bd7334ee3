// Tests for rlhf/task/experiment.hpp's statistics: the score at a KL budget (linear between
// evaluations), means and sample deviations over finite values, and curves averaged by point.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("score_at_kl interpolates where the KL first reaches the budget") {
  EvalCurve c;
  c.kl = {0.0, 1.0, 3.0}, c.score = {-1.0, 1.0, 5.0}, c.iteration = {0, 1, 2};
  CHECK(score_at_kl(c, 0.5) == doctest::Approx(0.0));
  CHECK(score_at_kl(c, 2.0) == doctest::Approx(3.0));
  CHECK(std::isnan(score_at_kl(c, 4.0)));
}

TEST_CASE("finite_mean_std and mean_curve skip non-finite values") {
  const FiniteStats s = finite_mean_std({1.0, NAN, 3.0, INFINITY});
  CHECK(s.count == 2);
  CHECK(s.mean == 2.0);
  CHECK(s.std == doctest::Approx(std::sqrt(2.0)));
  CHECK(finite_mean_std({4.0}).std == 0.0);
  CHECK(std::isnan(finite_mean_std({NAN}).mean));

  EvalCurve a, b;
  a.iteration = b.iteration = {0, 10};
  a.score = {1, 3}, b.score = {3, NAN}, a.kl = {0, 2}, b.kl = {0, 4};
  const MeanCurve m = mean_curve({a, b});
  CHECK(m.iteration == std::vector<double>{0, 10});
  CHECK(m.score == std::vector<double>{2, 3});
  CHECK(m.kl == std::vector<double>{0, 3});
}
