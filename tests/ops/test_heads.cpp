// Tests for ops/heads.hpp and autograd/fn/heads.hpp: the permutation is the documented one,
// merge inverts split, and both pass gradcheck.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/heads.hpp>

using namespace tlcr;

TEST_CASE("split_heads places x(b,t,p·C + h·D + d) at part p (b,h,t,d); merge inverts it") {
  Rng rng(400);
  const int64_t B = 2, T = 3, H = 2, D = 4, C = H * D;
  auto x = constant(testing::random_normal<float>({B, T, 3 * C}, rng));
  auto parts = split_heads(x, 3, H);
  REQUIRE(parts.size() == 3);
  for (int64_t p = 0; p < 3; ++p) {
    CHECK(parts[p].shape() == Shape{B, H, T, D});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < T; ++t)
          for (int64_t d = 0; d < D; ++d)
            CHECK(parts[p].value()[((b * H + h) * T + t) * D + d] ==
                  x.value()[(b * T + t) * 3 * C + p * C + h * D + d]);
  }
  auto single = constant(testing::random_normal<float>({B, T, C}, rng));
  auto merged = merge_heads(split_heads(single, 1, H)[0]);
  CHECK(testing::max_abs_diff(merged.value(), single.value()) == 0.0);
}

TEST_CASE("split_heads and merge_heads pass gradcheck") {
  Rng rng(401);
  auto x = parameter(testing::random_normal<double>({2, 3, 12}, rng));
  auto w = constant(testing::random_normal<double>({2, 2, 3, 2}, rng));
  // Use two of three parts, weighted differently, so a missing part gradient is exercised too.
  TLCR_CHECK_GRADIENTS([&] {
    auto p = split_heads(x, 3, 2);
    return add(mul(p[0], w), scale(p[2], 0.5));
  }, {x});
  auto y = parameter(testing::random_normal<double>({2, 2, 3, 2}, rng));
  TLCR_CHECK_GRADIENTS([&] { return merge_heads(y); }, {y});
  CHECK_THROWS_WITH_AS(split_heads(x, 5, 2), doctest::Contains("expected x (B,T,parts·H·D) with parts = 5"), Error);
}
