// Tests for core/memory.hpp: glibc accepts the thresholds retain_freed_memory() sets (a value
// above glibc's 32 MiB mmap-threshold limit would be refused), memory still works after it, and
// blocks above that limit are reused by size through tlcr's large-block cache.
#include <tlcr/core/memory.hpp>
#include "support/testing.hpp"

#include <vector>

TEST_CASE("retain_freed_memory is accepted by the C library and allocation still works") {
#if defined(__SANITIZE_ADDRESS__)
  tlcr::retain_freed_memory();  // AddressSanitizer's allocator replaces glibc's: mallopt says no
#elif defined(__GLIBC__)
  CHECK(tlcr::retain_freed_memory());
#else
  CHECK_FALSE(tlcr::retain_freed_memory());
#endif
  // A block above the old default mmap threshold, freed and requested again: same contents rules.
  for (int round = 0; round < 2; ++round) {
    tlcr::Tensor<float> big({4 << 20});
    CHECK(big[0] == 0.0f);
    CHECK(big[(4 << 20) - 1] == 0.0f);  // fresh tensors are zeroed even when the block is reused
    big[0] = 1.0f, big[(4 << 20) - 1] = 2.0f;
  }
}

TEST_CASE("blocks above glibc's mmap ceiling are kept and handed back for the same size") {
  tlcr::retain_freed_memory();
  auto& cache = tlcr::detail::LargeBlockCache::instance();
  const int64_t count = (40 << 20) / int64_t(sizeof(float));  // 40 MiB, above the 32 MiB ceiling
  const std::size_t before = cache.cached_bytes();
  const float* first_block = nullptr;
  {
    tlcr::Tensor<float> big({count});
    first_block = big.data();
    big[count / 2] = 3.0f;
  }
  CHECK(cache.cached_bytes() == before + count * sizeof(float));
  {
    tlcr::Tensor<float> again({count});
    CHECK(again.data() == first_block);  // the same block, reused
    CHECK(cache.cached_bytes() == before);
    CHECK(again[count / 2] == 0.0f);          // and zeroed like any fresh tensor
    tlcr::Tensor<float> other({count + 16});  // another size never gets a cached block
    CHECK(other.data() != first_block);
  }
  CHECK(cache.cached_bytes() == before + (2 * count + 16) * sizeof(float));
  // Small tensors bypass the cache.
  { tlcr::Tensor<float> small({1024}); }
  CHECK(cache.cached_bytes() == before + (2 * count + 16) * sizeof(float));
}
