// tests/cuda/cuda_testing.cuh — helpers of the GPU tests: random host tensors, their device
// copies, and the largest difference between a device result and the CPU's.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <tlcr/core/rng.hpp>
#include <tlcr/core/tensor.hpp>
#include <tlcr/cuda/memory.cuh>

namespace tlcr::cuda_testing {

template <class T>
Tensor<T> random_normal(const Shape& shape, Rng& rng, double stddev = 1.0) {
  Tensor<T> t(shape);
  for (T& v : t) v = static_cast<T>(rng.normal() * stddev);
  return t;
}

template <class T>
Tensor<T, Cuda> on_gpu(const Tensor<T>& host) {
  return to_device<Cuda>(host);
}

// max |device − host| / max(1, max |host|): the error relative to the values' scale.
template <class T>
double scaled_difference(const Tensor<T, Cuda>& device, const Tensor<T>& host) {
  REQUIRE(device.shape() == host.shape());
  const Tensor<T> back = device.to_host();
  double worst = 0, scale = 1;
  for (int64_t i = 0; i < host.numel(); ++i) {
    worst = std::max(worst, std::abs(double(back[i]) - double(host[i])));
    scale = std::max(scale, std::abs(double(host[i])));
  }
  return worst / scale;
}

// Bitwise equal, element by element.
template <class T>
bool same_bits(const Tensor<T, Cuda>& device, const Tensor<T>& host) {
  const Tensor<T> back = device.to_host();
  if (back.shape() != host.shape()) return false;
  return std::equal(back.begin(), back.end(), host.begin());
}

}  // namespace tlcr::cuda_testing
