// tlcr/cuda/shape_ops.cuh — ops/shape_ops.hpp's kernels on Tensor<T, Cuda>: swapping two axes,
// slicing and concatenating along one axis, their backward passes, and writing new time steps into
// a KV cache.
//
// Every kernel is a copy (or an add, in backward) with one thread per element written, so the
// results are the CPU's bits.
// Shape legend: along an axis a tensor is (outer, n, inner); transposes pad shapes to rank 4.
// Not here: the shape rules (ops/shape_ops.hpp).
#pragma once

#include <array>
#include <vector>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/shape_ops.hpp"

namespace tlcr {

namespace cuda::kernels {
// dst[o, dst_begin + j, :] (+)= src[o, src_begin + j, :] for o < outer, j < count.
template <class T>
__global__ void copy_axis_range_kernel(T* dst, int64_t dst_n, int64_t dst_begin, const T* src,
                                       int64_t src_n, int64_t src_begin, int64_t count,
                                       int64_t outer, int64_t inner, bool accumulate) {
  const int64_t block = count * inner;
  for (int64_t e = grid_index(); e < outer * block; e += grid_stride()) {
    const int64_t o = e / block, within = e % block;
    T* d = dst + (o * dst_n + dst_begin) * inner + within;
    const T s = src[(o * src_n + src_begin) * inner + within];
    *d = accumulate ? *d + s : s;
  }
}

// Output element (i0, i1, i2, i3) of the swapped shape reads src at Σ i_k·stride_k, the strides
// already swapped.
struct SwapLayout {
  int64_t dims[4], strides[4];
};
template <class T>
__global__ void swap_axes_kernel(T* dst, const T* src, SwapLayout layout, int64_t total,
                                 bool accumulate) {
  for (int64_t e = grid_index(); e < total; e += grid_stride()) {
    int64_t rest = e, offset = 0;
    for (int k = 3; k >= 0; --k) {
      offset += (rest % layout.dims[k]) * layout.strides[k];
      rest /= layout.dims[k];
    }
    dst[e] = accumulate ? dst[e] + src[offset] : src[offset];
  }
}
}  // namespace cuda::kernels

namespace cuda {
template <class T>
void copy_axis_range(T* dst, int64_t dst_n, int64_t dst_begin, const T* src, int64_t src_n,
                     int64_t src_begin, int64_t count, int64_t outer, int64_t inner,
                     bool accumulate) {
  if (outer * count * inner == 0) return;
  launch("copy_axis_range", kernels::copy_axis_range_kernel<T>, outer * count * inner, dst, dst_n,
         dst_begin, src, src_n, src_begin, count, outer, inner, accumulate);
}

// dst (+)= src with axes a and b swapped (the CPU's swap_axes_copy, a thread per element).
template <class T>
void swap_axes_copy(T* dst, const T* src, const Shape& src_shape, int axis_a, int axis_b,
                    bool accumulate) {
  const int pad = Shape::kMaxRank - src_shape.rank;
  kernels::SwapLayout layout{{1, 1, 1, 1}, {}};
  for (int i = 0; i < src_shape.rank; ++i) layout.dims[pad + i] = src_shape.dims[i];
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) layout.strides[i] = stride, stride *= layout.dims[i];
  std::swap(layout.dims[pad + axis_a], layout.dims[pad + axis_b]);
  std::swap(layout.strides[pad + axis_a], layout.strides[pad + axis_b]);
  if (src_shape.numel() == 0) return;
  launch("swap_axes", kernels::swap_axes_kernel<T>, src_shape.numel(), dst, src, layout,
         src_shape.numel(), accumulate);
}
}  // namespace cuda

// out = x with axes a and b swapped.
template <class T>
void transpose_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, int axis_a, int axis_b) {
  check_same_shape("transpose", out.shape(), transpose_output_shape(x.shape(), axis_a, axis_b),
                   "out", "x with axes swapped");
  cuda::swap_axes_copy(cuda::raw(out), static_cast<const T*>(cuda::raw(x)), x.shape(),
                       ::tlcr::detail::normalize_axis("transpose", axis_a, x.shape()),
                       ::tlcr::detail::normalize_axis("transpose", axis_b, x.shape()), false);
}

// forward: out = swap_ab(x) → d x += swap_ab(d out).
template <class T>
void transpose_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, int axis_a,
                        int axis_b) {
  cuda::swap_axes_copy(cuda::raw(d_x), static_cast<const T*>(cuda::raw(d_out)), d_out.shape(),
                       ::tlcr::detail::normalize_axis("transpose", axis_a, d_out.shape()),
                       ::tlcr::detail::normalize_axis("transpose", axis_b, d_out.shape()), true);
}

// out = x[…, begin : begin + out.dim(axis), …] along `axis`.
template <class T>
void slice_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& x, int axis, int64_t begin) {
  const AxisSplit s = split_axis("slice", x.shape(), axis);
  const int64_t count = out.shape()[axis];
  check_same_shape("slice", out.shape(), slice_output_shape(x.shape(), axis, begin, begin + count),
                   "out", "slice of x");
  cuda::copy_axis_range(cuda::raw(out), count, 0, static_cast<const T*>(cuda::raw(x)), s.n, begin,
                        count, s.outer, s.inner, false);
}

// forward: out = x[…, begin : begin + count, …] → d x[…, begin : begin + count, …] += d out.
template <class T>
void slice_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_out, int axis, int64_t begin) {
  const AxisSplit s = split_axis("slice", d_x.shape(), axis);
  const int64_t count = d_out.shape()[axis];
  cuda::copy_axis_range(cuda::raw(d_x), s.n, begin, static_cast<const T*>(cuda::raw(d_out)), count,
                        0, count, s.outer, s.inner, true);
}

// out = [inputs[0], inputs[1], …] along `axis`.
template <class T>
void concat_forward(Tensor<T, Cuda>& out, const std::vector<Tensor<T, Cuda>>& inputs, int axis) {
  std::vector<Shape> shapes;
  for (const auto& input : inputs) shapes.push_back(input.shape());
  check_same_shape("concat", out.shape(), concat_output_shape(shapes, axis), "out",
                   "joined inputs");
  const AxisSplit s = split_axis("concat", out.shape(), axis);
  int64_t offset = 0;
  for (const auto& input : inputs) {
    const int64_t n = input.shape()[axis];
    cuda::copy_axis_range(cuda::raw(out), s.n, offset, static_cast<const T*>(cuda::raw(input)), n,
                          0, n, s.outer, s.inner, false);
    offset += n;
  }
}

// forward: out[…, offset_i : offset_i + n_i, …] = inputs[i] → d inputs[i] += that block of d out.
template <class T>
void concat_backward(const std::vector<Tensor<T, Cuda>*>& d_inputs,
                     const std::vector<int64_t>& sizes, const Tensor<T, Cuda>& d_out, int axis) {
  TLCR_CHECK(d_inputs.size() == sizes.size(), "concat_backward: ", d_inputs.size(),
             " gradients for ", sizes.size(), " input sizes");
  const AxisSplit s = split_axis("concat", d_out.shape(), axis);
  int64_t offset = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (d_inputs[i])
      cuda::copy_axis_range(cuda::raw(*d_inputs[i]), sizes[i], 0,
                            static_cast<const T*>(cuda::raw(d_out)), s.n, offset, sizes[i], s.outer,
                            s.inner, true);
    offset += sizes[i];
  }
}

// Writes x (B, H, n, D) into time steps [offset, offset + n) of cache (B, H, capacity, D).
template <class T>
void write_time_steps(Tensor<T, Cuda>& cache, const Tensor<T, Cuda>& x, int64_t offset) {
  TLCR_CHECK(cache.rank() == 4 && x.rank() == 4 && cache.dim(0) == x.dim(0) &&
                 cache.dim(1) == x.dim(1) && cache.dim(3) == x.dim(3) && offset >= 0 &&
                 offset + x.dim(2) <= cache.dim(2),
             "write_time_steps: cannot write ", x.shape().str(), " at step ", offset, " of ",
             cache.shape().str());
  // cache viewed as (B·H, capacity, D) and x as (B·H, n, D): a range of the time axis.
  cuda::copy_axis_range(cuda::raw(cache), cache.dim(2), offset, static_cast<const T*>(cuda::raw(x)),
                        x.dim(2), 0, x.dim(2), x.dim(0) * x.dim(1), x.dim(3), false);
}

}  // namespace tlcr
