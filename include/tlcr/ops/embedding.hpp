// tlcr/ops/embedding.hpp — embedding lookup (rows of a table picked by integer ids), forward and
// backward.
//
// Ids are a flat std::span<const int32_t> in row-major order plus the Shape they have, e.g.
// (B, T) token ids; out gets that shape with C appended. Every id is checked against V before any
// row is read. Backward scatter-adds d_out rows into d_table rows; a repeated id sums its rows in
// id order. Each thread owns a range of columns, so the result is the same for every thread count
// and no two threads ever write one element.
// Not here: the Module that owns the table (nn/), position embeddings (they are a plain lookup
// too). Shape legend: table (V, C); ids (…) with N elements; out (…, C).
#pragma once

#include <span>
#include <string>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

// The shape of an embedding lookup: id_shape with the table's C appended.
inline Shape embedding_output_shape(const Shape& id_shape, const Shape& table_shape) {
  TLCR_CHECK(table_shape.rank == 2, "embedding: expected a table of rank 2 (V, C), got ",
             table_shape.str());
  TLCR_CHECK(id_shape.rank < Shape::kMaxRank, "embedding: ids of shape ", id_shape.str(),
             " leave no room for the embedding axis (rank at most ", Shape::kMaxRank - 1, ")");
  Shape out = id_shape;
  out.dims[out.rank++] = table_shape.dims[1];
  return out;
}

namespace detail {
constexpr int64_t kEmbeddingGrain = 1 << 14;  // elements per thread chunk

// "[i, j, …]": the multi-index of element `flat` of a tensor of the given shape.
inline std::string index_str(int64_t flat, const Shape& shape) {
  std::string text = "]";
  for (int axis = shape.rank - 1; axis >= 0; --axis) {
    const int64_t size = std::max<int64_t>(shape.dims[axis], 1);
    text = (axis > 0 ? ", " : "") + std::to_string(flat % size) + text;
    flat /= size;
  }
  return "[" + text;
}

// Checks that ids fill id_shape, every id is in [0, vocab) and out (or d_out) has the lookup's
// shape.
inline void check_embedding_args(const char* op, std::span<const int32_t> ids,
                                 const Shape& id_shape, const Shape& table, const Shape& out,
                                 const char* out_name) {
  check_same_shape(op, out, embedding_output_shape(id_shape, table), out_name, "ids + [C]");
  TLCR_CHECK(static_cast<int64_t>(ids.size()) == id_shape.numel(), op, ": ", ids.size(),
             " ids do not fill the id shape ", id_shape.str());
  const int64_t vocab = table.dims[0];
  for (std::size_t n = 0; n < ids.size(); ++n)
    if (ids[n] < 0 || ids[n] >= vocab)
      fail(op, ": id ", ids[n], " at position ", index_str(int64_t(n), id_shape),
           " is out of range for a table of ", vocab, " rows (expected 0 <= id < ", vocab, ")");
}
}  // namespace detail

// out (…, C) = table (V, C) [ids (…)]: row n of out is row ids[n] of table.
template <class T>
void embedding_forward(Tensor<T>& out, const Tensor<T>& table, std::span<const int32_t> ids,
                       const Shape& id_shape) {
  detail::check_embedding_args("embedding", ids, id_shape, table.shape(), out.shape(), "out");
  const int64_t cols = table.shape().cols();
  parallel_for(0, int64_t(ids.size()),
               std::max<int64_t>(1, detail::kEmbeddingGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t n0, int64_t n1) {
                 for (int64_t n = n0; n < n1; ++n)
                   std::copy_n(table.data() + int64_t(ids[n]) * cols, cols, out.data() + n * cols);
               });
}

// forward: out[n] = table[ids[n]] → d table[ids[n]] += d out[n], ids visited in order.
template <class T>
void embedding_backward(Tensor<T>& d_table, const Tensor<T>& d_out, std::span<const int32_t> ids,
                        const Shape& id_shape) {
  detail::check_embedding_args("embedding_backward", ids, id_shape, d_table.shape(), d_out.shape(),
                               "d_out");
  const int64_t cols = d_table.shape().cols();
  const int64_t count = int64_t(ids.size());
  parallel_for(0, cols, std::max<int64_t>(1, detail::kEmbeddingGrain / std::max<int64_t>(count, 1)),
               [&](int64_t c0, int64_t c1) {
                 for (int64_t n = 0; n < count; ++n) {
                   const T* g = d_out.data() + n * cols;
                   T* row = d_table.data() + int64_t(ids[n]) * cols;
                   for (int64_t c = c0; c < c1; ++c) row[c] += g[c];
                 }
               });
}

// The same lookups with the ids in a tensor on the table's device (what models pass, so that ids
// cross to a device once per forward pass): ids (…) of int32.
template <class T>
void embedding_forward(Tensor<T>& out, const Tensor<T>& table, const Tensor<int32_t>& ids,
                       const Shape& id_shape) {
  embedding_forward(out, table, std::span<const int32_t>(ids.data(), ids.numel()), id_shape);
}
template <class T>
void embedding_backward(Tensor<T>& d_table, const Tensor<T>& d_out, const Tensor<int32_t>& ids,
                        const Shape& id_shape) {
  embedding_backward(d_table, d_out, std::span<const int32_t>(ids.data(), ids.numel()), id_shape);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(embedding_forward, embedding_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_EMBEDDING_INSTANCES(extern_, T)                                                   \
  extern_ template void embedding_forward<T>(Tensor<T>&, const Tensor<T>&,                         \
                                             std::span<const int32_t>, const Shape&);              \
  extern_ template void embedding_backward<T>(Tensor<T>&, const Tensor<T>&,                        \
                                              std::span<const int32_t>, const Shape&);             \
  extern_ template void embedding_forward<T>(Tensor<T>&, const Tensor<T>&, const Tensor<int32_t>&, \
                                             const Shape&);                                        \
  extern_ template void embedding_backward<T>(Tensor<T>&, const Tensor<T>&,                        \
                                              const Tensor<int32_t>&, const Shape&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_EMBEDDING_INSTANCES)

}  // namespace tlcr
