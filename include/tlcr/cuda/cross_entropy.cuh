// tlcr/cuda/cross_entropy.cuh — ops/cross_entropy.hpp's losses on Tensor<T, Cuda>: cross-entropy
// with ignored rows and row weights, the chosen tokens' log-probabilities, soft-target
// cross-entropy (the discriminator's), and BCE with logits; forward and backward.
//
// As on the CPU, no softmax tensor is built: forward keeps one log-sum-exp per row and backward
// recomputes softmax(z)_v = exp(z_v − lse). One thread block per row, fixed-tree sums in double
// (cuda/softmax.cuh); the scalar loss and the total weight are summed by one thread in row order,
// on the device, so the loss never crosses to the host unless the caller asks. Targets and weights
// come as host spans (checked on the host, uploaded once) or as device tensors (checked by a
// kernel that finds the first bad row; one int crosses back).
// Results repeat bit for bit on the same GPU and agree with the CPU to a few roundings.
// Shape legend: N rows (product of leading sizes), V classes, K soft-target classes.
// Not here: the CPU kernels and the losses' definitions (ops/cross_entropy.hpp).
#pragma once

#include <climits>
#include <cmath>
#include <concepts>
#include <span>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/cuda/softmax.cuh"
#include "tlcr/ops/cross_entropy.hpp"

namespace tlcr {

namespace cuda::kernels {
// lse = log Σ_v exp(z_v), max-shifted, sum in double; returned to every thread of the block.
template <class T>
__device__ T row_log_sum_exp(const T* z, int64_t V, T* max_scratch, double* sum_scratch) {
  T m = T(-INFINITY);
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) m = fmax(m, z[v]);
  m = block_max(m, max_scratch);
  double partial = 0;
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) partial += double(::exp(z[v] - m));
  return m + T(::log(block_sum(partial, sum_scratch)));
}

// Per row: lse[i] and, unless ignored, value[i] = scale_i · (lse − z[t]) with scale_i = +w_i
// (cross-entropy's weighted NLL) or −1 (token log-probabilities: z[t] − lse). Ignored rows get 0.
template <class T>
__global__ void nll_rows_kernel(T* value, T* lse, const T* logits, const int32_t* targets,
                                const T* weights, bool log_prob, int32_t ignore_index, int64_t rows,
                                int64_t V) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    if (targets[i] == ignore_index) {  // the same branch for the whole block
      if (threadIdx.x == 0) value[i] = T(0), lse[i] = T(0);
      continue;
    }
    const T* z = logits + int64_t(i) * V;
    const T row_lse = row_log_sum_exp(z, V, max_scratch, sum_scratch);
    if (threadIdx.x == 0) {
      lse[i] = row_lse;
      value[i] = log_prob ? z[targets[i]] - row_lse
                          : (weights ? weights[i] : T(1)) * (row_lse - z[targets[i]]);
    }
  }
}

// total_weight = Σ w_i over the rows whose target is not ignored, one thread, in row order.
template <class T>
__global__ void total_weight_kernel(double* total_weight, const int32_t* targets, const T* weights,
                                    int32_t ignore_index, int64_t rows) {
  if (grid_index() != 0) return;
  double weight = 0;
  for (int64_t i = 0; i < rows; ++i)
    if (targets[i] != ignore_index) weight += double(weights ? weights[i] : T(1));
  *total_weight = weight;
}

// scalars = (Σ w_i over counted rows, loss = Σ_i nll_i / that total, or 0), one thread, in order.
template <class T>
__global__ void mean_loss_kernel(T* loss, double* total_weight, const T* weighted_nll,
                                 const int32_t* targets, const T* weights, int32_t ignore_index,
                                 int64_t rows) {
  if (grid_index() != 0) return;
  double weight = 0, total = 0;
  for (int64_t i = 0; i < rows; ++i) {
    if (targets[i] != ignore_index) weight += double(weights ? weights[i] : T(1));
    total += double(weighted_nll[i]);
  }
  *total_weight = weight;
  *loss = weight > 0 ? T(total / weight) : T(0);
}

// d z_i[v] += c_i · (softmax(z_i)[v] − [v = t_i]) for counted rows, with c_i = d_loss/W · w_i
// (cross-entropy) or −d_out_i (token log-probabilities).
template <class T>
__global__ void softmax_minus_onehot_kernel(T* d_logits, const T* logits, const T* lse,
                                            const int32_t* targets, const T* weights,
                                            const T* upstream, const double* total_weight,
                                            bool log_prob, int32_t ignore_index, int64_t rows,
                                            int64_t V) {
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    if (targets[i] == ignore_index) continue;
    T coefficient;
    if (log_prob) {
      coefficient = -upstream[i];
    } else {
      if (!(*total_weight > 0)) return;  // no row counts: the loss is the constant 0
      coefficient = T(double(upstream[0]) / *total_weight) * (weights ? weights[i] : T(1));
    }
    const T* z = logits + i * V;
    T* d = d_logits + i * V;
    for (int64_t v = threadIdx.x; v < V; v += blockDim.x)
      d[v] += coefficient * ::exp(z[v] - lse[i]);
    __syncthreads();  // every thread's += before the one-hot −=
    if (threadIdx.x == 0) d[targets[i]] -= coefficient;
  }
}

// out_i = w_i · Σ_k y_ik (lse_i − z_ik); rows with w_i = 0 give 0 and lse_i = 0.
template <class T>
__global__ void soft_ce_kernel(T* out, T* lse, const T* logits, const T* targets, const T* weights,
                               int64_t rows, int64_t K) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const T weight = weights ? weights[i] : T(1);
    if (weight == T(0)) {
      if (threadIdx.x == 0) out[i] = T(0), lse[i] = T(0);
      continue;
    }
    const T *z = logits + i * K, *y = targets + i * K;
    const T row_lse = row_log_sum_exp(z, K, max_scratch, sum_scratch);
    double partial = 0;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x)
      partial += double(y[k] * (row_lse - z[k]));
    const T loss = T(block_sum(partial, sum_scratch));
    if (threadIdx.x == 0) lse[i] = row_lse, out[i] = weight * loss;
  }
}

// d z_ik += d out_i · w_i · ((Σ_k y_ik) · softmax(z_i)_k − y_ik)
template <class T>
__global__ void soft_ce_backward_kernel(T* d_logits, const T* g, const T* logits, const T* lse,
                                        const T* targets, const T* weights, int64_t rows,
                                        int64_t K) {
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const T weight = weights ? weights[i] : T(1);
    if (weight == T(0)) continue;
    const T *z = logits + i * K, *y = targets + i * K;
    double partial = 0;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) partial += double(y[k]);
    const T target_mass = T(block_sum(partial, sum_scratch));
    const T upstream = g[i] * weight;
    T* d = d_logits + i * K;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x)
      d[k] += upstream * (target_mass * ::exp(z[k] - lse[i]) - y[k]);
  }
}

template <class T>
__global__ void bce_kernel(T* out, const T* x, const T* y, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    out[i] = fmax(x[i], T(0)) - x[i] * y[i] + ::log1p(::exp(-::fabs(x[i])));
}
template <class T>
__global__ void bce_backward_kernel(T* d_x, const T* g, const T* x, const T* y, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    d_x[i] += g[i] * (::tlcr::detail::stable_sigmoid(x[i]) - y[i]);
}

// first_bad = the least row with a target outside [0, V) that is not ignore_index.
template <class Index>
__global__ void find_bad_target_kernel(int* first_bad, const Index* targets, int64_t rows,
                                       int64_t V, Index ignore_index) {
  for (int64_t i = grid_index(); i < rows; i += grid_stride())
    if (targets[i] != ignore_index && (targets[i] < 0 || targets[i] >= V))
      atomicMin(first_bad, int(i));
}
}  // namespace cuda::kernels

namespace cuda {
template <class T>
Tensor<T, Cuda> upload_weights(std::span<const T> weights) {
  return weights.empty() ? Tensor<T, Cuda>()
                         : Tensor<T, Cuda>::from(Shape{int64_t(weights.size())}, weights);
}
template <class T>
const T* weights_or_null(const Tensor<T, Cuda>& weights) {
  return weights.defined() ? static_cast<const T*>(raw(weights)) : nullptr;
}

// The CPU's target check for targets already on the device (shapes first, then one kernel).
inline void check_device_targets(const char* op, const Shape& logits,
                                 const Tensor<int32_t, Cuda>& targets, int32_t ignore_index) {
  TLCR_CHECK(logits.rank >= 1 && logits.cols() > 0, op, ": expected logits (…, V) with V > 0, got ",
             logits.str());
  TLCR_CHECK(targets.numel() == logits.rows(), op, ": ", targets.numel(), " targets for logits ",
             logits.str(), " with ", logits.rows(), " rows");
  if (targets.numel() == 0) return;
  Tensor<int32_t, Cuda> first_bad = Tensor<int32_t, Cuda>::full(Shape{1}, INT_MAX);
  launch("target check", kernels::find_bad_target_kernel<int32_t>, targets.numel(),
         reinterpret_cast<int*>(raw(first_bad)), static_cast<const int32_t*>(raw(targets)),
         targets.numel(), logits.cols(), ignore_index);
  const int32_t row = first_bad.item();
  if (row == INT_MAX) return;
  const int32_t target = targets.reshape(Shape{targets.numel()}).slice(row, row + 1).item();
  ::tlcr::detail::fail(op, ": target ", target, " at row ", row, " is outside [0, ", logits.cols(),
                       ") and is not the ignore index ", ignore_index);
}

template <class T>
void cross_entropy_forward_checked(Tensor<T, Cuda>& loss, Tensor<T, Cuda>& logsumexp,
                                   const Tensor<T, Cuda>& logits,
                                   const Tensor<int32_t, Cuda>& targets,
                                   const Tensor<T, Cuda>& weights, int32_t ignore_index) {
  const char* op = "cross_entropy";
  TLCR_CHECK(loss.numel() == 1, op, ": loss must hold one element, got ", loss.shape().str());
  TLCR_CHECK(logsumexp.numel() == logits.shape().rows(), op,
             ": logsumexp must hold one value per row (", logits.shape().rows(), "), got ",
             logsumexp.shape().str());
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  Tensor<T, Cuda> weighted_nll(Shape{std::max<int64_t>(rows, 1)});
  Tensor<double, Cuda> total_weight(Shape{1});
  kernels::launch_rows("cross_entropy_forward", kernels::nll_rows_kernel<T>, rows,
                       raw(weighted_nll), raw(logsumexp), static_cast<const T*>(raw(logits)),
                       static_cast<const int32_t*>(raw(targets)), weights_or_null(weights), false,
                       ignore_index, rows, V);
  kernels::mean_loss_kernel<T><<<1, 1, 0, stream()>>>(raw(loss), raw(total_weight),
                                                      raw(weighted_nll), raw(targets),
                                                      weights_or_null(weights), ignore_index, rows);
  check_launch("cross_entropy_forward (mean)");
}

template <class T>
void cross_entropy_backward_checked(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_loss,
                                    const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                                    const Tensor<int32_t, Cuda>& targets,
                                    const Tensor<T, Cuda>& weights, int32_t ignore_index) {
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  // Σ w over counted rows, recomputed on the device as the CPU does.
  Tensor<double, Cuda> total_weight(Shape{1});
  kernels::total_weight_kernel<T><<<1, 1, 0, stream()>>>(
      raw(total_weight), raw(targets), weights_or_null(weights), ignore_index, rows);
  check_launch("cross_entropy_backward (total weight)");
  kernels::launch_rows("cross_entropy_backward", kernels::softmax_minus_onehot_kernel<T>, rows,
                       raw(d_logits), static_cast<const T*>(raw(logits)),
                       static_cast<const T*>(raw(logsumexp)),
                       static_cast<const int32_t*>(raw(targets)), weights_or_null(weights),
                       static_cast<const T*>(raw(d_loss)),
                       static_cast<const double*>(raw(total_weight)), false, ignore_index, rows, V);
}

template <class T>
void token_log_probs_forward_checked(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                                     const Tensor<T, Cuda>& logits,
                                     const Tensor<int32_t, Cuda>& targets, int32_t ignore_index) {
  const char* op = "token_log_probs";
  check_same_shape(op, out.shape(), ::tlcr::detail::row_shape(logits.shape()), "out",
                   "logits without V");
  TLCR_CHECK(logsumexp.numel() == out.numel(), op, ": logsumexp must hold one value per row (",
             out.numel(), "), got ", logsumexp.shape().str());
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  kernels::launch_rows("token_log_probs_forward", kernels::nll_rows_kernel<T>, rows, raw(out),
                       raw(logsumexp), static_cast<const T*>(raw(logits)),
                       static_cast<const int32_t*>(raw(targets)), static_cast<const T*>(nullptr),
                       true, ignore_index, rows, V);
}

template <class T>
void token_log_probs_backward_checked(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                                      const Tensor<T, Cuda>& logits,
                                      const Tensor<T, Cuda>& logsumexp,
                                      const Tensor<int32_t, Cuda>& targets, int32_t ignore_index) {
  const int64_t rows = logits.shape().rows(), V = logits.shape().cols();
  kernels::launch_rows("token_log_probs_backward", kernels::softmax_minus_onehot_kernel<T>, rows,
                       raw(d_logits), static_cast<const T*>(raw(logits)),
                       static_cast<const T*>(raw(logsumexp)),
                       static_cast<const int32_t*>(raw(targets)), static_cast<const T*>(nullptr),
                       static_cast<const T*>(raw(d_out)), static_cast<const double*>(nullptr), true,
                       ignore_index, rows, V);
}
}  // namespace cuda

// ---- targets and weights on the host: checked there, uploaded once -----------------------------

template <class T>
void cross_entropy_forward(Tensor<T, Cuda>& loss, Tensor<T, Cuda>& logsumexp,
                           const Tensor<T, Cuda>& logits, std::span<const int32_t> targets,
                           RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  ::tlcr::detail::check_targets("cross_entropy", logits.shape(), targets, ignore_index);
  ::tlcr::detail::check_row_weights("cross_entropy", logits.shape().rows(), weights);
  cuda::cross_entropy_forward_checked(
      loss, logsumexp, logits, Tensor<int32_t, Cuda>::from(Shape{int64_t(targets.size())}, targets),
      cuda::upload_weights<T>(weights), ignore_index);
}
template <class T>
void cross_entropy_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_loss,
                            const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                            std::span<const int32_t> targets, RowWeights<T> weights = {},
                            int32_t ignore_index = -100) {
  cuda::cross_entropy_backward_checked(
      d_logits, d_loss, logits, logsumexp,
      Tensor<int32_t, Cuda>::from(Shape{int64_t(targets.size())}, targets),
      cuda::upload_weights<T>(weights), ignore_index);
}
template <class T>
void token_log_probs_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                             const Tensor<T, Cuda>& logits, std::span<const int32_t> targets,
                             int32_t ignore_index = -100) {
  ::tlcr::detail::check_targets("token_log_probs", logits.shape(), targets, ignore_index);
  cuda::token_log_probs_forward_checked(
      out, logsumexp, logits, Tensor<int32_t, Cuda>::from(Shape{int64_t(targets.size())}, targets),
      ignore_index);
}
template <class T>
void token_log_probs_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                              const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                              std::span<const int32_t> targets, int32_t ignore_index = -100) {
  cuda::token_log_probs_backward_checked(
      d_logits, d_out, logits, logsumexp,
      Tensor<int32_t, Cuda>::from(Shape{int64_t(targets.size())}, targets), ignore_index);
}

// ---- targets on the device (weights, when given, on the host) ----------------------------------

template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t, Cuda>>
void cross_entropy_forward(Tensor<T, Cuda>& loss, Tensor<T, Cuda>& logsumexp,
                           const Tensor<T, Cuda>& logits, const Targets& targets,
                           RowWeights<T> weights = {}, int32_t ignore_index = -100) {
  cuda::check_device_targets("cross_entropy", logits.shape(), targets, ignore_index);
  ::tlcr::detail::check_row_weights("cross_entropy", logits.shape().rows(), weights);
  cuda::cross_entropy_forward_checked(loss, logsumexp, logits, targets,
                                      cuda::upload_weights<T>(weights), ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t, Cuda>>
void cross_entropy_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_loss,
                            const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                            const Targets& targets, RowWeights<T> weights = {},
                            int32_t ignore_index = -100) {
  cuda::cross_entropy_backward_checked(d_logits, d_loss, logits, logsumexp, targets,
                                       cuda::upload_weights<T>(weights), ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t, Cuda>>
void token_log_probs_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                             const Tensor<T, Cuda>& logits, const Targets& targets,
                             int32_t ignore_index = -100) {
  cuda::check_device_targets("token_log_probs", logits.shape(), targets, ignore_index);
  cuda::token_log_probs_forward_checked(out, logsumexp, logits, targets, ignore_index);
}
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t, Cuda>>
void token_log_probs_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                              const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                              const Targets& targets, int32_t ignore_index = -100) {
  cuda::token_log_probs_backward_checked(d_logits, d_out, logits, logsumexp, targets, ignore_index);
}

// ---- soft targets (the discriminator's), weights on the host or the device ---------------------

namespace cuda {
template <class T>
void soft_cross_entropy_forward_on(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                                   const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& targets,
                                   const Tensor<T, Cuda>& weights) {
  const char* op = "soft_cross_entropy";
  check_same_shape(op, logits.shape(), targets.shape(), "logits", "targets");
  TLCR_CHECK(logits.rank() >= 1 && logits.shape().cols() > 0, op,
             ": expected logits (…, K) with K > 0, got ", logits.shape().str());
  check_same_shape(op, out.shape(), ::tlcr::detail::row_shape(logits.shape()), "out",
                   "logits without K");
  TLCR_CHECK(logsumexp.numel() == out.numel(), op, ": logsumexp must hold one value per row (",
             out.numel(), "), got ", logsumexp.shape().str());
  TLCR_CHECK(!weights.defined() || weights.numel() == logits.shape().rows(), op, ": ",
             weights.numel(), " weights for ", logits.shape().rows(), " rows");
  const int64_t rows = logits.shape().rows(), K = logits.shape().cols();
  kernels::launch_rows("soft_cross_entropy_forward", kernels::soft_ce_kernel<T>, rows, raw(out),
                       raw(logsumexp), static_cast<const T*>(raw(logits)),
                       static_cast<const T*>(raw(targets)), weights_or_null(weights), rows, K);
}
template <class T>
void soft_cross_entropy_backward_on(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                                    const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                                    const Tensor<T, Cuda>& targets,
                                    const Tensor<T, Cuda>& weights) {
  const int64_t rows = logits.shape().rows(), K = logits.shape().cols();
  kernels::launch_rows("soft_cross_entropy_backward", kernels::soft_ce_backward_kernel<T>, rows,
                       raw(d_logits), static_cast<const T*>(raw(d_out)),
                       static_cast<const T*>(raw(logits)), static_cast<const T*>(raw(logsumexp)),
                       static_cast<const T*>(raw(targets)), weights_or_null(weights), rows, K);
}
}  // namespace cuda

template <class T>
void soft_cross_entropy_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                                const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& targets,
                                RowWeights<T> weights = {}) {
  ::tlcr::detail::check_row_weights("soft_cross_entropy", logits.shape().rows(), weights);
  cuda::soft_cross_entropy_forward_on(out, logsumexp, logits, targets,
                                      cuda::upload_weights<T>(weights));
}
template <class T>
void soft_cross_entropy_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                                 const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                                 const Tensor<T, Cuda>& targets, RowWeights<T> weights = {}) {
  cuda::soft_cross_entropy_backward_on(d_logits, d_out, logits, logsumexp, targets,
                                       cuda::upload_weights<T>(weights));
}
// Weights (N) in a device tensor (not checked for sign: they are the caller's own masks).
template <class T, class Weights>
requires std::same_as<Weights, Tensor<T, Cuda>>
void soft_cross_entropy_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& logsumexp,
                                const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& targets,
                                const Weights& weights) {
  cuda::soft_cross_entropy_forward_on(out, logsumexp, logits, targets, weights);
}
template <class T, class Weights>
requires std::same_as<Weights, Tensor<T, Cuda>>
void soft_cross_entropy_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                                 const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& logsumexp,
                                 const Tensor<T, Cuda>& targets, const Weights& weights) {
  cuda::soft_cross_entropy_backward_on(d_logits, d_out, logits, logsumexp, targets, weights);
}

// ---- bce_with_logits ---------------------------------------------------------------------------

template <class T>
void bce_with_logits_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& logits,
                             const Tensor<T, Cuda>& targets) {
  check_same_shape("bce_with_logits", logits.shape(), targets.shape(), "logits", "targets");
  check_same_shape("bce_with_logits", out.shape(), logits.shape(), "out", "logits");
  if (logits.numel() == 0) return;
  cuda::launch("bce_with_logits_forward", cuda::kernels::bce_kernel<T>, logits.numel(),
               cuda::raw(out), static_cast<const T*>(cuda::raw(logits)),
               static_cast<const T*>(cuda::raw(targets)), logits.numel());
}
template <class T>
void bce_with_logits_backward(Tensor<T, Cuda>& d_logits, const Tensor<T, Cuda>& d_out,
                              const Tensor<T, Cuda>& logits, const Tensor<T, Cuda>& targets) {
  if (logits.numel() == 0) return;
  cuda::launch("bce_with_logits_backward", cuda::kernels::bce_backward_kernel<T>, logits.numel(),
               cuda::raw(d_logits), static_cast<const T*>(cuda::raw(d_out)),
               static_cast<const T*>(cuda::raw(logits)), static_cast<const T*>(cuda::raw(targets)),
               logits.numel());
}

}  // namespace tlcr
