// tlcr/cuda/heads.cuh — ops/heads.hpp's kernels on Tensor<T, Cuda>: the token layout (B,T,parts·C)
// to per-head tensors (B,H,T,D) and back, forward and backward.
//
// One thread per head-layout element of one part copies (or adds) it to or from its token-layout
// place: pure permutations, the CPU's bits.
// Shape legend: B = batch, T = time, H = heads, D = head size, C = H·D.
// Not here: the layout rules (ops/heads.hpp), attention.
#pragma once

#include <vector>

#include "tlcr/core/tensor.hpp"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/ops/heads.hpp"

namespace tlcr {

namespace cuda::kernels {
// head(b,h,t,d) ↔ tokens(b,t, part·C + h·D + d): to_heads copies tokens → head, else head →
// tokens; `add` accumulates into the destination.
template <class T>
__global__ void permute_heads_kernel(T* tokens, T* head, int64_t part, int64_t parts,
                                     int64_t n_heads, int64_t time, int64_t head_size,
                                     int64_t total, bool to_heads, bool add) {
  const int64_t width = n_heads * head_size;
  for (int64_t e = grid_index(); e < total; e += grid_stride()) {
    const int64_t d = e % head_size, t = (e / head_size) % time,
                  h = (e / (head_size * time)) % n_heads, b = e / (head_size * time * n_heads);
    T* token = tokens + (b * time + t) * parts * width + part * width + h * head_size + d;
    T* destination = to_heads ? head + e : token;
    const T source = to_heads ? *token : head[e];
    *destination = add ? *destination + source : source;
  }
}
}  // namespace cuda::kernels

namespace cuda {
template <class T>
void permute_heads(T* tokens, T* head, int64_t part, int64_t parts, int64_t batch, int64_t time,
                   int64_t n_heads, int64_t head_size, bool to_heads, bool add) {
  const int64_t total = batch * n_heads * time * head_size;
  if (total == 0) return;
  launch("permute_heads", kernels::permute_heads_kernel<T>, total, tokens, head, part, parts,
         n_heads, time, head_size, total, to_heads, add);
}
}  // namespace cuda

// x (B,T,parts·H·D) → outs[p] (B,H,T,D), p < parts.
template <class T>
void split_heads_forward(std::vector<Tensor<T, Cuda>>& outs, const Tensor<T, Cuda>& x,
                         int64_t n_heads) {
  const Shape& s = x.shape();
  const int64_t parts = static_cast<int64_t>(outs.size());
  TLCR_CHECK(s.rank == 3 && parts > 0 && s.dims[2] % (parts * n_heads) == 0,
             "split_heads: expected x (B,T,parts·H·D) with parts = ", parts, ", H = ", n_heads,
             ", got ", s.str());
  const int64_t head_size = s.dims[2] / (parts * n_heads);
  for (int64_t p = 0; p < parts; ++p) {
    check_same_shape("split_heads", outs[p].shape(),
                     Shape{s.dims[0], n_heads, s.dims[1], head_size}, "out", "(B,H,T,D)");
    cuda::permute_heads(cuda::raw(x), cuda::raw(outs[p]), p, parts, s.dims[0], s.dims[1], n_heads,
                        head_size, true, false);
  }
}

// forward: outs[p](b,h,t,d) = x(b,t,p·C + h·D + d) → d x(…) += d outs[p](b,h,t,d), for p = part.
template <class T>
void split_heads_backward(Tensor<T, Cuda>& d_x, const Tensor<T, Cuda>& d_part, int64_t part,
                          int64_t parts) {
  const Shape& s = d_x.shape();
  cuda::permute_heads(cuda::raw(d_x), cuda::raw(d_part), part, parts, s.dims[0], s.dims[1],
                      d_part.dim(1), d_part.dim(3), false, true);
}

// y (B,H,T,D) → out (B,T,H·D).
template <class T>
void merge_heads_forward(Tensor<T, Cuda>& out, const Tensor<T, Cuda>& y) {
  const Shape& s = y.shape();
  TLCR_CHECK(s.rank == 4, "merge_heads: expected y (B,H,T,D), got ", s.str());
  check_same_shape("merge_heads", out.shape(), Shape{s.dims[0], s.dims[2], s.dims[1] * s.dims[3]},
                   "out", "(B,T,H·D)");
  cuda::permute_heads(cuda::raw(out), cuda::raw(y), 0, 1, s.dims[0], s.dims[2], s.dims[1],
                      s.dims[3], false, false);
}

// forward: out(b,t,h·D + d) = y(b,h,t,d) → d y(b,h,t,d) += d out(b,t,h·D + d).
template <class T>
void merge_heads_backward(Tensor<T, Cuda>& d_y, const Tensor<T, Cuda>& d_out) {
  const Shape& s = d_y.shape();
  cuda::permute_heads(cuda::raw(d_out), cuda::raw(d_y), 0, 1, s.dims[0], s.dims[2], s.dims[1],
                      s.dims[3], true, true);
}

}  // namespace tlcr
