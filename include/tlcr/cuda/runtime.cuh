// tlcr/cuda/runtime.cuh — the CUDA runtime as tlcr uses it: error checks, whether a GPU is
// present, the one stream every tlcr kernel, copy and allocation is ordered on, and launch sizes.
//
// Every call into CUDA goes through TLCR_CUDA_CHECK, which throws tlcr::Error naming the call, the
// file and line, and CUDA's own message. All work runs on one non-blocking stream per process
// (stream()), so its order is the program's order and results do not depend on timing.
// Not here: memory (cuda/memory.cuh), kernels (cuda/<family>.cuh).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "tlcr/config.hpp"

namespace tlcr::cuda {

namespace detail {
inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    ::tlcr::detail::fail("CUDA: ", call, " failed at ", file, ":", line, ": ",
                         cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
}
}  // namespace detail

#define TLCR_CUDA_CHECK(call) ::tlcr::cuda::detail::check((call), #call, __FILE__, __LINE__)

// GPUs this process can use; 0 without a GPU or a driver (never an error: CPU-only machines
// build and run everything else).
inline int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" status
    return 0;
  }
  return count;
}
inline bool gpu_available() {
  return device_count() > 0;
}

// The stream of all tlcr work on the current GPU, created on first use.
inline cudaStream_t stream() {
  static const cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    TLCR_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

// Waits until everything queued on stream() has finished, and reports a kernel's failure.
inline void synchronize() {
  TLCR_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

// Reports a launch that failed to start (bad configuration); faults inside a kernel surface at the
// next synchronize().
inline void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    ::tlcr::detail::fail("CUDA: launching ", kernel, " failed: ", cudaGetErrorName(status), " (",
                         cudaGetErrorString(status), ")");
}

constexpr int kThreadsPerBlock = 256;

// Blocks of kThreadsPerBlock threads for a grid-stride loop over n items: enough to fill the chip,
// capped, since every thread loops over its share anyway.
inline unsigned blocks_for(int64_t n) {
  constexpr int64_t kMaxBlocks = 8192;
  return static_cast<unsigned>(
      std::clamp<int64_t>((n + kThreadsPerBlock - 1) / kThreadsPerBlock, 1, kMaxBlocks));
}

// Launches kernel(args…) on stream() over `items` grid-stride items and reports a failed launch.
template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), int64_t items, Args&&... args) {
  kernel<<<blocks_for(items), kThreadsPerBlock, 0, stream()>>>(std::forward<Args>(args)...);
  check_launch(name);
}

// The grid-stride loop's first index and stride for the calling thread.
__device__ inline int64_t grid_index() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_stride() {
  return int64_t(gridDim.x) * blockDim.x;
}

}  // namespace tlcr::cuda
