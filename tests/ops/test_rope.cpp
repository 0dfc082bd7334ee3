// Tests for ops/rope.hpp and autograd/fn/rope.hpp: norm preservation, relative-position property
// of dot products, position 0 is the identity, gradcheck in double.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/rope.hpp>

using namespace tlcr;

TEST_CASE("rope preserves each head vector's norm and is the identity at position 0") {
  Rng rng(300);
  Tensor<double> x = testing::random_normal<double>({2, 3, 4, 8}, rng);
  std::vector<int32_t> positions{0, 1, 2, 3, 0, 5, 9, 11};
  Tensor<double> out(x.shape());
  rope_forward(out, x, std::span<const int32_t>(positions));
  for (int64_t row = 0; row < 2 * 3 * 4; ++row) {
    const double before = x.matrix().row(row).norm(), after = out.matrix().row(row).norm();
    CHECK(after == doctest::Approx(before).epsilon(1e-12));
  }
  // batch 0, time 0 has position 0: unchanged in every head
  for (int64_t h = 0; h < 3; ++h)
    CHECK(testing::max_abs_diff(out.at(0).at(h).at(0), x.at(0).at(h).at(0)) < 1e-15);
}

TEST_CASE("rope makes q·k depend only on the position difference") {
  Rng rng(301);
  Tensor<double> q = testing::random_normal<double>({1, 1, 1, 16}, rng);
  Tensor<double> k = testing::random_normal<double>({1, 1, 1, 16}, rng);
  auto dot_at = [&](int32_t pq, int32_t pk) {
    Tensor<double> rq(q.shape()), rk(k.shape());
    std::vector<int32_t> a{pq}, b{pk};
    rope_forward(rq, q, std::span<const int32_t>(a));
    rope_forward(rk, k, std::span<const int32_t>(b));
    return rq.vector().dot(rk.vector());
  };
  CHECK(dot_at(7, 3) == doctest::Approx(dot_at(14, 10)).epsilon(1e-10));
  CHECK(dot_at(7, 3) != doctest::Approx(dot_at(7, 4)));
}

TEST_CASE("rope passes gradcheck; wrong position counts are reported") {
  Rng rng(302);
  auto x = parameter(testing::random_normal<double>({2, 2, 3, 6}, rng));
  std::vector<int32_t> positions{0, 1, 2, 4, 5, 6};
  TLCR_CHECK_GRADIENTS([&] { return rope(x, std::span<const int32_t>(positions)); }, {x});
  std::vector<int32_t> too_few{0, 1};
  CHECK_THROWS_WITH_AS(rope(x, std::span<const int32_t>(too_few)), doctest::Contains("expected 6 positions (B·T), got 2"), Error);
}
