// tlcr/ops/linear_cross_entropy.hpp — the LM head and its cross-entropy as one op that never holds
// the (N, V) logits.
//
//   loss = Σ_i w_i · (lse_i − z_i[t_i]) / Σ_i w_i,   z = h·op(W)   (rows with t_i = ignore_index
//   skipped; the same loss as cross_entropy(matmul(h, W)) in cross_entropy.hpp)
//
// The rows are processed in fixed chunks: a chunk's logits (rows × V) are computed, reduced to
// their log-sum-exp and, when gradients are wanted, turned in place into
//   g_i = w_i / Σw · (softmax(z_i) − onehot(t_i))          (∂loss/∂z_i)
// from which the chunk's share of ∂loss/∂h = g·op(W)ᵀ and ∂loss/∂W is taken at once. The loss is
// a scalar, so the gradients reaching h and W are these "unit" gradients times d_loss: backward is
// one scaled addition. For the medium GPT (N = 8192, V = 4096) this keeps 2 × 128 MiB of logits
// and logit gradients out of memory, at the same FLOP count. The chunk size depends only on V, so
// results are the same for every thread count.
// Not here: other losses on logits (cross_entropy.hpp), sampling (generate/).
// Shape legend: h (…, C) seen as N × C; W (C, V), or (V, C) when transpose_w (tied embeddings,
// torch.nn.Linear layout); targets (N), a span or an int32 tensor; weights (N) or empty.
#pragma once

#include <algorithm>

#include "tlcr/ops/cross_entropy.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/matmul.hpp"

namespace tlcr {

// ∂loss/∂h (N,C) and ∂loss/∂W (W's shape) for d_loss = 1; either may be left undefined.
template <class T, class D = Cpu>
struct LinearCrossEntropyGrads {
  Tensor<T, D> d_h, d_w;
};

namespace detail {
// The gradient pair as an argument of the SealedCpu forwarding overload (ops/host_kernels.hpp).
template <class T>
struct SealedArg<LinearCrossEntropyGrads<T, SealedCpu>*> : std::true_type {};
template <class T>
struct HostArg<LinearCrossEntropyGrads<T, SealedCpu>*> {
  LinearCrossEntropyGrads<T, Cpu> aliases;
  bool present;
  explicit HostArg(LinearCrossEntropyGrads<T, SealedCpu>* grads) : present(grads != nullptr) {
    if (grads && grads->d_h.defined()) aliases.d_h = TensorAccess::host_alias(grads->d_h);
    if (grads && grads->d_w.defined()) aliases.d_w = TensorAccess::host_alias(grads->d_w);
  }
  LinearCrossEntropyGrads<T, Cpu>* get() { return present ? &aliases : nullptr; }
  void finish() {}
};
}  // namespace detail

namespace detail {
constexpr int64_t kLogitChunkElements = 1 << 21;  // logits per chunk: 8 MiB of float

inline int64_t logit_chunk_rows(int64_t vocab) {
  return std::max<int64_t>(1, kLogitChunkElements / std::max<int64_t>(vocab, 1));
}
}  // namespace detail

// loss (rank 0) as above. `grads`, when given, receives the unit gradients of the tensors it has
// defined (allocate d_h like h and d_w like W, zero or not: they are overwritten). `chunk_rows`
// overrides the chunk size (tests use it to force several chunks).
template <class T>
void linear_cross_entropy_forward(Tensor<T>& loss, LinearCrossEntropyGrads<T>* grads,
                                  const Tensor<T>& h, const Tensor<T>& w, bool transpose_w,
                                  std::span<const int32_t> targets, RowWeights<T> weights = {},
                                  int32_t ignore_index = -100, int64_t chunk_rows = 0) {
  const char* op = "linear_cross_entropy";
  const Shape logits_shape = matmul_output_shape(h.shape(), w.shape(), false, transpose_w);
  detail::check_targets(op, logits_shape, targets, ignore_index);
  detail::check_row_weights(op, logits_shape.rows(), weights);
  TLCR_CHECK(loss.numel() == 1, op, ": loss must hold one element, got ", loss.shape().str());
  const int64_t rows = logits_shape.rows(), vocab = logits_shape.cols();
  Tensor<T>* d_h = grads && grads->d_h.defined() ? &grads->d_h : nullptr;
  Tensor<T>* d_w = grads && grads->d_w.defined() ? &grads->d_w : nullptr;
  if (d_h) check_same_shape(op, d_h->shape(), h.shape(), "d_h", "h");
  if (d_w) check_same_shape(op, d_w->shape(), w.shape(), "d_w", "W");
  if (d_w) d_w->fill(T(0));

  const double total_weight = detail::selected_weight_total(targets, weights, ignore_index);
  const T unit = total_weight > 0 ? T(1.0 / total_weight) : T(0);
  const int64_t chunk = chunk_rows > 0 ? chunk_rows : detail::logit_chunk_rows(vocab);
  Tensor<T> logits(Shape{std::min(chunk, std::max<int64_t>(rows, 1)), vocab});
  std::vector<T> weighted_nll(rows, T(0));
  const auto H = h.matrix();  // (N, C)
  const auto W = w.matrix();
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t count = std::min(chunk, rows - begin);
    auto Z = logits.matrix().topRows(count);  // (count, V)
    const auto H_chunk = H.middleRows(begin, count);
    detail::gemm(Z, H_chunk, W, false, transpose_w, false);
    parallel_for(0, count, detail::loss_row_grain(vocab), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = begin + r;
        T* z = logits.data() + r * vocab;
        if (targets[i] == ignore_index) {
          if (d_h || d_w) std::fill(z, z + vocab, T(0));  // contributes no gradient
          continue;
        }
        const T lse = detail::log_sum_exp(z, vocab);
        const T weight = detail::row_weight(weights, i);
        weighted_nll[i] = weight * (lse - z[targets[i]]);
        if (!d_h && !d_w) continue;
        // forward: loss ∋ w_i/Σw · (lse_i − z_i[t_i]) → g_i = w_i/Σw · (softmax(z_i) − onehot(t_i))
        const T coefficient = unit * weight;
        for (int64_t v = 0; v < vocab; ++v) z[v] = coefficient * fast_exp_nonpositive(z[v] - lse);
        z[targets[i]] -= coefficient;
      }
    });
    if (!d_h && !d_w) continue;
    // forward: Z = H_chunk · op(W) → d H_chunk = G · op(W)ᵀ, d op(W) += H_chunkᵀ · G
    if (d_h) detail::gemm(d_h->matrix().middleRows(begin, count), Z, W, false, !transpose_w, false);
    if (d_w) {
      if (transpose_w)
        detail::gemm(d_w->matrix(), Z, H_chunk, true, false, true);  // (V,C)
      else
        detail::gemm(d_w->matrix(), H_chunk, Z, true, false, true);  // (C,V)
    }
  }
  double total = 0;
  for (const T value : weighted_nll) total += double(value);
  loss.data()[0] = total_weight > 0 ? T(total / total_weight) : T(0);
}

// The same with the targets (N) int32 in a tensor on h's device (a template, so that a braced `{}`
// still means the empty span).
template <class T, class Targets>
requires std::same_as<Targets, Tensor<int32_t>>
void linear_cross_entropy_forward(Tensor<T>& loss, LinearCrossEntropyGrads<T>* grads,
                                  const Tensor<T>& h, const Tensor<T>& w, bool transpose_w,
                                  const Targets& targets, RowWeights<T> weights = {},
                                  int32_t ignore_index = -100, int64_t chunk_rows = 0) {
  linear_cross_entropy_forward(loss, grads, h, w, transpose_w, detail::flat_span(targets), weights,
                               ignore_index, chunk_rows);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(linear_cross_entropy_forward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_LINEAR_CROSS_ENTROPY_INSTANCES(extern_, T)                              \
  extern_ template void linear_cross_entropy_forward<T>(                                 \
      Tensor<T>&, LinearCrossEntropyGrads<T>*, const Tensor<T>&, const Tensor<T>&, bool, \
      std::span<const int32_t>, RowWeights<T>, int32_t, int64_t);                        \
  extern_ template void linear_cross_entropy_forward<T, Tensor<int32_t>>(                \
      Tensor<T>&, LinearCrossEntropyGrads<T>*, const Tensor<T>&, const Tensor<T>&, bool, \
      const Tensor<int32_t>&, RowWeights<T>, int32_t, int64_t);
TLCR_DECLARE_INSTANCES(TLCR_OPS_LINEAR_CROSS_ENTROPY_INSTANCES)

}  // namespace tlcr
