// tests/cuda/cuda_testing.cuh — helpers of the GPU tests: random host tensors, their device
// copies, and the largest difference between a device result and the CPU's.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

// Attention inputs: q (B,H,Tq,D), k and v (B,H,Tk,D) of normal values, with the KV-cache rows from
// offset + Tq on set to NaN (no kernel may read them); the key mask pads the first b + 1 keys of
// batch row b when `padding` (b = 0 with one key: a row that sees nothing), else it is empty.
template <class T>
struct AttentionInputs {
  Tensor<T> q, k, v;
  std::vector<uint8_t> key_mask;
};
template <class T>
AttentionInputs<T> attention_inputs(int64_t batch, int64_t heads, int64_t queries, int64_t keys,
                                    int64_t dim, int64_t offset, bool padding, Rng& rng) {
  AttentionInputs<T> in{random_normal<T>(Shape{batch, heads, queries, dim}, rng),
                        random_normal<T>(Shape{batch, heads, keys, dim}, rng),
                        random_normal<T>(Shape{batch, heads, keys, dim}, rng),
                        {}};
  for (int64_t pair = 0; pair < batch * heads; ++pair)
    for (int64_t t = offset + queries; t < keys; ++t)
      for (int64_t d = 0; d < dim; ++d)
        in.k[(pair * keys + t) * dim + d] = in.v[(pair * keys + t) * dim + d] = T(NAN);
  if (padding) {
    in.key_mask.assign(batch * keys, 1);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < std::min<int64_t>(b + 1, keys); ++t) in.key_mask[b * keys + t] = 0;
  }
  return in;
}

}  // namespace tlcr::cuda_testing
