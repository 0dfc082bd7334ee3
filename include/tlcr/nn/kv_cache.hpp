// tlcr/nn/kv_cache.hpp — the keys and values a decoder has already computed, per layer.
//
// During generation each new token attends to every earlier one; caching their keys and values
// turns each step from O(T) projections into one. Storage is (B, H, capacity, D) per layer; the
// first `length` time steps are filled. append() writes new steps; keys()/values() hand the whole
// storage to the attention kernel, with a key mask of B·capacity entries.
// Not here: the attention math, the sampling loop (generate/generate.hpp).
// Shape legend: B = batch, H = heads, D = head size.
#pragma once

#include <algorithm>
#include <vector>

#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/shape_ops.hpp"

namespace tlcr {

template <class T, class D = Cpu>
class KvCache {
 public:
  KvCache(int64_t layers, int64_t batch, int64_t heads, int64_t capacity, int64_t head_size)
      : batch_(batch), heads_(heads), capacity_(capacity), head_size_(head_size) {
    for (int64_t l = 0; l < layers; ++l) {
      keys_.emplace_back(Shape{batch, heads, capacity, head_size});
      values_.emplace_back(Shape{batch, heads, capacity, head_size});
    }
  }

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  int64_t layers() const { return static_cast<int64_t>(keys_.size()); }

  // Stores k, v (B, H, n, D) of `layer` at time steps [length, length + n). The length advances
  // once per forward pass, by advance(n), after every layer has appended.
  void append(int64_t layer, const Tensor<T, D>& k, const Tensor<T, D>& v) {
    const int64_t n = k.dim(2);
    TLCR_CHECK(length_ + n <= capacity_, "KvCache: ", length_, " + ", n,
               " time steps exceed the capacity ", capacity_);
    check_same_shape("KvCache::append", k.shape(), Shape{batch_, heads_, n, head_size_}, "k",
                     "(B,H,n,D)");
    write_time_steps(keys_[layer], k, length_);
    write_time_steps(values_[layer], v, length_);
  }
  void advance(int64_t n) { length_ += n; }

  // The whole storage of `layer`, (B, H, capacity, D): the attention kernel reads only the steps a
  // query can see (≤ offset + t), so the unfilled tail is never touched and nothing is copied.
  const Tensor<T, D>& keys(int64_t layer) const { return keys_[layer]; }
  const Tensor<T, D>& values(int64_t layer) const { return values_[layer]; }

  void reset() { length_ = 0; }

 private:
  int64_t batch_, heads_, capacity_, head_size_;
  int64_t length_ = 0;
  std::vector<Tensor<T, D>> keys_, values_;
};

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_NN_KV_CACHE_INSTANCES(extern_, T) extern_ template class KvCache<T, Cpu>;
TLCR_DECLARE_INSTANCES(TLCR_NN_KV_CACHE_INSTANCES)

}  // namespace tlcr
