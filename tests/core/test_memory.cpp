// Tests for core/memory.hpp: glibc accepts the thresholds retain_freed_memory() sets (a value
// above glibc's 32 MiB mmap-threshold limit would be refused), and memory still works after it.
#include "support/testing.hpp"
#include <tlcr/core/memory.hpp>

#include <vector>

TEST_CASE("retain_freed_memory is accepted by the C library and allocation still works") {
#if defined(__GLIBC__)
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
