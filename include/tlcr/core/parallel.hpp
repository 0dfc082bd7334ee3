// tlcr/core/parallel.hpp — OpenMP helpers: thread-count control and a static parallel-for.
//
// parallel_for splits [begin, end) into fixed chunks of at least `grain` items and hands each chunk
// to one thread with a static schedule, so the same thread count always gives the same work split
// (deterministic reductions stay deterministic). Nested calls run serially: one OpenMP owner at a
// time. Without OpenMP everything runs on the calling thread.
// Not here: reductions across threads (callers reduce per-chunk results in chunk order).
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(TLCR_WITH_OPENMP) || defined(_OPENMP)
#include <omp.h>
#endif

#include "tlcr/config.hpp"

namespace tlcr {

// Threads a parallel region will use (1 without OpenMP).
inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Sets the thread count for later parallel regions (also Eigen's GEMM, which uses OpenMP).
inline void set_num_threads(int threads) {
  TLCR_CHECK(threads >= 1, "set_num_threads: expected at least 1 thread, got ", threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
}

inline bool in_parallel_region() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

// Calls body(chunk_begin, chunk_end) over [begin, end) in chunks of ≥ grain items, in parallel.
template <class Body>
void parallel_for(int64_t begin, int64_t end, int64_t grain, Body&& body) {
  const int64_t count = end - begin;
  if (count <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_chunks = (count + grain - 1) / grain;
  const int64_t chunks = std::min<int64_t>(max_chunks, num_threads());
  if (chunks <= 1 || in_parallel_region()) {
    body(begin, end);
    return;
  }
  const int64_t chunk_size = (count + chunks - 1) / chunks;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(static_cast<int>(chunks))
#endif
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t chunk_begin = begin + chunk * chunk_size;
    const int64_t chunk_end = std::min(end, chunk_begin + chunk_size);
    if (chunk_begin < chunk_end) body(chunk_begin, chunk_end);
  }
}

// RAII: sets the thread count and restores the previous one on scope exit.
class ThreadCountGuard {
 public:
  explicit ThreadCountGuard(int threads) : previous_(num_threads()) { set_num_threads(threads); }
  ~ThreadCountGuard() { set_num_threads(previous_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int previous_;
};

}  // namespace tlcr
