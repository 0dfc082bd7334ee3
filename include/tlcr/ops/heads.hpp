// tlcr/ops/heads.hpp — moving between the token layout (B,T,C) and the per-head layout (B,H,T,D).
//
// split_heads: x (B,T,parts·C) holding `parts` stacked projections [p₀ | p₁ | …] (e.g. q|k|v from
// one fused projection) → `parts` tensors (B,H,T,D) with C = H·D. merge_heads is the inverse for a
// single part: y (B,H,T,D) → (B,T,C). Both are pure permutations, so each backward is the other
// permutation, accumulated.
// Not here: the attention math (ops/attention.hpp).
// Shape legend: B = batch, T = time, H = heads, D = head size, C = H·D.
#pragma once

#include <vector>

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace detail {
// Copies (or adds) between token layout row (b,t) part p and head layout (b,h,t,:).
// to_heads: heads[p](b,h,t,d) (+)= tokens(b,t,p·C + h·D + d); otherwise the reverse direction.
// A null heads[p] skips that part.
template <class T>
void permute_heads(T* tokens, std::vector<T*> heads, int64_t batch, int64_t time, int64_t n_heads,
                   int64_t head_size, bool to_heads, bool add) {
  const int64_t parts = static_cast<int64_t>(heads.size());
  const int64_t width = n_heads * head_size;
  parallel_for(0, batch * time, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t b = row / time, t = row % time;
      for (int64_t p = 0; p < parts; ++p)
        for (int64_t h = 0; h < n_heads && heads[p]; ++h) {
          T* token_span = tokens + row * parts * width + p * width + h * head_size;
          T* head_span = heads[p] + ((b * n_heads + h) * time + t) * head_size;
          T* destination = to_heads ? head_span : token_span;
          const T* source = to_heads ? token_span : head_span;
          if (add)
            for (int64_t d = 0; d < head_size; ++d) destination[d] += source[d];
          else
            for (int64_t d = 0; d < head_size; ++d) destination[d] = source[d];
        }
    }
  });
}
}  // namespace detail

// x (B,T,parts·H·D) → outs[p] (B,H,T,D), p < parts. outs must be allocated with that shape.
template <class T>
void split_heads_forward(std::vector<Tensor<T>>& outs, const Tensor<T>& x, int64_t n_heads) {
  const Shape& s = x.shape();
  const int64_t parts = static_cast<int64_t>(outs.size());
  TLCR_CHECK(s.rank == 3 && parts > 0 && s.dims[2] % (parts * n_heads) == 0,
             "split_heads: expected x (B,T,parts·H·D) with parts = ", parts, ", H = ", n_heads,
             ", got ", s.str());
  const int64_t head_size = s.dims[2] / (parts * n_heads);
  std::vector<T*> heads;
  for (auto& out : outs) {
    check_same_shape("split_heads", out.shape(), Shape{s.dims[0], n_heads, s.dims[1], head_size},
                     "out", "(B,H,T,D)");
    heads.push_back(out.data());
  }
  detail::permute_heads(const_cast<T*>(x.data()), heads, s.dims[0], s.dims[1], n_heads, head_size,
                        true, false);
}

// forward: outs[p](b,h,t,d) = x(b,t,p·C + h·D + d) → d x(b,t,p·C + h·D + d) += d outs[p](b,h,t,d),
// for the single part p = `part` of `parts` (each part is its own autograd node).
template <class T>
void split_heads_backward(Tensor<T>& d_x, const Tensor<T>& d_part, int64_t part, int64_t parts) {
  const Shape& s = d_x.shape();
  std::vector<T*> heads(parts, nullptr);
  heads[part] = const_cast<T*>(d_part.data());
  detail::permute_heads(d_x.data(), heads, s.dims[0], s.dims[1], d_part.dim(1), d_part.dim(3),
                        false, true);
}

// y (B,H,T,D) → out (B,T,H·D).
template <class T>
void merge_heads_forward(Tensor<T>& out, const Tensor<T>& y) {
  const Shape& s = y.shape();
  TLCR_CHECK(s.rank == 4, "merge_heads: expected y (B,H,T,D), got ", s.str());
  check_same_shape("merge_heads", out.shape(), Shape{s.dims[0], s.dims[2], s.dims[1] * s.dims[3]},
                   "out", "(B,T,H·D)");
  detail::permute_heads(out.data(), std::vector<T*>{const_cast<T*>(y.data())}, s.dims[0], s.dims[2],
                        s.dims[1], s.dims[3], false, false);
}

// forward: out(b,t,h·D + d) = y(b,h,t,d) → d y(b,h,t,d) += d out(b,t,h·D + d).
template <class T>
void merge_heads_backward(Tensor<T>& d_y, const Tensor<T>& d_out) {
  const Shape& s = d_y.shape();
  detail::permute_heads(const_cast<T*>(d_out.data()), std::vector<T*>{d_y.data()}, s.dims[0],
                        s.dims[2], s.dims[1], s.dims[3], true, true);
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp).
TLCR_HOST_KERNELS(split_heads_forward, split_heads_backward, merge_heads_forward,
                  merge_heads_backward)

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_OPS_HEADS_INSTANCES(extern_, T)                                                     \
  extern_ template void split_heads_forward<T>(std::vector<Tensor<T>>&, const Tensor<T>&,        \
                                               int64_t);                                         \
  extern_ template void split_heads_backward<T>(Tensor<T>&, const Tensor<T>&, int64_t, int64_t); \
  extern_ template void merge_heads_forward<T>(Tensor<T>&, const Tensor<T>&);                    \
  extern_ template void merge_heads_backward<T>(Tensor<T>&, const Tensor<T>&);
TLCR_DECLARE_INSTANCES(TLCR_OPS_HEADS_INSTANCES)

}  // namespace tlcr
