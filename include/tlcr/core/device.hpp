// tlcr/core/device.hpp — device tags, where each device's memory comes from, and the counter of
// host↔device transfers.
//
// A device is a type, passed as the second template parameter of Tensor, Var, modules, models,
// optimisers and trainers; Cpu is the default everywhere, so Tensor<float> is Tensor<float, Cpu>.
//   Cpu        host memory; tensors expose their elements (data(), operator[], Eigen maps).
//   SealedCpu  host memory and the CPU kernels, but generic code cannot reach an element: Tensor's
//              element access does not compile for it, and values cross only through the named
//              transfer points (Tensor::to_host, to_vector, from, to_device), each counted. It is
//              how the library proves, without a GPU, that its device-generic code never reads a
//              device tensor on the host: the whole pipeline runs on it and must give bitwise the
//              Cpu results.
//   Cuda       an NVIDIA GPU's memory; its memory and kernels live in include/tlcr/cuda/ (*.cuh,
//              compiled only as CUDA: TLCR_WITH_CUDA, the tlcr::cuda target). The tag itself is
//              plain C++, so that any unit can name the device.
// DeviceMemory<D> allocates, zeroes, fills and copies a device's memory; each device specialises it.
// Not here: kernels (ops/ holds the CPU ones; ops/host_kernels.hpp lets SealedCpu reuse them).
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstring>

#include "tlcr/core/memory.hpp"
#include "tlcr/core/parallel.hpp"

namespace tlcr {

struct Cpu {
  static constexpr const char* name = "cpu";
};
struct SealedCpu {
  static constexpr const char* name = "sealed-cpu";
};
struct Cuda {
  static constexpr const char* name = "cuda";
};

// Devices whose tensors generic code may read element by element.
template <class D>
concept HostAccessible = std::same_as<D, Cpu>;
// Devices whose memory is host memory (the CPU kernels can run on it).
template <class D>
concept HostMemory = std::same_as<D, Cpu> || std::same_as<D, SealedCpu>;

// Transfers between the host and device D since the last reset: calls and bytes in each direction.
// Cpu never counts (its tensors are the host's); the counters are what tests bound.
struct TransferCounts {
  int64_t to_device = 0, to_host = 0;
  int64_t bytes_to_device = 0, bytes_to_host = 0;
  int64_t total() const { return to_device + to_host; }
};

namespace detail {
template <class D>
struct TransferCounter {
  static inline std::atomic<int64_t> to_device{0}, to_host{0}, bytes_to_device{0}, bytes_to_host{0};
};
}  // namespace detail

template <class D>
TransferCounts transfer_counts() {
  using C = detail::TransferCounter<D>;
  return {C::to_device.load(), C::to_host.load(), C::bytes_to_device.load(),
          C::bytes_to_host.load()};
}
template <class D>
void reset_transfer_counts() {
  using C = detail::TransferCounter<D>;
  C::to_device = 0, C::to_host = 0, C::bytes_to_device = 0, C::bytes_to_host = 0;
}

namespace detail {
// Called by every named crossing point; free on Cpu.
template <class D>
void count_transfer_to_device(int64_t bytes) {
  if constexpr (!std::same_as<D, Cpu>) {
    ++TransferCounter<D>::to_device;
    TransferCounter<D>::bytes_to_device += bytes;
  }
}
template <class D>
void count_transfer_to_host(int64_t bytes) {
  if constexpr (!std::same_as<D, Cpu>) {
    ++TransferCounter<D>::to_host;
    TransferCounter<D>::bytes_to_host += bytes;
  }
}
}  // namespace detail

// Memory of device D. The host-memory devices share the host allocator (core/memory.hpp's block
// cache); any other device specialises this for its own memory.
template <class D>
struct DeviceMemory;

template <HostMemory D>
struct DeviceMemory<D> {
  static void* allocate(std::size_t bytes) {
    return detail::LargeBlockCache::instance().allocate(bytes);
  }
  static void release(void* block, std::size_t bytes) {
    detail::LargeBlockCache::instance().release(block, bytes);
  }
  // Zeroing a large block is a memory-bound pass; two threads move more bytes than one.
  static void zero(void* block, std::size_t bytes) {
    constexpr int64_t kZeroChunk = int64_t(1) << 20;  // bytes per thread at least
    char* base = static_cast<char*>(block);
    parallel_for(0, std::max<int64_t>(int64_t(bytes), 1), kZeroChunk,
                 [&](int64_t begin, int64_t end) {
                   std::memset(base + begin, 0, std::min<int64_t>(end, bytes) - begin);
                 });
  }
  template <class T>
  static void fill(T* data, int64_t count, T value) {
    std::fill(data, data + count, value);
  }
  // Within one device, or between it and the host (the caller counts host crossings).
  static void copy(void* destination, const void* source, std::size_t bytes) {
    if (bytes) std::memcpy(destination, source, bytes);
  }
};

}  // namespace tlcr
