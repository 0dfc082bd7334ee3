// tlcr/cuda/memory.cuh — DeviceMemory<Cuda>: GPU memory from CUDA's stream-ordered pool, zeroing,
// filling and copies for Tensor<T, Cuda>.
//
// Allocation is cudaMallocAsync on the tlcr stream from the device's default memory pool, whose
// release threshold is raised to "never": freed blocks stay in the pool and serve the next
// allocation of the step, so a training step in its steady state asks the driver for no memory.
// Copies use unified addressing (cudaMemcpyDefault); a copy with the host on either side waits for
// the stream, so the host may read (or reuse) its buffer as soon as copy() returns.
// Not here: the transfer counters (core/device.hpp; Tensor counts its named crossing points).
#pragma once

#include <cstdint>
#include <limits>
#include <new>

#include "tlcr/core/device.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/runtime.cuh"

namespace tlcr {

namespace cuda::detail {
inline cudaMemPool_t default_pool() {
  int device = 0;
  TLCR_CUDA_CHECK(cudaGetDevice(&device));
  cudaMemPool_t pool = nullptr;
  TLCR_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  return pool;
}

// The current device's default pool, set once to keep what is freed.
inline void keep_freed_memory_in_pool() {
  static const bool done = [] {
    cudaMemPool_t pool = default_pool();
    uint64_t threshold = std::numeric_limits<uint64_t>::max();
    TLCR_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
    return true;
  }();
  (void)done;
}

inline bool on_host(const void* pointer) {
  cudaPointerAttributes attributes{};
  TLCR_CUDA_CHECK(cudaPointerGetAttributes(&attributes, pointer));
  return attributes.type == cudaMemoryTypeHost || attributes.type == cudaMemoryTypeUnregistered;
}

template <class T>
__global__ void fill_kernel(T* data, int64_t count, T value) {
  for (int64_t i = grid_index(); i < count; i += grid_stride()) data[i] = value;
}
}  // namespace cuda::detail

namespace cuda {
// The most bytes tensors held at once since the last reset_peak_memory() (the pool's high-water
// mark of memory in use: what PyTorch calls max_memory_allocated), and its reset.
inline uint64_t peak_memory_bytes() {
  uint64_t bytes = 0;
  TLCR_CUDA_CHECK(
      cudaMemPoolGetAttribute(detail::default_pool(), cudaMemPoolAttrUsedMemHigh, &bytes));
  return bytes;
}
inline void reset_peak_memory() {
  uint64_t zero = 0;
  TLCR_CUDA_CHECK(
      cudaMemPoolSetAttribute(detail::default_pool(), cudaMemPoolAttrUsedMemHigh, &zero));
}

// A device tensor's first element, for a kernel launch.
template <class T>
T* raw(const Tensor<T, Cuda>& t) {
  return ::tlcr::detail::TensorAccess::device_data(t);
}
}  // namespace cuda

template <>
struct DeviceMemory<Cuda> {
  static void* allocate(std::size_t bytes) {
    cuda::detail::keep_freed_memory_in_pool();
    void* block = nullptr;
    const cudaError_t status = cudaMallocAsync(&block, bytes, cuda::stream());
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      throw std::bad_alloc();  // Tensor names the shape and the device
    }
    TLCR_CUDA_CHECK(status);
    return block;
  }
  // Called by a tensor's last owner (a destructor): a failure here cannot be thrown, and a broken
  // context reports itself at the next checked call.
  static void release(void* block, std::size_t) { (void)cudaFreeAsync(block, cuda::stream()); }
  static void zero(void* block, std::size_t bytes) {
    TLCR_CUDA_CHECK(cudaMemsetAsync(block, 0, bytes, cuda::stream()));
  }
  template <class T>
  static void fill(T* data, int64_t count, T value) {
    if (count == 0) return;
    cuda::launch("fill", cuda::detail::fill_kernel<T>, count, data, count, value);
  }
  // Within the device, or between it and the host (the caller counts host crossings).
  static void copy(void* destination, const void* source, std::size_t bytes) {
    if (bytes == 0) return;
    TLCR_CUDA_CHECK(cudaMemcpyAsync(destination, source, bytes, cudaMemcpyDefault, cuda::stream()));
    if (cuda::detail::on_host(destination) || cuda::detail::on_host(source)) cuda::synchronize();
  }
};

}  // namespace tlcr
