// tlcr/autograd/fn/heads.hpp — differentiable split into heads and merge of heads (ops/heads.hpp).
// split_heads: x (B,T,parts·H·D) → `parts` Vars (B,H,T,D); merge_heads: (B,H,T,D) → (B,T,H·D);
// repeat_heads: (B,Hkv,T,D) → (B,Hkv·n,T,D), each head n times in a row (grouped-query attention).
#pragma once

#include <vector>

#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/heads.hpp"

namespace tlcr {

template <class T, class D>
std::vector<Var<T, D>> split_heads(const Var<T, D>& x, int64_t parts, int64_t n_heads) {
  const Shape& s = x.shape();
  TLCR_CHECK(s.rank == 3 && parts > 0 && n_heads > 0 && s.dims[2] % (parts * n_heads) == 0,
             "split_heads: expected x (B,T,parts·H·D) with parts = ", parts, ", H = ", n_heads,
             ", got ", s.str());
  const Shape head_shape{s.dims[0], n_heads, s.dims[1], s.dims[2] / (parts * n_heads)};
  std::vector<Tensor<T, D>> values;
  for (int64_t p = 0; p < parts; ++p) values.push_back(Tensor<T, D>::uninitialized(head_shape));
  split_heads_forward(values, x.value(), n_heads);
  std::vector<Var<T, D>> outs;
  for (int64_t p = 0; p < parts; ++p)
    outs.push_back(record<T, D>("split_heads", std::move(values[p]), {x},
                                [x, p, parts](const Tensor<T, D>& d_part) {
                                  if (auto* d_x = x.grad_if_needed())
                                    split_heads_backward(*d_x, d_part, p, parts);
                                }));
  return outs;
}

template <class T, class D>
Var<T, D> merge_heads(const Var<T, D>& y) {
  const Shape& s = y.shape();
  TLCR_CHECK(s.rank == 4, "merge_heads: expected y (B,H,T,D), got ", s.str());
  auto out = Tensor<T, D>::uninitialized(Shape{s.dims[0], s.dims[2], s.dims[1] * s.dims[3]});
  merge_heads_forward(out, y.value());
  return record<T, D>("merge_heads", std::move(out), {y}, [y](const Tensor<T, D>& d_out) {
    if (auto* d_y = y.grad_if_needed()) merge_heads_backward(*d_y, d_out);
  });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_HEADS_INSTANCES(extern_, T)                                                  \
  extern_ template std::vector<Var<T>> split_heads<T, Cpu>(const Var<T>&, int64_t, int64_t); \
  extern_ template Var<T> merge_heads<T, Cpu>(const Var<T>&);
TLCR_DECLARE_INSTANCES(TLCR_FN_HEADS_INSTANCES)

// x (B,Hkv,T,D) → (B,Hkv·n,T,D): output head h is input head h / n, as Hugging Face's repeat_kv.
// Composed of reshape and concat, so its backward (the sum over each group) is theirs.
template <class T, class D>
Var<T, D> repeat_heads(const Var<T, D>& x, int64_t n) {
  const Shape& s = x.shape();
  TLCR_CHECK(s.rank == 4 && n > 0, "repeat_heads: expected x (B,Hkv,T,D) and n > 0, got ", s.str(),
             " and n = ", n);
  if (n == 1) return x;
  const Var<T, D> rows = reshape(x, Shape{s.dims[0], s.dims[1], 1, s.dims[2] * s.dims[3]});
  const Var<T, D> repeated = concat(std::vector<Var<T, D>>(n, rows), 2);  // (B,Hkv,n,T·D)
  return reshape(repeated, Shape{s.dims[0], s.dims[1] * n, s.dims[2], s.dims[3]});
}

}  // namespace tlcr
