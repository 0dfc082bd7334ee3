// tlcr/cuda/flash_attention.cuh — fused causal self-attention on Tensor<T, Cuda> that never holds
// the (Tq × Tk) score matrix: forward keeps each query row's log-sum-exp, backward recomputes the
// probabilities from it, tile by tile (the FlashAttention scheme: Dao et al., 2022; Dao, 2023).
// Same contract as ops/attention.hpp's kernel — causal over absolute positions (query t sits at
// offset + t), key mask, a row that sees nothing gives 0, dropout on P with the CPU's
// (seed, flat index) mask — so results agree with the CPU up to summation order.
//
//   forward   per query row, over key tiles: s = scale·q·k, running max m and sum l of e^(s−m),
//             acc = Σ e^(s−m)·M·v rescaled as m grows;  out = acc / l,  lse = m + log l.
//   backward  Δ_t = ⟨dO_t, O_t⟩;  p = e^(scale·q·k − lse);  dP = (dO·v)·M;  dS = p·(dP − Δ);
//             dQ_t += scale·Σ_s dS k_s  (one kernel over query rows),
//             dV_s += Σ_t p·M·dO_t,  dK_s += scale·Σ_t dS q_t  (one kernel over key rows).
// Determinism: each output row is owned by one warp that sums in a fixed order, and dQ and dK/dV
// come from separate kernels, so no float atomics; the same GPU repeats its bits.
// Layout: one warp per row (query or key), kRowsPerBlock rows per block sharing tiles of kTile
// rows of the other side in shared memory (row stride D + 1, so that lanes reading different rows
// hit different banks); lane j scores row j of a tile, lanes split D when accumulating.
// Shape legend: B batch, H heads, Tq queries, Tk stored keys, Tv = offset + Tq visible keys,
// D head size (≤ kFlashMaxHeadDim); lse (B,H,Tq); key_mask (B·Tk) bytes on the device, 1 = real.
// Not here: the materialized kernel (cuda/attention.cuh, used when D is larger or no gradient is
// needed), the choice between them (autograd/fn/attention.hpp).
#pragma once

#include <algorithm>
#include <cmath>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/dropout.cuh"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/attention.hpp"

namespace tlcr {

namespace cuda::kernels {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 8;  // warps per block, one row each
constexpr int kTile = 32;         // rows of the other side per shared-memory tile (one per lane)
constexpr int kAccumulators = kFlashMaxHeadDim / kWarp;
constexpr unsigned kFullWarp = 0xffffffffu;

template <class T>
__device__ T warp_max(T x) {
  for (int step = kWarp / 2; step > 0; step /= 2) x = fmax(x, __shfl_xor_sync(kFullWarp, x, step));
  return x;
}
template <class T>
__device__ T warp_sum(T x) {  // the same butterfly every time: a fixed order
  for (int step = kWarp / 2; step > 0; step /= 2) x += __shfl_xor_sync(kFullWarp, x, step);
  return x;
}

__device__ inline int64_t smaller(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// ⟨a, b⟩ over D elements, in order.
template <class T>
__device__ T dot(const T* a, const T* b, int64_t D) {
  T sum = 0;
  for (int64_t d = 0; d < D; ++d) sum += a[d] * b[d];
  return sum;
}

// Copies rows [first, first + count) of a (rows, D) block into `tile` (count, stride), zeros past
// `rows`; every thread of the block takes part.
template <class T>
__device__ void load_rows(T* tile, int64_t stride, const T* source, int64_t first, int64_t count,
                          int64_t rows, int64_t D) {
  for (int64_t e = threadIdx.x; e < count * D; e += blockDim.x) {
    const int64_t r = e / D, d = e % D;
    tile[r * stride + d] = first + r < rows ? source[(first + r) * D + d] : T(0);
  }
}

// Dropout's keep factor for entry (row, s) of the (…, Tq, Tk) probabilities: 0 or 1/(1−p).
__device__ inline double dropout_factor(double p, uint64_t seed, int64_t row, int64_t s,
                                        int64_t Tk) {
  if (p <= 0) return 1.0;
  return dropout_drops(seed, uint64_t(row * Tk + s), p) ? 0.0 : 1.0 / (1.0 - p);
}

// Grid (query blocks, pairs from pair_base on); warp w owns query row
// t = blockIdx.x·kRowsPerBlock + w of pair pair_base + blockIdx.y.
template <class T>
__global__ void flash_forward_kernel(T* out, T* lse, const T* q, const T* k, const T* v,
                                     const uint8_t* key_mask, T scale, int64_t heads, int64_t Tq,
                                     int64_t Tk, int64_t D, int64_t offset, double dropout_p,
                                     uint64_t dropout_seed, int64_t pair_base) {
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t stride = D + 1;
  T* k_tile = reinterpret_cast<T*>(shared_bytes);  // (kTile, D + 1)
  T* v_tile = k_tile + kTile * stride;             // (kTile, D + 1)
  T* q_rows = v_tile + kTile * stride;             // (kRowsPerBlock, D)
  const int64_t pair = pair_base + blockIdx.y, b = pair / heads, Tv = offset + Tq;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t first_row = int64_t(blockIdx.x) * kRowsPerBlock, t = first_row + warp;
  const bool active = t < Tq;
  const T* q_pair = q + pair * Tq * D;
  const T* k_pair = k + pair * Tk * D;
  const T* v_pair = v + pair * Tk * D;
  const uint8_t* mask = key_mask ? key_mask + b * Tk : nullptr;
  load_rows(q_rows, D, q_pair, first_row, kRowsPerBlock, Tq, D);

  T acc[kAccumulators] = {};
  T m = T(-INFINITY), l = 0;
  const int64_t last_row = smaller(Tq, first_row + kRowsPerBlock) - 1;
  const int64_t keys_needed = smaller(Tv, offset + last_row + 1);  // causal: later keys unseen
  for (int64_t start = 0; start < keys_needed; start += kTile) {
    __syncthreads();  // the previous tile is consumed (and q_rows written, the first time)
    load_rows(k_tile, stride, k_pair, start, kTile, Tv, D);
    load_rows(v_tile, stride, v_pair, start, kTile, Tv, D);
    __syncthreads();
    if (!active) continue;
    const int64_t s = start + lane;
    const bool visible = s < Tv && s <= offset + t && (!mask || mask[s] != 0);
    const T score =
        visible ? scale * dot(q_rows + warp * D, k_tile + lane * stride, D) : T(-INFINITY);
    const T tile_max = warp_max(score);
    if (tile_max == T(-INFINITY)) continue;  // nothing visible in this tile
    const T m_new = fmax(m, tile_max);
    const T p = visible ? T(::exp(score - m_new)) : T(0);
    const T rescale = m == T(-INFINITY) ? T(0) : T(::exp(m - m_new));
    l = l * rescale + warp_sum(p);
    m = m_new;
    const T weight =
        p * T(dropout_factor(dropout_p, dropout_seed, pair * Tq + t, s, Tk));  // P ⊙ M, unnormed
    for (int i = 0; i < kAccumulators; ++i) acc[i] *= rescale;
    for (int j = 0; j < kTile; ++j) {
      const T w = __shfl_sync(kFullWarp, weight, j);
      if (w == T(0)) continue;  // the same for every lane: no divergence
      for (int i = 0; i < kAccumulators; ++i) {
        const int64_t d = lane + i * kWarp;
        if (d < D) acc[i] += w * v_tile[j * stride + d];
      }
    }
  }
  if (!active) return;
  const T inverse = l > 0 ? T(1) / l : T(0);  // a row that sees nothing: 0
  T* o = out + (pair * Tq + t) * D;
  for (int i = 0; i < kAccumulators; ++i) {
    const int64_t d = lane + i * kWarp;
    if (d < D) o[d] = acc[i] * inverse;
  }
  if (lane == 0) lse[pair * Tq + t] = l > 0 ? m + T(::log(l)) : T(-INFINITY);
}

// Δ row (…, Tq) = ⟨dO_t, O_t⟩; one warp per row.
template <class T>
__global__ void flash_delta_kernel(T* delta, const T* d_out, const T* out, int64_t D,
                                   int64_t rows) {
  const int lane = threadIdx.x % kWarp;
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (row >= rows) return;
  T partial = 0;
  for (int64_t d = lane; d < D; d += kWarp) partial += d_out[row * D + d] * out[row * D + d];
  partial = warp_sum(partial);
  if (lane == 0) delta[row] = partial;
}

// dQ: grid (query blocks, B·H); warp w owns query row t, loops over key tiles like forward.
template <class T>
__global__ void flash_backward_query_kernel(T* d_q, const T* d_out, const T* lse, const T* delta,
                                            const T* q, const T* k, const T* v,
                                            const uint8_t* key_mask, T scale, int64_t heads,
                                            int64_t Tq, int64_t Tk, int64_t D, int64_t offset,
                                            double dropout_p, uint64_t dropout_seed,
                                            int64_t pair_base) {
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t stride = D + 1;
  T* k_tile = reinterpret_cast<T*>(shared_bytes);  // (kTile, D + 1)
  T* v_tile = k_tile + kTile * stride;             // (kTile, D + 1)
  T* q_rows = v_tile + kTile * stride;             // (kRowsPerBlock, D)
  T* do_rows = q_rows + kRowsPerBlock * D;         // (kRowsPerBlock, D)
  const int64_t pair = pair_base + blockIdx.y, b = pair / heads, Tv = offset + Tq;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t first_row = int64_t(blockIdx.x) * kRowsPerBlock, t = first_row + warp;
  const bool active = t < Tq;
  const uint8_t* mask = key_mask ? key_mask + b * Tk : nullptr;
  load_rows(q_rows, D, q + pair * Tq * D, first_row, kRowsPerBlock, Tq, D);
  load_rows(do_rows, D, d_out + pair * Tq * D, first_row, kRowsPerBlock, Tq, D);
  const T row_lse = active ? lse[pair * Tq + t] : T(-INFINITY);
  const T row_delta = active ? delta[pair * Tq + t] : T(0);

  T acc[kAccumulators] = {};
  const int64_t last_row = smaller(Tq, first_row + kRowsPerBlock) - 1;
  const int64_t keys_needed = smaller(Tv, offset + last_row + 1);
  for (int64_t start = 0; start < keys_needed; start += kTile) {
    __syncthreads();
    load_rows(k_tile, stride, k + pair * Tk * D, start, kTile, Tv, D);
    load_rows(v_tile, stride, v + pair * Tk * D, start, kTile, Tv, D);
    __syncthreads();
    if (!active || row_lse == T(-INFINITY)) continue;  // a row that saw nothing has no gradient
    const int64_t s = start + lane;
    const bool visible = s < Tv && s <= offset + t && (!mask || mask[s] != 0);
    T d_score = 0;
    if (visible) {  // inverts forward's p and weight lines
      const T p = T(::exp(scale * dot(q_rows + warp * D, k_tile + lane * stride, D) - row_lse));
      const T d_p = dot(do_rows + warp * D, v_tile + lane * stride, D) *
                    T(dropout_factor(dropout_p, dropout_seed, pair * Tq + t, s, Tk));
      d_score = p * (d_p - row_delta);
    }
    for (int j = 0; j < kTile; ++j) {
      const T g = __shfl_sync(kFullWarp, d_score, j);
      if (g == T(0)) continue;
      for (int i = 0; i < kAccumulators; ++i) {
        const int64_t d = lane + i * kWarp;
        if (d < D) acc[i] += g * k_tile[j * stride + d];
      }
    }
  }
  if (!active) return;
  T* dq = d_q + (pair * Tq + t) * D;
  for (int i = 0; i < kAccumulators; ++i) {
    const int64_t d = lane + i * kWarp;
    if (d < D) dq[d] += scale * acc[i];
  }
}

// dK, dV: grid (key blocks over Tv, B·H); warp w owns key row s, loops over the query tiles that
// can see it. d_k or d_v may be null.
template <class T>
__global__ void flash_backward_key_kernel(T* d_k, T* d_v, const T* d_out, const T* lse,
                                          const T* delta, const T* q, const T* k, const T* v,
                                          const uint8_t* key_mask, T scale, int64_t heads,
                                          int64_t Tq, int64_t Tk, int64_t D, int64_t offset,
                                          double dropout_p, uint64_t dropout_seed,
                                          int64_t pair_base) {
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const int64_t stride = D + 1;
  T* q_tile = reinterpret_cast<T*>(shared_bytes);  // (kTile, D + 1)
  T* do_tile = q_tile + kTile * stride;            // (kTile, D + 1)
  T* k_rows = do_tile + kTile * stride;            // (kRowsPerBlock, D)
  T* v_rows = k_rows + kRowsPerBlock * D;          // (kRowsPerBlock, D)
  T* lse_tile = v_rows + kRowsPerBlock * D;        // (kTile)
  T* delta_tile = lse_tile + kTile;                // (kTile)
  const int64_t pair = pair_base + blockIdx.y, b = pair / heads, Tv = offset + Tq;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t first_key = int64_t(blockIdx.x) * kRowsPerBlock, s = first_key + warp;
  const bool active = s < Tv && (!key_mask || key_mask[b * Tk + s] != 0);  // a masked key: no grad
  load_rows(k_rows, D, k + pair * Tk * D, first_key, kRowsPerBlock, Tv, D);
  load_rows(v_rows, D, v + pair * Tk * D, first_key, kRowsPerBlock, Tv, D);

  T acc_k[kAccumulators] = {}, acc_v[kAccumulators] = {};
  const int64_t first_query = first_key > offset ? first_key - offset : 0;  // the first to see one
  for (int64_t start = first_query; start < Tq; start += kTile) {
    __syncthreads();
    load_rows(q_tile, stride, q + pair * Tq * D, start, kTile, Tq, D);
    load_rows(do_tile, stride, d_out + pair * Tq * D, start, kTile, Tq, D);
    for (int64_t r = threadIdx.x; r < kTile; r += blockDim.x) {
      const bool inside = start + r < Tq;
      lse_tile[r] = inside ? lse[pair * Tq + start + r] : T(-INFINITY);
      delta_tile[r] = inside ? delta[pair * Tq + start + r] : T(0);
    }
    __syncthreads();
    if (!active) continue;
    const int64_t t = start + lane;
    const bool visible = t < Tq && s <= offset + t && lse_tile[lane] != T(-INFINITY);
    T weight = 0, d_score = 0;
    if (visible) {  // inverts forward's p and weight lines, as in the query kernel
      const T p =
          T(::exp(scale * dot(q_tile + lane * stride, k_rows + warp * D, D) - lse_tile[lane]));
      const T keep = T(dropout_factor(dropout_p, dropout_seed, pair * Tq + t, s, Tk));
      weight = p * keep;
      d_score = p * (dot(do_tile + lane * stride, v_rows + warp * D, D) * keep - delta_tile[lane]);
    }
    for (int j = 0; j < kTile; ++j) {
      const T w = __shfl_sync(kFullWarp, weight, j), g = __shfl_sync(kFullWarp, d_score, j);
      if (w == T(0) && g == T(0)) continue;
      for (int i = 0; i < kAccumulators; ++i) {
        const int64_t d = lane + i * kWarp;
        if (d >= D) continue;
        acc_v[i] += w * do_tile[j * stride + d];
        acc_k[i] += g * q_tile[j * stride + d];
      }
    }
  }
  if (!active) return;
  for (int i = 0; i < kAccumulators; ++i) {
    const int64_t d = lane + i * kWarp;
    if (d >= D) continue;
    if (d_v) d_v[(pair * Tk + s) * D + d] += acc_v[i];
    if (d_k) d_k[(pair * Tk + s) * D + d] += scale * acc_k[i];
  }
}

}  // namespace cuda::kernels

namespace cuda {
// Launches a fused-attention kernel over grid (row blocks, B·H pairs) with `shared` bytes of
// dynamic shared memory (past the default 48 KiB only for double at large D). The kernel's last
// parameter is the first pair of its launch: a grid's y extent stops at 65535, so more pairs take
// several launches.
template <class... Params, class... Args>
void launch_flash(const char* name, void (*kernel)(Params...), int64_t rows, int64_t pairs,
                  std::size_t shared, Args&&... args) {
  constexpr std::size_t kDefaultShared = 48 * 1024;
  constexpr int64_t kMaxGridY = 65535;
  if (shared > kDefaultShared)
    TLCR_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)));
  const unsigned row_blocks =
      unsigned((rows + kernels::kRowsPerBlock - 1) / kernels::kRowsPerBlock);
  for (int64_t first = 0; first < pairs; first += kMaxGridY) {
    const dim3 grid(row_blocks, unsigned(std::min(kMaxGridY, pairs - first)));
    kernel<<<grid, kernels::kRowsPerBlock * kernels::kWarp, shared, stream()>>>(args..., first);
    check_launch(name);
  }
}

inline void check_flash_sizes(const char* op, const AttentionSizes& s) {
  TLCR_CHECK(flash_attention_fits(s), op, ": head size D ≤ ", kFlashMaxHeadDim,
             " expected by the fused kernel, found D = ", s.head_dim,
             " (the materialized kernel of cuda/attention.cuh takes any D)");
}
}  // namespace cuda

// out (B,H,Tq,D) = softmax(scale · Q·Kᵀ, causal + key mask) · V, and lse (B,H,Tq) its rows'
// log-sum-exp (−∞ for a row that sees nothing), for flash_attention_backward. key_mask: (B·Tk)
// bytes on the device, or undefined for none.
template <class T>
void flash_attention_forward(Tensor<T, Cuda>& out, Tensor<T, Cuda>& lse, const Tensor<T, Cuda>& q,
                             const Tensor<T, Cuda>& k, const Tensor<T, Cuda>& v,
                             const Tensor<uint8_t, Cuda>& key_mask, int64_t offset = 0,
                             AttentionDropout dropout = {}) {
  const char* op = "flash_attention_forward";
  const AttentionSizes s =
      attention_sizes(op, q.shape(), k.shape(), v.shape(),
                      key_mask.defined() ? std::size_t(key_mask.numel()) : 0, offset);
  cuda::check_flash_sizes(op, s);
  check_same_shape(op, out.shape(), q.shape(), "out", "q");
  check_same_shape(op, lse.shape(), Shape{s.batch, s.heads, s.queries}, "lse", "(B,H,Tq)");
  check_dropout_probability(dropout.p);
  const int64_t pairs = s.batch * s.heads, D = s.head_dim;
  if (pairs * s.queries == 0) return;
  using namespace cuda::kernels;
  const std::size_t shared = sizeof(T) * (2 * kTile * (D + 1) + kRowsPerBlock * D);
  cuda::launch_flash(op, flash_forward_kernel<T>, s.queries, pairs, shared, cuda::raw(out),
                     cuda::raw(lse), cuda::raw(q), cuda::raw(k), cuda::raw(v),
                     key_mask.defined() ? cuda::raw(key_mask) : nullptr, T(1) / std::sqrt(T(D)),
                     s.heads, s.queries, s.keys, D, offset, dropout.active() ? dropout.p : 0.0,
                     dropout.seed);
}

// Given d_out and forward's out and lse, adds dL/dq, dL/dk, dL/dv (nullptr = not needed);
// key_mask, offset and dropout must be forward's.
template <class T>
void flash_attention_backward(Tensor<T, Cuda>* d_q, Tensor<T, Cuda>* d_k, Tensor<T, Cuda>* d_v,
                              const Tensor<T, Cuda>& d_out, const Tensor<T, Cuda>& out,
                              const Tensor<T, Cuda>& lse, const Tensor<T, Cuda>& q,
                              const Tensor<T, Cuda>& k, const Tensor<T, Cuda>& v,
                              const Tensor<uint8_t, Cuda>& key_mask, int64_t offset = 0,
                              AttentionDropout dropout = {}) {
  const char* op = "flash_attention_backward";
  const AttentionSizes s =
      attention_sizes(op, q.shape(), k.shape(), v.shape(),
                      key_mask.defined() ? std::size_t(key_mask.numel()) : 0, offset);
  cuda::check_flash_sizes(op, s);
  check_same_shape(op, d_out.shape(), q.shape(), "d_out", "q");
  check_same_shape(op, out.shape(), q.shape(), "out", "q");
  check_same_shape(op, lse.shape(), Shape{s.batch, s.heads, s.queries}, "lse", "(B,H,Tq)");
  if (d_q) check_same_shape(op, d_q->shape(), q.shape(), "d_q", "q");
  if (d_k) check_same_shape(op, d_k->shape(), k.shape(), "d_k", "k");
  if (d_v) check_same_shape(op, d_v->shape(), v.shape(), "d_v", "v");
  const int64_t pairs = s.batch * s.heads, Tq = s.queries, D = s.head_dim;
  if (pairs * Tq == 0 || (!d_q && !d_k && !d_v)) return;
  using namespace cuda::kernels;
  const T scale = T(1) / std::sqrt(T(D));
  const uint8_t* mask = key_mask.defined() ? cuda::raw(key_mask) : nullptr;
  const double p = dropout.active() ? dropout.p : 0.0;
  Tensor<T, Cuda> delta = Tensor<T, Cuda>::uninitialized(Shape{pairs, Tq});
  const int64_t rows_per_block = cuda::kThreadsPerBlock / kWarp;
  flash_delta_kernel<T>
      <<<unsigned((pairs * Tq + rows_per_block - 1) / rows_per_block), cuda::kThreadsPerBlock, 0,
         cuda::stream()>>>(cuda::raw(delta), cuda::raw(d_out), cuda::raw(out), D, pairs * Tq);
  cuda::check_launch("flash_attention_backward (delta)");
  if (d_q) {
    const std::size_t shared = sizeof(T) * (2 * kTile * (D + 1) + 2 * kRowsPerBlock * D);
    cuda::launch_flash("flash_attention_backward (dq)", flash_backward_query_kernel<T>, Tq, pairs,
                       shared, cuda::raw(*d_q), cuda::raw(d_out), cuda::raw(lse), cuda::raw(delta),
                       cuda::raw(q), cuda::raw(k), cuda::raw(v), mask, scale, s.heads, Tq, s.keys,
                       D, offset, p, dropout.seed);
  }
  if (d_k || d_v) {
    const std::size_t shared =
        sizeof(T) * (2 * kTile * (D + 1) + 2 * kRowsPerBlock * D + 2 * kTile);
    cuda::launch_flash("flash_attention_backward (dk, dv)", flash_backward_key_kernel<T>,
                       s.visible_keys(), pairs, shared, d_k ? cuda::raw(*d_k) : nullptr,
                       d_v ? cuda::raw(*d_v) : nullptr, cuda::raw(d_out), cuda::raw(lse),
                       cuda::raw(delta), cuda::raw(q), cuda::raw(k), cuda::raw(v), mask, scale,
                       s.heads, Tq, s.keys, D, offset, p, dropout.seed);
  }
}

}  // namespace tlcr
