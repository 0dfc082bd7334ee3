// tlcr/cuda/embedding.cuh — ops/embedding.hpp's kernels on Tensor<T, Cuda>: the lookup of table
// rows by id and its scatter-add backward, with the ids on the host (a span, uploaded once) or
// already on the device (a Tensor<int32_t, Cuda>, as models pass them).
//
// Ids on the host are checked there, as on the CPU. Ids on the device are checked by a kernel that
// finds the first one out of range (atomicMin of its position: the minimum does not depend on the
// order); one int crosses back, and only a bad id's value after it, for the message.
// The backward gives each thread one column and walks the ids in order, so a repeated id adds its
// rows in the CPU's order: the same bits as the CPU, and no two threads write one element.
// Shape legend: table (V, C); ids (…) with N elements; out (…, C).
// Not here: the CPU kernels and the checks' wording (ops/embedding.hpp).
#pragma once

#include <climits>
#include <span>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/embedding.hpp"

namespace tlcr {

namespace cuda::kernels {
// first_bad = the least position n with ids[n] outside [0, vocab) (stays INT_MAX if none).
template <class Id>
__global__ void find_bad_id_kernel(int* first_bad, const Id* ids, int64_t count, int64_t vocab) {
  for (int64_t n = grid_index(); n < count; n += grid_stride())
    if (ids[n] < 0 || ids[n] >= vocab) atomicMin(first_bad, int(n));
}

template <class T>
__global__ void embedding_forward_kernel(T* out, const T* table, const int32_t* ids, int64_t count,
                                         int64_t cols) {
  for (int64_t e = grid_index(); e < count * cols; e += grid_stride())
    out[e] = table[int64_t(ids[e / cols]) * cols + e % cols];
}

// Thread per column c: d_table[ids[n], c] += d_out[n, c] for n = 0, 1, … in order.
template <class T>
__global__ void embedding_backward_kernel(T* d_table, const T* g, const int32_t* ids, int64_t count,
                                          int64_t cols) {
  for (int64_t c = grid_index(); c < cols; c += grid_stride())
    for (int64_t n = 0; n < count; ++n) d_table[int64_t(ids[n]) * cols + c] += g[n * cols + c];
}
}  // namespace cuda::kernels

namespace cuda {
// Throws like the CPU's check (op, id, position, vocabulary) if an id on the device is out of
// range; shapes were checked by the caller.
inline void check_device_ids(const char* op, const Tensor<int32_t, Cuda>& ids,
                             const Shape& id_shape, int64_t vocab) {
  if (ids.numel() == 0) return;
  Tensor<int32_t, Cuda> first_bad = Tensor<int32_t, Cuda>::full(Shape{1}, INT_MAX);
  launch("embedding id check", kernels::find_bad_id_kernel<int32_t>, ids.numel(),
         reinterpret_cast<int*>(raw(first_bad)), static_cast<const int32_t*>(raw(ids)), ids.numel(),
         vocab);
  const int32_t position = first_bad.item();
  if (position == INT_MAX) return;
  const int32_t id = ids.reshape(Shape{ids.numel()}).slice(position, position + 1).item();
  ::tlcr::detail::fail(
      op, ": id ", id, " at position ", ::tlcr::detail::index_str(position, id_shape),
      " is out of range for a table of ", vocab, " rows (expected 0 <= id < ", vocab, ")");
}

// out = table[ids] and d_table[ids] += d_out, ids already checked.
template <class T>
void embedding_gather(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& table,
                      const Tensor<int32_t, Cuda>& ids) {
  const int64_t cols = table.shape().cols(), count = ids.numel();
  if (count * cols == 0) return;
  launch("embedding_forward", kernels::embedding_forward_kernel<T>, count * cols, raw(out),
         static_cast<const T*>(raw(table)), static_cast<const int32_t*>(raw(ids)), count, cols);
}
template <class T>
void embedding_scatter_add(Tensor<T, Cuda>& d_table, const Tensor<T, Cuda>& d_out,
                           const Tensor<int32_t, Cuda>& ids) {
  const int64_t cols = d_table.shape().cols(), count = ids.numel();
  if (count * cols == 0) return;
  launch("embedding_backward", kernels::embedding_backward_kernel<T>, cols, raw(d_table),
         static_cast<const T*>(raw(d_out)), static_cast<const int32_t*>(raw(ids)), count, cols);
}

inline void check_embedding_shapes(const char* op, const Shape& ids, const Shape& id_shape,
                                   const Shape& table, const Shape& out, const char* out_name) {
  check_same_shape(op, out, embedding_output_shape(id_shape, table), out_name, "ids + [C]");
  TLCR_CHECK(ids.numel() == id_shape.numel(), op, ": ", ids.numel(),
             " ids do not fill the id shape ", id_shape.str());
}
}  // namespace cuda

// out (…, C) = table (V, C) [ids (…)], ids on the device.
template <class T>
void embedding_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& table,
                       const Tensor<int32_t, Cuda>& ids, const Shape& id_shape) {
  cuda::check_embedding_shapes("embedding", ids.shape(), id_shape, table.shape(), out.shape(),
                               "out");
  cuda::check_device_ids("embedding", ids, id_shape, table.dim(0));
  cuda::embedding_gather(out, table, ids);
}

// forward: out[n] = table[ids[n]] → d table[ids[n]] += d out[n], ids in order; ids on the device.
template <class T>
void embedding_backward(Tensor<T, Cuda>& d_table, const Tensor<T, Cuda>& d_out,
                        const Tensor<int32_t, Cuda>& ids, const Shape& id_shape) {
  cuda::check_embedding_shapes("embedding_backward", ids.shape(), id_shape, d_table.shape(),
                               d_out.shape(), "d_out");
  cuda::check_device_ids("embedding_backward", ids, id_shape, d_table.dim(0));
  cuda::embedding_scatter_add(d_table, d_out, ids);
}

// The same with the ids on the host: checked there, then uploaded once.
template <class T>
void embedding_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& table,
                       std::span<const int32_t> ids, const Shape& id_shape) {
  ::tlcr::detail::check_embedding_args("embedding", ids, id_shape, table.shape(), out.shape(),
                                       "out");
  cuda::embedding_gather(out, table, Tensor<int32_t, Cuda>::from(id_shape, ids));
}
template <class T>
void embedding_backward(Tensor<T, Cuda>& d_table, const Tensor<T, Cuda>& d_out,
                        std::span<const int32_t> ids, const Shape& id_shape) {
  ::tlcr::detail::check_embedding_args("embedding_backward", ids, id_shape, d_table.shape(),
                                       d_out.shape(), "d_out");
  cuda::embedding_scatter_add(d_table, d_out, Tensor<int32_t, Cuda>::from(id_shape, ids));
}

}  // namespace tlcr
