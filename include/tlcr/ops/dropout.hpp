// tlcr/ops/dropout.hpp — inverted dropout: zero each element with probability p, scale the kept
// ones by 1/(1−p) so the expected value is unchanged.
//
// The random part is a mask tensor of the input's shape holding 0 (dropped) or 1/(1−p) (kept):
// forward is out = x ⊙ mask and backward is d x += d out ⊙ mask. Element i is dropped when
// counter_uniform(seed, i) < p (core/rng.hpp): a pure function of the seed and the flat
// (row-major) index, so the mask is the same whatever the thread count or the order the elements
// are drawn in, and a kernel on another device draws the same one.
// Not here: where a model applies dropout and which seed each site gets (nn/dropout.hpp); dropout
// on attention probabilities, drawn inside the fused kernel (ops/attention.hpp).
// Shape legend: mask, x, out, d_x, d_out all share one shape.
#pragma once

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/rng.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

inline void check_dropout_probability(double p) {
  TLCR_CHECK(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got ", p);
}

// Whether element `index` of the mask drawn from `seed` is dropped at probability p.
TLCR_HOST_DEVICE inline bool dropout_drops(uint64_t seed, uint64_t index, double p) {
  return counter_uniform(seed, index) < p;
}

// mask[i] = 0 if dropout_drops(seed, i, p), else 1/(1−p). p = 1 drops everything.
template <class T>
void dropout_mask(Tensor<T>& mask, double p, uint64_t seed) {
  check_dropout_probability(p);
  const T kept = p < 1 ? T(1.0 / (1.0 - p)) : T(0);
  T* data = mask.data();
  parallel_for(0, mask.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      data[i] = dropout_drops(seed, uint64_t(i), p) ? T(0) : kept;
  });
}

// out = x ⊙ mask
template <class T>
void dropout_forward(Tensor<T>& out, const Tensor<T>& x, const Tensor<T>& mask) {
  check_same_shape("dropout", x.shape(), mask.shape(), "x", "mask");
  check_same_shape("dropout", out.shape(), x.shape(), "out", "x");
  out.vector() = x.vector().cwiseProduct(mask.vector());
}

// forward: out = x ⊙ mask → d x += d out ⊙ mask
template <class T>
void dropout_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<T>& mask) {
  d_x.vector() += d_out.vector().cwiseProduct(mask.vector());
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(dropout_mask, dropout_forward, dropout_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_DROPOUT_INSTANCES(extern_, T)                                              \
  extern_ template void dropout_mask<T>(Tensor<T>&, double, uint64_t);                      \
  extern_ template void dropout_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
  extern_ template void dropout_backward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_DROPOUT_INSTANCES)

}  // namespace tlcr
