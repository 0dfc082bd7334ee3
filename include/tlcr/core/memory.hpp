// tlcr/core/memory.hpp — one process-wide setting for training loops: keep freed memory for reuse.
//
// Every training step allocates the same activation and gradient tensors and frees them again.
// glibc's malloc returns large blocks straight to the OS (mmap/munmap, heap trimming), so the next
// step touches fresh pages and pays a page fault per 4 KiB — measured at ~19% of a small GPT-2
// step. Raising the mmap and trim thresholds makes freed blocks stay in the heap for the next step.
// Cost: the process keeps its peak footprint instead of shrinking between steps.
// This is an application's choice, so the library never calls it; the `tlcr` command and the
// benchmarks do, at start-up.
// Not here: a tensor allocator (tensors use aligned operator new).
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tlcr {

// Returns true if the C library accepted the settings (glibc), false where there is nothing to set.
inline bool retain_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest allowed value on 64-bit
  constexpr int kTrimThreshold = 1 << 30;
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#else
  return false;
#endif
}

}  // namespace tlcr
