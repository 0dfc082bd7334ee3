// tlcr/ops/shape_ops.hpp — moving data between shapes: swapping two axes, slicing one axis,
// concatenating along one axis. Forward and backward on raw tensors.
//
//   transpose  out = x with axes a and b swapped, e.g. (B,T,H,D) → (B,H,T,D) to split heads.
//   slice      out = x[…, begin:end, …] along one axis.
//   concat     out = [x_0, x_1, …] joined along one axis (the other sizes must agree).
// Every one is a copy (tensors are always contiguous); backward is the same copy in reverse,
// added into the gradient. Along an axis a tensor is viewed as (outer, n, inner) (see split_axis
// in reduce.hpp), so a slice or a concat piece is `outer` contiguous blocks of count·inner
// elements. Reshape needs no kernel: Tensor::reshape is already a view.
// Negative axes count from the end.
// Not here: general permutations of more than two axes, broadcasting, strided views.
// Shape legend: outer / inner = products of the sizes before / after the axis, n = its size.
#pragma once

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/reduce.hpp"

namespace tlcr {

namespace detail {
constexpr int64_t kCopyGrain = 1 << 15;  // elements per thread chunk: below this, copy serially

// dst[o, dst_begin + j, :] = (or +=) src[o, src_begin + j, :] for every o and j in [0, count),
// where dst is viewed as (outer, dst_n, inner) and src as (outer, src_n, inner).
template <class T>
void copy_axis_range(T* dst, int64_t dst_n, int64_t dst_begin, const T* src, int64_t src_n,
                     int64_t src_begin, int64_t count, int64_t outer, int64_t inner,
                     bool accumulate) {
  const int64_t block = count * inner;  // contiguous in both dst and src
  if (block == 0) return;
  parallel_for(0, outer, std::max<int64_t>(1, kCopyGrain / block), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      T* d = dst + (o * dst_n + dst_begin) * inner;
      const T* s = src + (o * src_n + src_begin) * inner;
      if (accumulate)
        for (int64_t j = 0; j < block; ++j) d[j] += s[j];
      else
        std::copy(s, s + block, d);
    }
  });
}

// Makes `axis` non-negative, or throws naming op and shape.
inline int normalize_axis(const char* op, int axis, const Shape& shape) {
  const int normalized = axis < 0 ? axis + shape.rank : axis;
  if (normalized < 0 || normalized >= shape.rank)
    fail(op, ": axis ", axis, " out of range for shape ", shape.str());
  return normalized;
}

// dst (+)= src with axes a and b swapped; src has shape src_shape, dst the swapped shape.
// Shapes are padded to rank 4 with leading 1s so one 4-deep loop covers every rank.
template <class T>
void swap_axes_copy(T* dst, const T* src, const Shape& src_shape, int axis_a, int axis_b,
                    bool accumulate) {
  const int pad = Shape::kMaxRank - src_shape.rank;
  std::array<int64_t, 4> src_dims{1, 1, 1, 1};
  for (int i = 0; i < src_shape.rank; ++i) src_dims[pad + i] = src_shape.dims[i];
  std::array<int64_t, 4> src_strides{};
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) src_strides[i] = stride, stride *= src_dims[i];
  // Output axis i reads source axis i, except that a and b trade places.
  std::array<int64_t, 4> dims = src_dims, strides = src_strides;
  std::swap(dims[pad + axis_a], dims[pad + axis_b]);
  std::swap(strides[pad + axis_a], strides[pad + axis_b]);
  parallel_for(0, dims[0] * dims[1], std::max<int64_t>(1, kCopyGrain / (dims[2] * dims[3] + 1)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t i0 = r / dims[1], i1 = r % dims[1];
                   T* d = dst + r * dims[2] * dims[3];
                   for (int64_t i2 = 0; i2 < dims[2]; ++i2) {
                     const T* s = src + i0 * strides[0] + i1 * strides[1] + i2 * strides[2];
                     for (int64_t i3 = 0; i3 < dims[3]; ++i3, ++d) {
                       if (accumulate)
                         *d += s[i3 * strides[3]];
                       else
                         *d = s[i3 * strides[3]];
                     }
                   }
                 }
               });
}
}  // namespace detail

// ---- transpose ---------------------------------------------------------------------------------

// x's shape with axes a and b swapped.
inline Shape transpose_output_shape(const Shape& x, int axis_a, int axis_b) {
  axis_a = detail::normalize_axis("transpose", axis_a, x);
  axis_b = detail::normalize_axis("transpose", axis_b, x);
  Shape out = x;
  std::swap(out.dims[axis_a], out.dims[axis_b]);
  return out;
}

// out = x with axes a and b swapped.
template <class T>
void transpose_forward(Tensor<T>& out, const Tensor<T>& x, int axis_a, int axis_b) {
  check_same_shape("transpose", out.shape(), transpose_output_shape(x.shape(), axis_a, axis_b),
                   "out", "x with axes swapped");
  detail::swap_axes_copy(out.data(), x.data(), x.shape(),
                         detail::normalize_axis("transpose", axis_a, x.shape()),
                         detail::normalize_axis("transpose", axis_b, x.shape()), false);
}

// forward: out = swap_ab(x) → d x += swap_ab(d out) (swapping twice is the identity).
template <class T>
void transpose_backward(Tensor<T>& d_x, const Tensor<T>& d_out, int axis_a, int axis_b) {
  detail::swap_axes_copy(d_x.data(), d_out.data(), d_out.shape(),
                         detail::normalize_axis("transpose", axis_a, d_out.shape()),
                         detail::normalize_axis("transpose", axis_b, d_out.shape()), true);
}

// ---- slice -------------------------------------------------------------------------------------

// x's shape with the axis resized to end − begin; requires 0 ≤ begin ≤ end ≤ n.
inline Shape slice_output_shape(const Shape& x, int axis, int64_t begin, int64_t end) {
  axis = detail::normalize_axis("slice", axis, x);
  TLCR_CHECK(0 <= begin && begin <= end && end <= x.dims[axis], "slice: range [", begin, ", ", end,
             ") out of bounds for axis ", axis, " of size ", x.dims[axis], " in shape ", x.str());
  Shape out = x;
  out.dims[axis] = end - begin;
  return out;
}

// out = x[…, begin : begin + out.dim(axis), …] along `axis`.
template <class T>
void slice_forward(Tensor<T>& out, const Tensor<T>& x, int axis, int64_t begin) {
  const AxisSplit s = split_axis("slice", x.shape(), axis);
  const int64_t count = out.shape()[axis];
  check_same_shape("slice", out.shape(), slice_output_shape(x.shape(), axis, begin, begin + count),
                   "out", "slice of x");
  detail::copy_axis_range(out.data(), count, 0, x.data(), s.n, begin, count, s.outer, s.inner,
                          false);
}

// forward: out = x[…, begin : begin + count, …] → d x[…, begin : begin + count, …] += d out.
template <class T>
void slice_backward(Tensor<T>& d_x, const Tensor<T>& d_out, int axis, int64_t begin) {
  const AxisSplit s = split_axis("slice", d_x.shape(), axis);
  const int64_t count = d_out.shape()[axis];
  detail::copy_axis_range(d_x.data(), s.n, begin, d_out.data(), count, 0, count, s.outer, s.inner,
                          true);
}

// ---- concat ------------------------------------------------------------------------------------

// The shape of the inputs joined along `axis`: all other sizes must agree.
inline Shape concat_output_shape(const std::vector<Shape>& shapes, int axis) {
  TLCR_CHECK(!shapes.empty(), "concat: no inputs");
  const Shape& first = shapes.front();
  axis = detail::normalize_axis("concat", axis, first);
  Shape out = first;
  out.dims[axis] = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    Shape other = shapes[i];
    bool compatible = other.rank == first.rank;
    for (int j = 0; compatible && j < first.rank; ++j)
      compatible = j == axis || other.dims[j] == first.dims[j];
    if (!compatible)
      detail::fail("concat: input ", i, " has shape ", other.str(), ", which differs from input 0 ",
                   first.str(), " outside axis ", axis);
    out.dims[axis] += other.dims[axis];
  }
  return out;
}

// out = [inputs[0], inputs[1], …] along `axis`.
template <class T>
void concat_forward(Tensor<T>& out, const std::vector<Tensor<T>>& inputs, int axis) {
  std::vector<Shape> shapes;
  for (const auto& input : inputs) shapes.push_back(input.shape());
  check_same_shape("concat", out.shape(), concat_output_shape(shapes, axis), "out",
                   "joined inputs");
  const AxisSplit s = split_axis("concat", out.shape(), axis);
  int64_t offset = 0;
  for (const auto& input : inputs) {
    const int64_t n = input.shape()[axis];
    detail::copy_axis_range(out.data(), s.n, offset, input.data(), n, 0, n, s.outer, s.inner,
                            false);
    offset += n;
  }
}

// forward: out[…, offset_i : offset_i + n_i, …] = inputs[i] → d inputs[i] += that block of d out.
// d_inputs[i] may be nullptr (no gradient needed); sizes[i] = n_i, the inputs' sizes along `axis`.
template <class T>
void concat_backward(const std::vector<Tensor<T>*>& d_inputs, const std::vector<int64_t>& sizes,
                     const Tensor<T>& d_out, int axis) {
  TLCR_CHECK(d_inputs.size() == sizes.size(), "concat_backward: ", d_inputs.size(),
             " gradients for ", sizes.size(), " input sizes");
  const AxisSplit s = split_axis("concat", d_out.shape(), axis);
  int64_t offset = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (d_inputs[i])
      detail::copy_axis_range(d_inputs[i]->data(), sizes[i], 0, d_out.data(), s.n, offset, sizes[i],
                              s.outer, s.inner, true);
    offset += sizes[i];
  }
}

// Writes x (B, H, n, D) into time steps [offset, offset + n) of cache (B, H, capacity, D): how a
// KV cache stores the keys and values of new steps.
template <class T>
void write_time_steps(Tensor<T>& cache, const Tensor<T>& x, int64_t offset) {
  TLCR_CHECK(cache.rank() == 4 && x.rank() == 4 && cache.dim(0) == x.dim(0) &&
                 cache.dim(1) == x.dim(1) && cache.dim(3) == x.dim(3) && offset >= 0 &&
                 offset + x.dim(2) <= cache.dim(2),
             "write_time_steps: cannot write ", x.shape().str(), " at step ", offset, " of ",
             cache.shape().str());
  const int64_t n = x.dim(2), capacity = cache.dim(2), head_size = x.dim(3);
  for (int64_t bh = 0; bh < x.dim(0) * x.dim(1); ++bh)
    std::copy_n(x.data() + bh * n * head_size, n * head_size,
                cache.data() + (bh * capacity + offset) * head_size);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(write_time_steps, transpose_forward, transpose_backward, slice_forward,
                  slice_backward, concat_forward, concat_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_SHAPE_OPS_INSTANCES(extern_, T)                                                \
  extern_ template void transpose_forward<T>(Tensor<T>&, const Tensor<T>&, int, int);           \
  extern_ template void transpose_backward<T>(Tensor<T>&, const Tensor<T>&, int, int);          \
  extern_ template void slice_forward<T>(Tensor<T>&, const Tensor<T>&, int, int64_t);           \
  extern_ template void slice_backward<T>(Tensor<T>&, const Tensor<T>&, int, int64_t);          \
  extern_ template void concat_forward<T>(Tensor<T>&, const std::vector<Tensor<T>>&, int);      \
  extern_ template void concat_backward<T>(const std::vector<Tensor<T>*>&,                      \
                                           const std::vector<int64_t>&, const Tensor<T>&, int); \
  extern_ template void write_time_steps<T>(Tensor<T>&, const Tensor<T>&, int64_t);
TLCR_DECLARE_INSTANCES(TLCR_OPS_SHAPE_OPS_INSTANCES)

}  // namespace tlcr
