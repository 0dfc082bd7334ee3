// tlcr/core/memory.hpp — one process-wide setting for training loops: keep freed memory for reuse;
// and where tensor storage comes from.
//
// Every training step allocates the same activation and gradient tensors and frees them again.
// glibc's malloc returns large blocks straight to the OS (mmap/munmap, heap trimming), so the next
// step touches fresh pages and pays a page fault per 4 KiB — measured at ~19% of a small GPT-2
// step. Raising the mmap and trim thresholds makes freed blocks stay in the heap for the next step.
// glibc will not raise its mmap threshold past 32 MiB, so blocks that large (a medium GPT's MLP
// activations and attention probabilities) are kept by tlcr instead: a cache of freed blocks,
// handed out again to requests of exactly the same size. Cost: the process keeps its peak footprint
// instead of shrinking between steps. This is an application's choice, so the library never calls
// it; the `tlcr` command and the benchmarks do, at start-up. Not here: a general allocator (smaller
// tensors use aligned operator new directly).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tlcr {

namespace detail {
// Freed blocks of at least kMinBytes, kept by size for the next request of that size, up to
// kLimitBytes in all (a released block past the limit is freed). Off until enabled. Never
// destroyed, so tensors that outlive static destruction can still release into it.
class LargeBlockCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t(32) << 20;  // glibc's mmap ceiling
  static constexpr std::size_t kLimitBytes = std::size_t(4) << 30;
  static constexpr std::align_val_t kAlignment{64};

  static LargeBlockCache& instance() {
    static LargeBlockCache* cache = new LargeBlockCache;
    return *cache;
  }

  void enable() {
    std::lock_guard lock(mutex_);
    enabled_ = true;
  }

  // A block of `bytes`, 64-byte aligned: a cached one of the same size if there is one.
  void* allocate(std::size_t bytes) {
    if (bytes >= kMinBytes) {
      std::lock_guard lock(mutex_);
      if (auto found = free_blocks_.find(bytes); found != free_blocks_.end()) {
        void* block = found->second;
        free_blocks_.erase(found);
        cached_bytes_ -= bytes;
        return block;
      }
    }
    return ::operator new(bytes, kAlignment);
  }

  // Takes back a block from allocate(bytes): kept when enabled and large, freed otherwise.
  void release(void* block, std::size_t bytes) {
    if (bytes >= kMinBytes) {
      std::lock_guard lock(mutex_);
      if (enabled_ && cached_bytes_ + bytes <= kLimitBytes) {
        free_blocks_.emplace(bytes, block);
        cached_bytes_ += bytes;
        return;
      }
    }
    ::operator delete(block, kAlignment);
  }

  std::size_t cached_bytes() {
    std::lock_guard lock(mutex_);
    return cached_bytes_;
  }

 private:
  std::mutex mutex_;
  bool enabled_ = false;
  std::multimap<std::size_t, void*> free_blocks_;
  std::size_t cached_bytes_ = 0;
};
}  // namespace detail

// Returns true if the C library accepted the settings (glibc), false where there is nothing to set.
inline bool retain_freed_memory() {
  detail::LargeBlockCache::instance().enable();
#if defined(__GLIBC__)
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest allowed value on 64-bit
  constexpr int kTrimThreshold = 1 << 30;
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
         mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#else
  return false;
#endif
}

}  // namespace tlcr
