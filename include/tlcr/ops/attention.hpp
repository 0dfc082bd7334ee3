// tlcr/ops/attention.hpp — fused causal multi-head self-attention core, forward and backward.
//
// For every batch row b and head h, independently:
//   S = scale · Q·Kᵀ,  scale = 1/√D
//   query t sees key s only when s ≤ offset + t (causal) and key s is not padded
//   P = softmax of S over the keys each row sees (stable: the row max is subtracted first)
//   out = P·V
// P (B,H,Tq,Tk) is all that backward needs; forward keeps it in `probs` when asked to.
// A query row that sees no key (all its keys padded) gets out = 0 and a zero gradient, not NaN.
// Attention dropout (training only): out = (P ⊙ M)·V with M a dropout mask (ops/dropout.hpp) over
// (B,H,Tq,Tk) that is never stored: entry (pair, t, s) is drawn from the flat index
// (pair·Tq + t)·Tk + s, in forward and again in backward.
//
// KV-cache decoding: q holds the Tq newest positions offset … offset+Tq−1 of a sequence whose keys
// and values are k and v. Query t attends to keys 0 … offset+t. k and v may hold more rows than
// offset + Tq (a preallocated cache passed whole): rows from offset + Tq on are never read.
// offset = 0 with Tk = Tq is ordinary training-time self-attention. Backward works for any offset,
// though training only uses offset = 0.
//
// Within a pair, queries go in blocks of 64 rows and each block's products stop at the last key it
// can see, which skips most of the causal upper triangle (detail::query_blocks).
// Work is split over the B·H (b, h) pairs with parallel_for. Each pair is independent and computed
// by one thread, its matrix products (ops/matmul.hpp's gemm: the packed float GEMM, or Eigen)
// running single-threaded inside our parallel region, so results are deterministic and the same for
// every thread count. The 1/√D scale is applied inside the softmax, not to the product. Not here:
// the q/k/v/output projections, splitting or merging heads (heads.hpp, shape_ops.hpp), non-causal
// attention. Shape legend: B batch, H heads, Tq queries, Tk stored keys, Tv = offset
// + Tq keys that can be seen, D head size; key_mask (B, Tk): 1 = real token, 0 = padding (an empty
// span: no padding).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/dropout.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/matmul.hpp"

namespace tlcr {

struct AttentionSizes {
  int64_t batch, heads, queries, keys, head_dim, offset;

  int64_t visible_keys() const { return offset + queries; }  // Tv
  Shape probs_shape() const { return {batch, heads, queries, keys}; }
};

// Validates q (B,H,Tq,D), k and v (B,H,Tk,D), the key mask (B·Tk entries or none) and the offset.
inline AttentionSizes attention_sizes(const char* op, const Shape& q, const Shape& k,
                                      const Shape& v, std::size_t key_mask_size, int64_t offset) {
  if (q.rank != 4 || k.rank != 4 || v.rank != 4)
    detail::fail(op, ": expected q, k, v of rank 4 (B,H,T,D), got q ", q.str(), ", k ", k.str(),
                 ", v ", v.str());
  check_same_shape(op, k, v, "k", "v");
  if (q.dims[0] != k.dims[0] || q.dims[1] != k.dims[1] || q.dims[3] != k.dims[3])
    detail::fail(op, ": q (B,H,Tq,D) ", q.str(), " and k (B,H,Tk,D) ", k.str(),
                 " disagree on B, H or D");
  const AttentionSizes sizes{q.dims[0], q.dims[1], q.dims[2], k.dims[2], q.dims[3], offset};
  TLCR_CHECK(sizes.head_dim > 0, op, ": head size D must be positive, got q ", q.str());
  TLCR_CHECK(offset >= 0, op, ": offset must be ≥ 0, got ", offset);
  TLCR_CHECK(sizes.visible_keys() <= sizes.keys, op, ": offset ", offset, " + Tq ", sizes.queries,
             " needs that many keys, but k ", k.str(), " holds Tk = ", sizes.keys);
  TLCR_CHECK(key_mask_size == 0 || key_mask_size == std::size_t(sizes.batch * sizes.keys), op,
             ": key mask holds ", key_mask_size, " entries, expected B·Tk = ", sizes.batch, "·",
             sizes.keys, " = ", sizes.batch * sizes.keys, " (or none)");
  return sizes;
}

// Dropout on the attention probabilities: each entry of P dropped with probability p, the mask
// drawn from `seed`. p = 0: none.
// The fused kernels (cuda/flash_attention.cuh) keep only each query row's log-sum-exp for
// backward instead of the (Tq × Tk) probabilities; they take head sizes up to this (each of a
// warp's 32 lanes holds D / 32 accumulators).
inline constexpr int64_t kFlashMaxHeadDim = 128;
inline bool flash_attention_fits(const AttentionSizes& s) {
  return s.head_dim <= kFlashMaxHeadDim;
}
// Devices whose training-time attention uses the fused kernels when the sizes fit.
template <class D>
inline constexpr bool kFusedAttention = std::same_as<D, Cuda>;

struct AttentionDropout {
  double p = 0;
  uint64_t seed = 0;
  bool active() const { return p > 0; }
};

namespace detail {
// Multiplies the rows first … first + count − 1 of pair `pair`'s (Tq × Tk) mask into `block`
// (count × keys, its first columns): block ⊙= M. M's kept entries are 1/(1−p).
template <class T, class Block>
void apply_attention_dropout(Block&& block, const AttentionDropout& dropout,
                             const AttentionSizes& s, int64_t pair, int64_t first) {
  const T kept = dropout.p < 1 ? T(1.0 / (1.0 - dropout.p)) : T(0);
  for (int64_t t = 0; t < block.rows(); ++t) {
    const uint64_t row_start = uint64_t((pair * s.queries + first + t) * s.keys);
    for (int64_t key = 0; key < block.cols(); ++key)
      block(t, key) *=
          dropout_drops(dropout.seed, row_start + uint64_t(key), dropout.p) ? T(0) : kept;
  }
}

// The Tq × Tv block of one (b, h) pair inside a row-major (…, Tq, Tk) tensor: rows are Tk apart.
template <class T>
using StridedMatrixMap = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ConstStridedMatrixMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;

// Queries are processed in blocks of kQueryBlock rows; a block only needs the keys up to the one
// its last query sees (offset + last query), so the causal upper triangle is mostly never computed:
// for T = 256 in blocks of 64, 62.5% of the full Q·Kᵀ and P·V work.
constexpr int64_t kQueryBlock = 64;
struct QueryBlock {
  int64_t first, count, keys;  // query rows [first, first + count) see keys [0, keys)
};
inline std::vector<QueryBlock> query_blocks(const AttentionSizes& s) {
  std::vector<QueryBlock> blocks;
  for (int64_t first = 0; first < s.queries; first += kQueryBlock) {
    const int64_t count = std::min(kQueryBlock, s.queries - first);
    blocks.push_back({first, count, std::min(s.visible_keys(), s.offset + first + count)});
  }
  return blocks;
}

// Turns one row of unscaled scores q·k into probabilities softmax(scale · q·k) over the keys it
// sees: keys 0 … last_key that are not padded. Every other entry becomes 0; so does the whole row
// when it sees no key at all. scale > 0, so the largest score is also the largest scaled one.
template <class T>
void masked_softmax_row(T* row, int64_t row_size, int64_t last_key, const uint8_t* key_mask,
                        T scale) {
  auto visible = [&](int64_t s) { return s <= last_key && (!key_mask || key_mask[s] != 0); };
  bool any_visible = false;
  T row_max = -std::numeric_limits<T>::infinity();
  for (int64_t s = 0; s < row_size; ++s)
    if (visible(s)) {
      any_visible = true;
      row_max = std::max(row_max, row[s]);
    }
  if (!any_visible) {
    std::fill(row, row + row_size, T(0));
    return;
  }
  for (int64_t s = 0; s < row_size; ++s)
    row[s] = visible(s) ? fast_exp_nonpositive(scale * (row[s] - row_max)) : T(0);
  const T inverse = T(1.0 / lane_sum<T>(row_size, [&](int64_t s) {
                        return row[s];
                      }));  // sum ≥ 1: the max entry contributes exp(0)
  for (int64_t s = 0; s < row_size; ++s) row[s] *= inverse;
}

// Naive reference with explicit loops and double accumulation (the test oracle for the forward).
template <class T>
void causal_attention_ref(Tensor<T>& out, const Tensor<T>& q, const Tensor<T>& k,
                          const Tensor<T>& v, std::span<const uint8_t> key_mask = {},
                          int64_t offset = 0) {
  const AttentionSizes s = attention_sizes("causal_attention_ref", q.shape(), k.shape(), v.shape(),
                                           key_mask.size(), offset);
  const int64_t D = s.head_dim;
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> scores(s.keys);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t t = 0; t < s.queries; ++t) {
        const T* q_row = q.data() + ((b * s.heads + h) * s.queries + t) * D;
        const T* k_head = k.data() + (b * s.heads + h) * s.keys * D;
        const T* v_head = v.data() + (b * s.heads + h) * s.keys * D;
        T* out_row = out.data() + ((b * s.heads + h) * s.queries + t) * D;
        double row_max = -std::numeric_limits<double>::infinity();
        bool any_visible = false;
        for (int64_t j = 0; j <= offset + t; ++j) {
          if (!key_mask.empty() && key_mask[b * s.keys + j] == 0) continue;
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += double(q_row[d]) * double(k_head[j * D + d]);
          scores[j] = dot * scale;
          row_max = std::max(row_max, scores[j]);
          any_visible = true;
        }
        for (int64_t d = 0; d < D; ++d) out_row[d] = T(0);
        if (!any_visible) continue;
        double sum = 0;
        std::vector<double> weighted(D, 0.0);
        for (int64_t j = 0; j <= offset + t; ++j) {
          if (!key_mask.empty() && key_mask[b * s.keys + j] == 0) continue;
          const double weight = std::exp(scores[j] - row_max);
          sum += weight;
          for (int64_t d = 0; d < D; ++d) weighted[d] += weight * double(v_head[j * D + d]);
        }
        for (int64_t d = 0; d < D; ++d) out_row[d] = T(weighted[d] / sum);
      }
}
}  // namespace detail

// out (B,H,Tq,D) = softmax(scale · Q·Kᵀ, causal + key mask) · V, or (P ⊙ M)·V with dropout. When
// `probs` is given it receives P (B,H,Tq,Tk) for backward, before dropout (columns Tv … Tk−1 are
// 0); pass nullptr when no gradient is needed.
template <class T>
void causal_attention_forward(Tensor<T>& out, Tensor<T>* probs, const Tensor<T>& q,
                              const Tensor<T>& k, const Tensor<T>& v,
                              std::span<const uint8_t> key_mask = {}, int64_t offset = 0,
                              AttentionDropout dropout = {}) {
  const char* op = "causal_attention_forward";
  const AttentionSizes s =
      attention_sizes(op, q.shape(), k.shape(), v.shape(), key_mask.size(), offset);
  check_same_shape(op, out.shape(), q.shape(), "out", "q");
  if (probs) check_same_shape(op, probs->shape(), s.probs_shape(), "probs", "(B,H,Tq,Tk)");
  check_dropout_probability(dropout.p);
  const int64_t Tq = s.queries, Tk = s.keys, Tv = s.visible_keys(), D = s.head_dim;
  const T scale = T(1) / std::sqrt(T(D));

  const std::vector<detail::QueryBlock> blocks =
      detail::query_blocks(s);  // the same for every pair
  parallel_for(0, s.batch * s.heads, 1, [&](int64_t pair_begin, int64_t pair_end) {
    RowMatrix<T> scratch;  // the Tq × Tv scores of one pair when probs are not kept
    if (!probs) scratch.resize(Tq, Tv);
    RowMatrix<T> dropped;  // P ⊙ M of one query block
    if (dropout.active()) dropped.resize(std::min(Tq, detail::kQueryBlock), Tv);
    for (int64_t pair = pair_begin; pair < pair_end; ++pair) {
      const int64_t b = pair / s.heads;
      ConstMatrixMap<T> Q(q.data() + pair * Tq * D, Tq, D);
      ConstMatrixMap<T> K(k.data() + pair * Tk * D, Tv, D);  // only the keys anyone can see
      ConstMatrixMap<T> V(v.data() + pair * Tk * D, Tv, D);
      MatrixMap<T> O(out.data() + pair * Tq * D, Tq, D);
      T* p_data = probs ? probs->data() + pair * Tq * Tk : scratch.data();
      const int64_t p_stride = probs ? Tk : Tv;
      const uint8_t* mask_row = key_mask.empty() ? nullptr : key_mask.data() + b * Tk;
      for (const detail::QueryBlock block : blocks) {
        detail::StridedMatrixMap<T> P(p_data + block.first * p_stride, block.count, block.keys,
                                      Eigen::OuterStride<>(p_stride));
        // scores Q·Kᵀ; the softmax applies the scale
        detail::gemm(P, Q.middleRows(block.first, block.count), K.topRows(block.keys), false, true,
                     false);
        for (int64_t t = block.first; t < block.first + block.count; ++t) {
          T* row = p_data + t * p_stride;
          detail::masked_softmax_row(row, block.keys, offset + t, mask_row, scale);
          std::fill(row + block.keys, row + p_stride, T(0));  // keys after the block's last query
        }
        auto O_block = O.middleRows(block.first, block.count);
        if (dropout.active()) {
          auto PM = dropped.topLeftCorner(block.count, block.keys);
          PM = P;
          detail::apply_attention_dropout<T>(PM, dropout, s, pair, block.first);
          detail::gemm(O_block, PM, V.topRows(block.keys), false, false, false);
        } else {
          detail::gemm(O_block, P, V.topRows(block.keys), false, false, false);
        }
      }
    }
  });
}

// Given d_out = dL/d(out) and the P that forward kept, adds dL/dq, dL/dk, dL/dv (nullptr = not
// needed). The key mask is not needed: padded and future keys have P = 0, so they get no gradient.
// `dropout` must be forward's: its mask is drawn again.
template <class T>
void causal_attention_backward(Tensor<T>* d_q, Tensor<T>* d_k, Tensor<T>* d_v,
                               const Tensor<T>& d_out, const Tensor<T>& probs, const Tensor<T>& q,
                               const Tensor<T>& k, const Tensor<T>& v, int64_t offset = 0,
                               AttentionDropout dropout = {}) {
  const char* op = "causal_attention_backward";
  const AttentionSizes s = attention_sizes(op, q.shape(), k.shape(), v.shape(), 0, offset);
  check_same_shape(op, d_out.shape(), q.shape(), "d_out", "q");
  check_same_shape(op, probs.shape(), s.probs_shape(), "probs", "(B,H,Tq,Tk)");
  const int64_t Tq = s.queries, Tk = s.keys, Tv = s.visible_keys(), D = s.head_dim;
  const T scale = T(1) / std::sqrt(T(D));

  const std::vector<detail::QueryBlock> blocks =
      detail::query_blocks(s);  // the same for every pair
  parallel_for(0, s.batch * s.heads, 1, [&](int64_t pair_begin, int64_t pair_end) {
    RowMatrix<T> dS_buffer(std::min(Tq, detail::kQueryBlock), Tv);  // dL/dP, then dL/dS, per block
    RowMatrix<T> dropped;                                           // P ⊙ M of one query block
    if (dropout.active()) dropped.resize(std::min(Tq, detail::kQueryBlock), Tv);
    for (int64_t pair = pair_begin; pair < pair_end; ++pair) {
      ConstMatrixMap<T> Q(q.data() + pair * Tq * D, Tq, D);
      ConstMatrixMap<T> K(k.data() + pair * Tk * D, Tv, D);
      ConstMatrixMap<T> V(v.data() + pair * Tk * D, Tv, D);
      ConstMatrixMap<T> dO(d_out.data() + pair * Tq * D, Tq, D);
      for (const detail::QueryBlock block : blocks) {
        // The block's rows of P, up to the last key its queries see (the rest of P is 0).
        detail::ConstStridedMatrixMap<T> P(probs.data() + pair * Tq * Tk + block.first * Tk,
                                           block.count, block.keys, Eigen::OuterStride<>(Tk));
        const auto dO_block = dO.middleRows(block.first, block.count);
        // forward: out = P·V, or (P ⊙ M)·V with dropout
        if (d_v) {
          MatrixMap<T> dV(d_v->data() + pair * Tk * D, block.keys, D);
          if (dropout.active()) {
            auto PM = dropped.topLeftCorner(block.count, block.keys);
            PM = P;
            detail::apply_attention_dropout<T>(PM, dropout, s, pair, block.first);
            detail::gemm(dV, PM, dO_block, true, false, true);  // dV += (P ⊙ M)ᵀ·dO
          } else {
            detail::gemm(dV, P, dO_block, true, false, true);  // dV += Pᵀ·dO
          }
        }
        if (!d_q && !d_k) continue;
        auto dS = dS_buffer.topLeftCorner(block.count, block.keys);
        detail::gemm(dS, dO_block, V.topRows(block.keys), false, true, false);  // dP = dO·Vᵀ
        if (dropout.active())  // … ⊙ M: the gradient reaches P only where M kept it
          detail::apply_attention_dropout<T>(dS, dropout, s, pair, block.first);
        // forward: P_t = softmax(S_t), S = scale · Q·Kᵀ → dS_t = P_t ⊙ (dP_t − ⟨dP_t, P_t⟩);
        // the buffer keeps scale · dS, the factor both products below need. O(keys) per row.
        for (int64_t t = 0; t < block.count; ++t) {
          const T row_dot = P.row(t).dot(dS.row(t));
          dS.row(t) = scale * (dS.row(t).array() - row_dot) * P.row(t).array();
        }
        if (d_q) {  // dQ += (scale · dS) · K
          auto dQ_block =
              MatrixMap<T>(d_q->data() + pair * Tq * D, Tq, D).middleRows(block.first, block.count);
          detail::gemm(dQ_block, dS, K.topRows(block.keys), false, false, true);
        }
        if (d_k) {  // dK += (scale · dS)ᵀ · Q
          MatrixMap<T> dK(d_k->data() + pair * Tk * D, block.keys, D);
          detail::gemm(dK, dS, Q.middleRows(block.first, block.count), true, false, true);
        }
      }
    }
  });
}

// The same with the key mask in a tensor on q's device, (B·Tk) bytes; undefined = no padding.
// (A template in Mask, so that a braced `{}` mask still means the empty span above.)
template <class T, class Mask>
requires std::same_as<Mask, Tensor<uint8_t>>
void causal_attention_forward(Tensor<T>& out, Tensor<T>* probs, const Tensor<T>& q,
                              const Tensor<T>& k, const Tensor<T>& v, const Mask& key_mask,
                              int64_t offset = 0, AttentionDropout dropout = {}) {
  const std::span<const uint8_t> mask =
      key_mask.defined() ? std::span<const uint8_t>(key_mask.data(), key_mask.numel())
                         : std::span<const uint8_t>();
  causal_attention_forward(out, probs, q, k, v, mask, offset, dropout);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(causal_attention_forward, causal_attention_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_ATTENTION_INSTANCES(extern_, T)                                                \
  extern_ template void causal_attention_forward<T>(                                            \
      Tensor<T>&, Tensor<T>*, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,             \
      std::span<const uint8_t>, int64_t, AttentionDropout);                                     \
  extern_ template void causal_attention_backward<T>(                                           \
      Tensor<T>*, Tensor<T>*, Tensor<T>*, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
      const Tensor<T>&, const Tensor<T>&, int64_t, AttentionDropout);                           \
  extern_ template void causal_attention_forward<T, Tensor<uint8_t>>(                           \
      Tensor<T>&, Tensor<T>*, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,             \
      const Tensor<uint8_t>&, int64_t, AttentionDropout);
TLCR_DECLARE_INSTANCES(TLCR_OPS_ATTENTION_INSTANCES)

}  // namespace tlcr
