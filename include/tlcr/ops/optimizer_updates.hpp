// tlcr/ops/optimizer_updates.hpp — the per-element update loops of the optimisers, and the sums
// that gradient clipping needs, as kernels over flat buffers.
//
// The optimisers (optim/) own the state and the hyper-parameters and say what the update means;
// these kernels are the loops they run, so that each device can supply its own
// (ops/host_kernels.hpp). Every element is independent, so each update gives the same bits for any
// thread count; sum_of_squares adds fixed blocks in block order for the same reason.
// Not here: the math's explanation (optim/adamw.hpp, optim/sgd.hpp, optim/clip.hpp).
// Shape legend: N = number of parameters; values, grads, m, v, velocity (N); decay_mask (N) of
// 0/1 bytes (1 = the element takes weight decay).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

// AdamW's step t, already folded into per-step constants (optim/adamw.hpp derives them).
template <class T>
struct AdamWCoefficients {
  T beta1, beta2, one_minus_beta1, one_minus_beta2;
  T step_size;                 // lr / (1 − β1^t)
  T inverse_sqrt_correction2;  // 1 / √(1 − β2^t)
  T eps;
  T decay_factor;  // 1 − lr·λ, applied to decayed elements
};

namespace detail {
constexpr int64_t kUpdateGrain = 1 << 15;
constexpr int64_t kAdamWBlock = 512;        // small enough that m and v stay in L1 for the update
constexpr int64_t kSquaresBlock = 1 << 14;  // elements per partial sum; fixed, unlike thread chunks
}  // namespace detail

// One element of adamw_update below, written once for every device: the CUDA kernel's body
// (cuda/optimizer_updates.cuh), and the same arithmetic the CPU loop vectorises (tested equal).
template <class T>
TLCR_HOST_DEVICE inline void adamw_element(T& value, T grad, bool decayed, T& m, T& v,
                                           const AdamWCoefficients<T>& c) {
  using std::sqrt;
  m = c.beta1 * m + c.one_minus_beta1 * grad;
  v = c.beta2 * v + c.one_minus_beta2 * grad * grad;
  const T keep = decayed ? c.decay_factor : T(1);
  value = value * keep - c.step_size * m / (sqrt(v) * c.inverse_sqrt_correction2 + c.eps);
}

// One element of sgd_update below (see there), for every device.
template <class T>
TLCR_HOST_DEVICE inline void sgd_element(T& value, T grad, bool decayed, T& velocity,
                                         T learning_rate, T momentum, T weight_decay,
                                         bool nesterov) {
  const T g = decayed ? grad + weight_decay * value : grad;
  velocity = momentum * velocity + g;
  const T direction = nesterov ? g + momentum * velocity : velocity;
  value -= learning_rate * direction;
}

// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p·keep − step_size·m / (√v·c2 + ε)
template <class T>
void adamw_update(Tensor<T>& values, const Tensor<T>& grads, const Tensor<uint8_t>& decay_mask,
                  Tensor<T>& m, Tensor<T>& v, const AdamWCoefficients<T>& c) {
  const int64_t n = values.numel();
  TLCR_CHECK(grads.numel() == n && decay_mask.numel() == n && m.numel() == n && v.numel() == n,
             "adamw_update: buffers of ", n, " values, ", grads.numel(), " grads, ",
             decay_mask.numel(), " mask bytes, ", m.numel(), " and ", v.numel(), " moments");
  T* value_data = values.data();
  const T* grad_data = grads.data();
  const uint8_t* decays = decay_mask.data();
  T* m_data = m.data();
  T* v_data = v.data();
  // Eigen array expressions, because they vectorise the square root: a plain loop calling
  // std::sqrt does not (the call may set errno, so GCC keeps it scalar).
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Mask = Eigen::Array<uint8_t, Eigen::Dynamic, 1>;
  parallel_for(0, n, detail::kUpdateGrain, [&](int64_t chunk_begin, int64_t chunk_end) {
    for (int64_t begin = chunk_begin; begin < chunk_end; begin += detail::kAdamWBlock) {
      const int64_t count = std::min(detail::kAdamWBlock, chunk_end - begin);
      Eigen::Map<Array> value(value_data + begin, count), first(m_data + begin, count),
          second(v_data + begin, count);
      const Eigen::Map<const Array> grad(grad_data + begin, count);
      const Eigen::Map<const Mask> decayed(decays + begin, count);
      first = c.beta1 * first + c.one_minus_beta1 * grad;
      second = c.beta2 * second + c.one_minus_beta2 * grad * grad;
      const auto keep =
          (decayed != 0).select(Array::Constant(count, c.decay_factor), Array::Ones(count));
      value =
          value * keep - c.step_size * first / (second.sqrt() * c.inverse_sqrt_correction2 + c.eps);
    }
  });
}

// SGD with momentum (see optim/sgd.hpp): g' = g + λ·p on decayed elements; u ← μ·u + g';
// p ← p − lr·(nesterov ? g' + μ·u : u).
template <class T>
void sgd_update(Tensor<T>& values, const Tensor<T>& grads, const Tensor<uint8_t>& decay_mask,
                Tensor<T>& velocity, T learning_rate, T momentum, T weight_decay, bool nesterov) {
  const int64_t n = values.numel();
  TLCR_CHECK(grads.numel() == n && decay_mask.numel() == n && velocity.numel() == n,
             "sgd_update: buffers of ", n, " values, ", grads.numel(), " grads, ",
             decay_mask.numel(), " mask bytes, ", velocity.numel(), " velocities");
  T* value_data = values.data();
  const T* grad_data = grads.data();
  const uint8_t* decays = decay_mask.data();
  T* velocity_data = velocity.data();
  parallel_for(0, n, detail::kUpdateGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      sgd_element(value_data[i], grad_data[i], decays[i] != 0, velocity_data[i], learning_rate,
                  momentum, weight_decay, nesterov);
  });
}

// out (rank 0, double) = Σ x_i², accumulated in double in a fixed order.
template <class T>
void sum_of_squares(Tensor<double>& out, const Tensor<T>& x) {
  TLCR_CHECK(out.numel() == 1, "sum_of_squares: expected a one-element output, got ",
             out.shape().str());
  const T* data = x.data();
  const int64_t n = x.numel();
  const int64_t blocks = (n + detail::kSquaresBlock - 1) / detail::kSquaresBlock;
  std::vector<double> block_sums(static_cast<std::size_t>(blocks), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t first_block, int64_t last_block) {
    for (int64_t block = first_block; block < last_block; ++block) {
      const int64_t begin = block * detail::kSquaresBlock;
      const int64_t end = std::min(n, begin + detail::kSquaresBlock);
      double sum = 0;
      for (int64_t i = begin; i < end; ++i) sum += static_cast<double>(data[i]) * data[i];
      block_sums[block] = sum;
    }
  });
  double total = 0;
  for (double sum : block_sums) total += sum;
  out.data()[0] = total;
}

// x ← factor · x, element by element.
template <class T>
void scale_in_place(Tensor<T>& x, T factor) {
  T* data = x.data();
  parallel_for(0, x.numel(), detail::kUpdateGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) data[i] *= factor;
  });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(adamw_update, sgd_update, sum_of_squares, scale_in_place)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_OPTIMIZER_UPDATES_INSTANCES(extern_, T)                                      \
  extern_ template void adamw_update<T>(Tensor<T>&, const Tensor<T>&, const Tensor<uint8_t>&, \
                                        Tensor<T>&, Tensor<T>&, const AdamWCoefficients<T>&); \
  extern_ template void sgd_update<T>(Tensor<T>&, const Tensor<T>&, const Tensor<uint8_t>&,   \
                                      Tensor<T>&, T, T, T, bool);                             \
  extern_ template void sum_of_squares<T>(Tensor<double>&, const Tensor<T>&);                 \
  extern_ template void scale_in_place<T>(Tensor<T>&, T);
TLCR_DECLARE_INSTANCES(TLCR_OPS_OPTIMIZER_UPDATES_INSTANCES)

}  // namespace tlcr
