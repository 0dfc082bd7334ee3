// Tests for nn/kv_cache.hpp: appended steps land at [length, length + n) of every (b, h) row,
// the length advances only when told, and overflowing the capacity is an error.
#include "support/testing.hpp"

#include <tlcr/nn/kv_cache.hpp>

using namespace tlcr;

TEST_CASE("KvCache stores appended keys and values per (batch, head) at the current length") {
  Rng rng(10);
  KvCache<float> cache(/*layers*/ 2, /*batch*/ 2, /*heads*/ 3, /*capacity*/ 5, /*head size*/ 4);
  const Tensor<float> k1 = testing::random_normal<float>({2, 3, 2, 4}, rng), v1 = testing::random_normal<float>({2, 3, 2, 4}, rng);
  cache.append(1, k1, v1);
  CHECK(cache.length() == 0);
  cache.advance(2);
  const Tensor<float> k2 = testing::random_normal<float>({2, 3, 1, 4}, rng), v2 = testing::random_normal<float>({2, 3, 1, 4}, rng);
  cache.append(1, k2, v2);
  cache.advance(1);
  CHECK(cache.length() == 3);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h) {
      const Tensor<float> keys = cache.keys(1).at(b).at(h), values = cache.values(1).at(b).at(h);
      CHECK(testing::max_abs_diff(keys.slice(0, 2), k1.at(b).at(h)) == 0.0);
      CHECK(testing::max_abs_diff(keys.slice(2, 3), k2.at(b).at(h)) == 0.0);
      CHECK(testing::max_abs_diff(values.slice(2, 3), v2.at(b).at(h)) == 0.0);
    }
  CHECK(cache.keys(0).vector().squaredNorm() == 0.0f);  // layer 0 untouched
  const Tensor<float> too_many({2, 3, 3, 4});
  CHECK_THROWS_WITH_AS(cache.append(0, too_many, too_many), doctest::Contains("3 + 3 time steps exceed the capacity 5"), Error);
  cache.reset();
  CHECK(cache.length() == 0);
}
