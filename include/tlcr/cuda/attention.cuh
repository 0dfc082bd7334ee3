// tlcr/cuda/attention.cuh — ops/attention.hpp's causal self-attention on Tensor<T, Cuda>, with the
// CPU kernel's contract: forward writes P (B,H,Tq,Tk) for backward when asked, and backward reads
// it. Training on Cuda takes the fused kernels of cuda/flash_attention.cuh instead (they keep each
// row's log-sum-exp, not P) wherever D ≤ kFlashMaxHeadDim; this kernel serves inference (no P
// kept, cuBLAS does the products) and larger heads.
//
// Every product is one strided-batched cuBLAS call over the B·H (b, h) pairs, restricted to the
// Tv = offset + Tq keys anyone can see (a preallocated KV cache's later rows are never read):
//   forward   S = Q·K[:Tv]ᵀ into P's first Tv columns; a row kernel turns each row into
//             softmax(scale·S) over the keys it sees (causal, key mask), 0 elsewhere up to Tk, a
//             row that sees nothing all 0; out = P[:, :Tv]·V[:Tv], or (P ⊙ M)·V with dropout (M
//             drawn from the CPU's (seed, flat index) function: the same mask).
//   backward  dV += (P ⊙ M)ᵀ·dO;  dP = dO·Vᵀ (⊙ M);  dS = scale · P ⊙ (dP − ⟨dP, P⟩) per row;
//             dQ += dS·K;  dK += dSᵀ·Q.
// Row sums are fixed trees in double; the same GPU repeats its bits.
// Shape legend: B batch, H heads, Tq queries, Tk stored keys, Tv visible keys, D head size;
// key_mask (B·Tk) bytes, 1 = real token.
// Not here: projections and heads (cuda/linear.cuh, cuda/heads.cuh), the CPU kernel.
#pragma once

#include <cmath>
#include <span>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/blas.cuh"
#include "tlcr/cuda/flash_attention.cuh"  // the training path on Cuda (autograd/fn/attention.hpp)
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/softmax.cuh"
#include "tlcr/ops/attention.hpp"

namespace tlcr {

namespace cuda::kernels {
// Row (pair, t) of P (…, Tq, Tk) holds the scores of keys [0, Tv): softmax(scale·s) over the keys
// the row sees, 0 at every other key up to Tk. With `dropped` (…, Tq, Tv), also P ⊙ M there.
template <class T>
__global__ void attention_softmax_kernel(T* probs, T* dropped, const uint8_t* key_mask, T scale,
                                         int64_t heads, int64_t Tq, int64_t Tk, int64_t Tv,
                                         int64_t offset, double dropout_p, uint64_t dropout_seed,
                                         int64_t rows) {
  __shared__ T max_scratch[kThreadsPerBlock];
  __shared__ double sum_scratch[kThreadsPerBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {  // row = pair·Tq + t
    const int64_t pair = row / Tq, t = row % Tq, b = pair / heads;
    const int64_t last_key = offset + t;
    const uint8_t* mask = key_mask ? key_mask + b * Tk : nullptr;
    T* p = probs + row * Tk;
    auto visible = [&](int64_t s) { return s <= last_key && (!mask || mask[s] != 0); };
    T m = T(-INFINITY);
    int any = 0;
    for (int64_t s = threadIdx.x; s < Tv; s += blockDim.x)
      if (visible(s)) m = fmax(m, p[s]), any = 1;
    m = block_max(m, max_scratch);
    any = block_max(double(any), sum_scratch) > 0;
    double partial = 0;
    for (int64_t s = threadIdx.x; s < Tk; s += blockDim.x) {
      const T e = any && s < Tv && visible(s) ? T(::exp(scale * (p[s] - m))) : T(0);
      p[s] = e;
      partial += double(e);
    }
    const double total = block_sum(partial, sum_scratch);
    const T inverse = any ? T(1.0 / total) : T(0);
    const T kept = dropout_p < 1 ? T(1.0 / (1.0 - dropout_p)) : T(0);
    for (int64_t s = threadIdx.x; s < Tk; s += blockDim.x) {
      p[s] *= inverse;
      if (dropped && s < Tv)
        dropped[row * Tv + s] =
            dropout_drops(dropout_seed, uint64_t(row * Tk + s), dropout_p) ? T(0) : p[s] * kept;
    }
  }
}

// P ⊙ M of the first Tv columns into `dropped` (…, Tq, Tv) (backward redraws forward's mask).
template <class T>
__global__ void attention_dropout_kernel(T* dropped, const T* probs, int64_t Tk, int64_t Tv,
                                         double dropout_p, uint64_t dropout_seed, int64_t total) {
  const T kept = dropout_p < 1 ? T(1.0 / (1.0 - dropout_p)) : T(0);
  for (int64_t e = grid_index(); e < total; e += grid_stride()) {
    const int64_t row = e / Tv, s = e % Tv;
    dropped[e] = dropout_drops(dropout_seed, uint64_t(row * Tk + s), dropout_p)
                     ? T(0)
                     : probs[row * Tk + s] * kept;
  }
}

// dS row (…, Tq, Tv) in place: dP (⊙ M with dropout) → scale · P ⊙ (dP − ⟨dP, P⟩).
template <class T>
__global__ void attention_score_grad_kernel(T* d_scores, const T* probs, T scale, int64_t Tk,
                                            int64_t Tv, double dropout_p, uint64_t dropout_seed,
                                            int64_t rows) {
  __shared__ double sum_scratch[kThreadsPerBlock];
  const T kept = dropout_p < 1 ? T(1.0 / (1.0 - dropout_p)) : T(0);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    T* ds = d_scores + row * Tv;
    const T* p = probs + row * Tk;
    double partial = 0;
    for (int64_t s = threadIdx.x; s < Tv; s += blockDim.x) {
      if (dropout_p > 0)  // the gradient reaches P only where M kept it
        ds[s] *= dropout_drops(dropout_seed, uint64_t(row * Tk + s), dropout_p) ? T(0) : kept;
      partial += double(p[s] * ds[s]);
    }
    const T row_dot = T(block_sum(partial, sum_scratch));
    for (int64_t s = threadIdx.x; s < Tv; s += blockDim.x) ds[s] = scale * (ds[s] - row_dot) * p[s];
  }
}
}  // namespace cuda::kernels

namespace cuda {
// The (pair) batches of q-like (…, T, D) rows [0, rows) and of P-like (…, Tq, width) blocks.
template <class T>
DeviceMatrix<T> head_rows(T* data, int64_t rows, int64_t stored_rows, int64_t D) {
  return {data, rows, D, D, stored_rows * D};
}

template <class T>
void attention_forward_on(Tensor<T, Cuda>& out, Tensor<T, Cuda>* probs, const Tensor<T, Cuda>& q,
                          const Tensor<T, Cuda>& k, const Tensor<T, Cuda>& v,
                          const uint8_t* key_mask, const AttentionSizes& s,
                          AttentionDropout dropout) {
  const int64_t pairs = s.batch * s.heads, Tq = s.queries, Tk = s.keys, Tv = s.visible_keys(),
                D = s.head_dim;
  if (pairs * Tq == 0) return;
  Tensor<T, Cuda> scratch =
      probs ? Tensor<T, Cuda>() : Tensor<T, Cuda>::uninitialized(s.probs_shape());
  Tensor<T, Cuda>& p = probs ? *probs : scratch;
  Tensor<T, Cuda> dropped =
      dropout.active() ? Tensor<T, Cuda>::uninitialized(Shape{pairs, Tq, Tv}) : Tensor<T, Cuda>();
  const T scale = T(1) / std::sqrt(T(D));
  // S = Q · K[:Tv]ᵀ into P's first Tv columns (rows Tk apart).
  gemm(DeviceMatrix<T>{raw(p), Tq, Tv, Tk, Tq * Tk}, head_rows<const T>(raw(q), Tq, Tq, D), false,
       head_rows<const T>(raw(k), Tv, Tk, D), true, false, pairs);
  kernels::launch_rows("causal_attention (softmax)", kernels::attention_softmax_kernel<T>,
                       pairs * Tq, raw(p),
                       dropout.active() ? raw(dropped) : static_cast<T*>(nullptr), key_mask, scale,
                       s.heads, Tq, Tk, Tv, s.offset, dropout.p, dropout.seed, pairs * Tq);
  const DeviceMatrix<const T> weights =
      dropout.active() ? DeviceMatrix<const T>{raw(dropped), Tq, Tv, Tv, Tq * Tv}
                       : DeviceMatrix<const T>{raw(p), Tq, Tv, Tk, Tq * Tk};
  gemm(head_rows<T>(raw(out), Tq, Tq, D), weights, false, head_rows<const T>(raw(v), Tv, Tk, D),
       false, false, pairs);
}
}  // namespace cuda

// out (B,H,Tq,D) = softmax(scale · Q·Kᵀ, causal + key mask) · V; `probs`, when given, receives P.
// The key mask on the host (uploaded once) …
template <class T>
void causal_attention_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>* probs,
                              const Tensor<T, Cuda>& q, const Tensor<T, Cuda>& k,
                              const Tensor<T, Cuda>& v, std::span<const uint8_t> key_mask = {},
                              int64_t offset = 0, AttentionDropout dropout = {}) {
  const char* op = "causal_attention_forward";
  const AttentionSizes s =
      attention_sizes(op, q.shape(), k.shape(), v.shape(), key_mask.size(), offset);
  check_same_shape(op, out.shape(), q.shape(), "out", "q");
  if (probs) check_same_shape(op, probs->shape(), s.probs_shape(), "probs", "(B,H,Tq,Tk)");
  check_dropout_probability(dropout.p);
  const Tensor<uint8_t, Cuda> mask =
      key_mask.empty() ? Tensor<uint8_t, Cuda>()
                       : Tensor<uint8_t, Cuda>::from(Shape{int64_t(key_mask.size())}, key_mask);
  cuda::attention_forward_on(
      out, probs, q, k, v, mask.defined() ? static_cast<const uint8_t*>(cuda::raw(mask)) : nullptr,
      s, dropout);
}
// … or on the device, (B·Tk) bytes; undefined = no padding.
template <class T, class Mask>
requires std::same_as<Mask, Tensor<uint8_t, Cuda>>
void causal_attention_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>* probs,
                              const Tensor<T, Cuda>& q, const Tensor<T, Cuda>& k,
                              const Tensor<T, Cuda>& v, const Mask& key_mask, int64_t offset = 0,
                              AttentionDropout dropout = {}) {
  const char* op = "causal_attention_forward";
  const AttentionSizes s =
      attention_sizes(op, q.shape(), k.shape(), v.shape(),
                      key_mask.defined() ? std::size_t(key_mask.numel()) : 0, offset);
  check_same_shape(op, out.shape(), q.shape(), "out", "q");
  if (probs) check_same_shape(op, probs->shape(), s.probs_shape(), "probs", "(B,H,Tq,Tk)");
  check_dropout_probability(dropout.p);
  cuda::attention_forward_on(
      out, probs, q, k, v,
      key_mask.defined() ? static_cast<const uint8_t*>(cuda::raw(key_mask)) : nullptr, s, dropout);
}

// Given d_out and forward's P, adds dL/dq, dL/dk, dL/dv (nullptr = not needed); `dropout` must be
// forward's.
template <class T>
void causal_attention_backward(Tensor<T, Cuda>* d_q, Tensor<T, Cuda>* d_k, Tensor<T, Cuda>* d_v,
                               const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& probs,
                               const Tensor<T, Cuda>& q, const Tensor<T, Cuda>& k,
                               const Tensor<T, Cuda>& v, int64_t offset = 0,
                               AttentionDropout dropout = {}) {
  using cuda::DeviceMatrix;
  using cuda::head_rows;
  const char* op = "causal_attention_backward";
  const AttentionSizes s = attention_sizes(op, q.shape(), k.shape(), v.shape(), 0, offset);
  check_same_shape(op, d_out.shape(), q.shape(), "d_out", "q");
  check_same_shape(op, probs.shape(), s.probs_shape(), "probs", "(B,H,Tq,Tk)");
  const int64_t pairs = s.batch * s.heads, Tq = s.queries, Tk = s.keys, Tv = s.visible_keys(),
                D = s.head_dim;
  if (pairs * Tq == 0) return;
  const T scale = T(1) / std::sqrt(T(D));
  const DeviceMatrix<const T> P{cuda::raw(probs), Tq, Tv, Tk, Tq * Tk};
  const DeviceMatrix<const T> dO = head_rows<const T>(cuda::raw(d_out), Tq, Tq, D);
  if (d_v) {  // dV[:Tv] += (P ⊙ M)ᵀ · dO
    Tensor<T, Cuda> dropped;
    DeviceMatrix<const T> weights = P;
    if (dropout.active()) {
      dropped = Tensor<T, Cuda>::uninitialized(Shape{pairs, Tq, Tv});
      cuda::launch("causal_attention_backward (dropout)",
                   cuda::kernels::attention_dropout_kernel<T>, pairs * Tq * Tv, cuda::raw(dropped),
                   static_cast<const T*>(cuda::raw(probs)), Tk, Tv, dropout.p, dropout.seed,
                   pairs * Tq * Tv);
      weights = DeviceMatrix<const T>{cuda::raw(dropped), Tq, Tv, Tv, Tq * Tv};
    }
    cuda::gemm(head_rows<T>(cuda::raw(*d_v), Tv, Tk, D), weights, true, dO, false, true, pairs);
  }
  if (!d_q && !d_k) return;
  Tensor<T, Cuda> d_scores = Tensor<T, Cuda>::uninitialized(Shape{pairs, Tq, Tv});
  const DeviceMatrix<T> dS{cuda::raw(d_scores), Tq, Tv, Tv, Tq * Tv};
  cuda::gemm(dS, dO, false, head_rows<const T>(cuda::raw(v), Tv, Tk, D), true, false,
             pairs);  // dP = dO · Vᵀ
  cuda::kernels::launch_rows("causal_attention_backward (scores)",
                             cuda::kernels::attention_score_grad_kernel<T>, pairs * Tq,
                             cuda::raw(d_scores), static_cast<const T*>(cuda::raw(probs)), scale,
                             Tk, Tv, dropout.active() ? dropout.p : 0.0, dropout.seed, pairs * Tq);
  const DeviceMatrix<const T> dS_read{cuda::raw(d_scores), Tq, Tv, Tv, Tq * Tv};
  if (d_q)  // dQ += (scale · dS) · K
    cuda::gemm(head_rows<T>(cuda::raw(*d_q), Tq, Tq, D), dS_read, false,
               head_rows<const T>(cuda::raw(k), Tv, Tk, D), false, true, pairs);
  if (d_k)  // dK[:Tv] += (scale · dS)ᵀ · Q
    cuda::gemm(head_rows<T>(cuda::raw(*d_k), Tv, Tk, D), dS_read, true,
               head_rows<const T>(cuda::raw(q), Tq, Tq, D), false, true, pairs);
}

}  // namespace tlcr
