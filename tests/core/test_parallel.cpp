// Tests for core/parallel.hpp: every index visited exactly once, chunking honours the grain,
// thread-count control and its RAII guard.
#include "support/testing.hpp"

#include <atomic>
#include <vector>

using namespace tlcr;

TEST_CASE("parallel_for visits each index once for many sizes and grains") {
  for (int64_t n : {0, 1, 7, 100, 1000, 12345}) {
    for (int64_t grain : {1, 16, 5000}) {
      std::vector<std::atomic<int>> visits(n);
      std::atomic<int> chunks{0};
      parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
        ++chunks;
        CHECK(b < e);
        for (int64_t i = b; i < e; ++i) ++visits[i];
      });
      for (auto& v : visits) CHECK(v.load() == 1);
      if (n > 0) CHECK(chunks.load() <= std::max<int64_t>(1, (n + grain - 1) / grain));
    }
  }
}

TEST_CASE("ThreadCountGuard sets and restores the thread count") {
  const int before = num_threads();
  {
    ThreadCountGuard guard(1);
    CHECK(num_threads() == 1);
    int calls = 0;
    parallel_for(0, 100, 1, [&](int64_t, int64_t) { ++calls; });
    CHECK(calls == 1);  // one thread: one chunk
  }
  CHECK(num_threads() == before);
  CHECK_THROWS_AS(set_num_threads(0), Error);
}
