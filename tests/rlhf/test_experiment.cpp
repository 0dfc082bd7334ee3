// Tests for rlhf/task/experiment.hpp's statistics: the score at a KL budget (linear between
// evaluations), means and sample deviations over finite values, curves averaged by point, and 95%
// intervals of means and of paired differences (Student's t).
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

TEST_CASE("mean_interval95 and paired_difference95: Student's t intervals, by hand") {
  CHECK(student_t975(1) == 12.706);
  CHECK(student_t975(4) == 2.776);
  CHECK(student_t975(100) == doctest::Approx(1.984).epsilon(0.003));  // the exact value: 1.9840
  // 1, 2, 3, 4, 5 (and a NaN that is skipped): mean 3, s = √2.5, half-width 2.776·√2.5/√5.
  const Interval95 five = mean_interval95({1, 2, NAN, 3, 4, 5});
  CHECK(five.count == 5);
  CHECK(five.mean == doctest::Approx(3.0));
  CHECK(five.half_width == doctest::Approx(2.776 * std::sqrt(2.5) / std::sqrt(5.0)));
  CHECK(std::isnan(mean_interval95({7.0}).half_width));
  // Pairs: differences 1, 3, 2 (the pair with a NaN is left out): mean 2, s = 1, t(2) = 4.303.
  const Interval95 paired = paired_difference95({2, 5, 4, NAN}, {1, 2, 2, 0});
  CHECK(paired.count == 3);
  CHECK(paired.mean == doctest::Approx(2.0));
  CHECK(paired.half_width == doctest::Approx(4.303 / std::sqrt(3.0)));
  // Pairing removes what the runs share: a constant offset has no spread at all.
  const Interval95 offset = paired_difference95({3.5, 1.5, 9.5}, {3, 1, 9});
  CHECK(offset.mean == doctest::Approx(0.5));
  CHECK(offset.half_width == doctest::Approx(0.0));
  CHECK_THROWS_WITH_AS(paired_difference95({1}, {1, 2}),
                       doctest::Contains("1 values paired with 2"), Error);
}

TEST_CASE("an EvalCurve survives JSON text bit for bit, NaN included; bad curves are named") {
  Rng rng(20261205);
  EvalCurve curve;
  for (int i = 0; i < 9; ++i) {
    EvalResult r;
    r.mean_score = rng.normal() * 3, r.mean_kl = std::exp(rng.normal()),
    r.mean_length = 10 + 30 * rng.uniform(), r.win_rate = rng.uniform(),
    r.repetition_rate = i == 4 ? NAN : rng.uniform();
    curve.add(5 * i, r);
  }
  const EvalCurve back =
      eval_curve_from_json(nlohmann::json::parse(to_json(curve).dump()), "curve.json");
  auto same_bits = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  CHECK(same_bits(back.iteration, curve.iteration));
  CHECK(same_bits(back.score, curve.score));
  CHECK(same_bits(back.kl, curve.kl));
  CHECK(same_bits(back.length, curve.length));
  CHECK(same_bits(back.win_rate, curve.win_rate));
  CHECK(same_bits(back.repetition, curve.repetition));
  CHECK(std::isnan(back.repetition[4]));

  const EvalResult last = last_point(back);
  CHECK(last.mean_score == curve.score.back());
  CHECK(last.mean_kl == curve.kl.back());
  CHECK(last.win_rate == curve.win_rate.back());

  nlohmann::json short_column = to_json(curve);
  short_column["kl"].erase(0);
  CHECK_THROWS_WITH_AS(eval_curve_from_json(short_column, "run/result.json"),
                       doctest::Contains("run/result.json: \"kl\" has 8 points"), Error);
  nlohmann::json missing = to_json(curve);
  missing.erase("score");
  CHECK_THROWS_WITH_AS(eval_curve_from_json(missing, "run/result.json"),
                       doctest::Contains("array \"score\""), Error);
  CHECK_THROWS_AS(last_point(EvalCurve{}), Error);
}
