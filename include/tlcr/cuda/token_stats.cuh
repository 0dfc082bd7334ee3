// tlcr/cuda/token_stats.cuh — ops/token_stats.hpp's kernels on Tensor<T, Cuda>: the per-token and
// per-batch statistics RLHF reads from the models' outputs, reduced on the device so that only
// their small results cross to the host.
//
//   positive_probabilities, token_kl_stats, rollout_token_stats, policy_ratio_stats,
//   count_greater, first_non_finite, pack_as_double — the CPU's contracts and shapes.
// Per-row statistics (the full KL and the entropy over a vocabulary row) use one thread block per
// row with fixed-tree sums in double; the batch sums use one thread, in index order; the first
// non-finite index is a minimum (atomicMin: the same whatever the order). Every result repeats bit
// for bit on the same GPU. CUDA's double exp/log are within an ulp of the C library's and the
// block sums add in another order than the CPU's loop, so the GPU agrees with the CPU to about
// 1e-12 relative, not bit for bit (the CPU's SealedCpu path stays bitwise).
// Shape legend: N = response tokens, V = vocabulary, M = positions.
// Not here: what the numbers mean (rlhf/ppo/).
#pragma once

#include <climits>
#include <cmath>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/cuda/softmax.cuh"
#include "tlcr/ops/token_stats.hpp"

namespace tlcr {

namespace cuda::kernels {
template <class T>
__global__ void positive_probabilities_kernel(float* p, const T* z, int64_t positions) {
  for (int64_t at = grid_index(); at < positions; at += grid_stride())
    p[at] = static_cast<float>(1.0 / (1.0 + ::exp(double(z[at * 2]) - double(z[at * 2 + 1]))));
}

// log Σ_v exp(z_v) of one row, in double (max-shifted), by the whole block.
template <class T>
__device__ double log_normaliser(const T* z, int64_t V, double* scratch) {
  double m = -INFINITY;
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) m = fmax(m, double(z[v]));
  m = block_max(m, scratch);
  double partial = 0;
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) partial += ::exp(double(z[v]) - m);
  return m + ::log(block_sum(partial, scratch));
}

// Row i of out (N, width): full KL at kl_column, entropy at entropy_column; with `extra`, columns
// 0..2 are logprobs[i], ref_logprobs[i], values[i] (rollout_token_stats).
template <class T>
__global__ void kl_entropy_kernel(double* out, int64_t width, int kl_column, int entropy_column,
                                  const T* logits, const T* ref_logits, const T* logprobs,
                                  const T* ref_logprobs, const T* values, int64_t N, int64_t V) {
  __shared__ double scratch[kThreadsPerBlock];
  for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const T *z = logits + i * V, *z_ref = ref_logits + i * V;
    const double log_z = log_normaliser(z, V, scratch);
    const double log_z_ref = log_normaliser(z_ref, V, scratch);
    double kl = 0, entropy = 0;
    for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
      const double logp = double(z[v]) - log_z, ref_logp = double(z_ref[v]) - log_z_ref;
      const double p = ::exp(logp);
      kl += p * (logp - ref_logp);
      entropy -= p * logp;
    }
    kl = block_sum(kl, scratch);
    entropy = block_sum(entropy, scratch);
    if (threadIdx.x == 0) {
      double* row = out + i * width;
      row[kl_column] = kl;
      row[entropy_column] = entropy;
      if (logprobs) row[0] = logprobs[i], row[1] = ref_logprobs[i], row[2] = values[i];
    }
  }
}

// out = (#(clipped > unclipped), Σ log_ratio², Σ ratio, Σ ratio²), one thread, index order.
template <class T>
__global__ void ratio_stats_kernel(double* out, const T* clipped, const T* unclipped,
                                   const T* log_ratio, const T* ratio, int64_t n) {
  if (grid_index() != 0) return;
  double count = 0, log_sq = 0, sum = 0, sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (clipped[i] > unclipped[i]) count += 1;
    const double lr = log_ratio[i], r = ratio[i];
    log_sq += lr * lr;
    sum += r;
    sq += r * r;
  }
  out[0] = count, out[1] = log_sq, out[2] = sum, out[3] = sq;
}

template <class T>
__global__ void count_greater_kernel(double* out, const T* a, const T* b, int64_t n) {
  if (grid_index() != 0) return;
  double count = 0;
  for (int64_t i = 0; i < n; ++i)
    if (a[i] > b[i]) count += 1;
  *out = count;
}

template <class T>
__global__ void first_non_finite_kernel(unsigned long long* first, const T* x, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride())
    if (!isfinite(double(x[i]))) atomicMin(first, static_cast<unsigned long long>(i));
}
template <class Index>
__global__ void non_finite_result_kernel(Index* out, const unsigned long long* first) {
  if (grid_index() == 0) *out = *first == ~0ull ? Index(-1) : static_cast<Index>(*first);
}

template <class S>
__global__ void to_double_kernel(double* out, const S* part, int64_t n) {
  for (int64_t i = grid_index(); i < n; i += grid_stride()) out[i] = double(part[i]);
}
}  // namespace cuda::kernels

// p = σ(z1 − z0) at every position of logits (…, 2) → (M) float.
template <class T>
Tensor<float, Cuda> positive_probabilities(const Tensor<T, Cuda>& logits) {
  TLCR_CHECK(logits.shape().rank >= 1 && logits.shape()[logits.shape().rank - 1] == 2,
             "positive_probabilities: expected logits (…, 2), got ", logits.shape().str());
  const int64_t M = logits.numel() / 2;
  Tensor<float, Cuda> p(Shape{M});
  if (M > 0)
    cuda::launch("positive_probabilities", cuda::kernels::positive_probabilities_kernel<T>, M,
                 cuda::raw(p), static_cast<const T*>(cuda::raw(logits)), M);
  return p;
}

namespace cuda {
template <class T>
void check_logit_pair(const char* who, const Tensor<T, Cuda>& logits,
                      const Tensor<T, Cuda>& ref_logits) {
  TLCR_CHECK(logits.shape().rank == 2 && logits.shape()[1] > 0, who,
             ": expected logits (N, V), got ", logits.shape().str());
  check_same_shape(who, logits.shape(), ref_logits.shape(), "logits", "ref_logits");
}
}  // namespace cuda

// Full KL and entropy at every position: logits, ref_logits (N, V) → (N, 2) double.
template <class T>
Tensor<double, Cuda> token_kl_stats(const Tensor<T, Cuda>& logits,
                                    const Tensor<T, Cuda>& ref_logits) {
  cuda::check_logit_pair("token_kl_stats", logits, ref_logits);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  Tensor<double, Cuda> out(Shape{N, 2});
  cuda::kernels::launch_rows(
      "token_kl_stats", cuda::kernels::kl_entropy_kernel<T>, N, cuda::raw(out), int64_t(2), 0, 1,
      static_cast<const T*>(cuda::raw(logits)), static_cast<const T*>(cuda::raw(ref_logits)),
      static_cast<const T*>(nullptr), static_cast<const T*>(nullptr),
      static_cast<const T*>(nullptr), N, V);
  return out;
}

// (N, 5) double of (logprob, ref_logprob, value, entropy, full KL).
template <class T>
Tensor<double, Cuda> rollout_token_stats(const Tensor<T, Cuda>& logits,
                                         const Tensor<T, Cuda>& ref_logits,
                                         const Tensor<T, Cuda>& logprobs,
                                         const Tensor<T, Cuda>& ref_logprobs,
                                         const Tensor<T, Cuda>& values) {
  cuda::check_logit_pair("rollout_token_stats", logits, ref_logits);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  const Shape n{N};
  check_same_shape("rollout_token_stats", logprobs.shape(), n, "logprobs", "(N)");
  check_same_shape("rollout_token_stats", ref_logprobs.shape(), n, "ref_logprobs", "(N)");
  check_same_shape("rollout_token_stats", values.shape(), n, "values", "(N)");
  Tensor<double, Cuda> out(Shape{N, 5});
  cuda::kernels::launch_rows(
      "rollout_token_stats", cuda::kernels::kl_entropy_kernel<T>, N, cuda::raw(out), int64_t(5), 4,
      3, static_cast<const T*>(cuda::raw(logits)), static_cast<const T*>(cuda::raw(ref_logits)),
      static_cast<const T*>(cuda::raw(logprobs)), static_cast<const T*>(cuda::raw(ref_logprobs)),
      static_cast<const T*>(cuda::raw(values)), N, V);
  return out;
}

// (4) double of (#(clipped > unclipped), Σ log_ratio², Σ ratio, Σ ratio²).
template <class T>
Tensor<double, Cuda> policy_ratio_stats(const Tensor<T, Cuda>& clipped,
                                        const Tensor<T, Cuda>& unclipped,
                                        const Tensor<T, Cuda>& log_ratio,
                                        const Tensor<T, Cuda>& ratio) {
  const int64_t n = clipped.numel();
  TLCR_CHECK(unclipped.numel() == n && log_ratio.numel() == n && ratio.numel() == n,
             "policy_ratio_stats: sizes differ (", n, ", ", unclipped.numel(), ", ",
             log_ratio.numel(), ", ", ratio.numel(), ")");
  Tensor<double, Cuda> out(Shape{4});
  cuda::kernels::ratio_stats_kernel<T>
      <<<1, 1, 0, cuda::stream()>>>(cuda::raw(out), cuda::raw(clipped), cuda::raw(unclipped),
                                    cuda::raw(log_ratio), cuda::raw(ratio), n);
  cuda::check_launch("policy_ratio_stats");
  return out;
}

// #(a > b) → (1) double.
template <class T>
Tensor<double, Cuda> count_greater(const Tensor<T, Cuda>& a, const Tensor<T, Cuda>& b) {
  check_same_shape("count_greater", a.shape(), b.shape(), "a", "b");
  Tensor<double, Cuda> out(Shape{1});
  cuda::kernels::count_greater_kernel<T>
      <<<1, 1, 0, cuda::stream()>>>(cuda::raw(out), cuda::raw(a), cuda::raw(b), a.numel());
  cuda::check_launch("count_greater");
  return out;
}

// The flat index of the first NaN or ±Inf in x, or −1 → (1) int64.
template <class T>
Tensor<int64_t, Cuda> first_non_finite(const Tensor<T, Cuda>& x) {
  Tensor<unsigned long long, Cuda> first = Tensor<unsigned long long, Cuda>::full(Shape{1}, ~0ull);
  if (x.numel() > 0)
    cuda::launch("first_non_finite", cuda::kernels::first_non_finite_kernel<T>, x.numel(),
                 cuda::raw(first), static_cast<const T*>(cuda::raw(x)), x.numel());
  Tensor<int64_t, Cuda> out(Shape{1});
  cuda::kernels::non_finite_result_kernel<int64_t>
      <<<1, 1, 0, cuda::stream()>>>(cuda::raw(out), cuda::raw(first));
  cuda::check_launch("first_non_finite (result)");
  return out;
}

// Small tensors of any element types, as double, side by side → (Σ numel) double.
template <class... Ts>
Tensor<double, Cuda> pack_as_double(const Tensor<Ts, Cuda>&... parts) {
  const int64_t total = ((parts.defined() ? parts.numel() : 0) + ... + 0);
  Tensor<double, Cuda> out(Shape{total});
  int64_t offset = 0;
  auto append = [&](const auto& part) {
    if (!part.defined() || part.numel() == 0) return;
    using S = typename std::remove_cvref_t<decltype(part)>::value_type;
    cuda::launch("pack_as_double", cuda::kernels::to_double_kernel<S>, part.numel(),
                 cuda::raw(out) + offset, static_cast<const S*>(cuda::raw(part)), part.numel());
    offset += part.numel();
  };
  (append(parts), ...);
  return out;
}

}  // namespace tlcr
