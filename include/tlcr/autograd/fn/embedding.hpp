// tlcr/autograd/fn/embedding.hpp — differentiable embedding lookup.
// table (V, C), ids (…) given flat with their shape → out (…, C). Gradients flow to the table only;
// ids are copied, so the caller's buffer may change after the call. See ops/embedding.hpp.
#pragma once

#include <span>
#include <vector>

#include "tlcr/autograd/kept.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/embedding.hpp"

namespace tlcr {

namespace detail {
// The body of both overloads below: ids as a host span or a device tensor.
template <class T, class D, class Ids>
Var<T, D> embedding_of(const Var<T, D>& table, const Ids& ids, const Shape& id_shape) {
  Tensor<T, D> out(embedding_output_shape(id_shape, table.shape()));
  embedding_forward(out, table.value(), ids, id_shape);
  return record<T, D>("embedding", std::move(out), {table},
                      [table, ids = keep(ids), id_shape](const Tensor<T, D>& d_out) {
                        if (auto* d_table = table.grad_if_needed())
                          embedding_backward(*d_table, d_out, kept(ids), id_shape);
                      });
}
}  // namespace detail

// Rows of `table` picked by `ids`, which hold id_shape.numel() values in row-major order.
template <class T, class D>
Var<T, D> embedding(const Var<T, D>& table, std::span<const int32_t> ids, const Shape& id_shape) {
  return detail::embedding_of(table, ids, id_shape);
}

// The same with the ids already on the table's device (ids (…) int32, id_shape.numel() values). The
// tensor is held by the graph, not copied: do not write into it while the graph lives.
template <class T, class D>
Var<T, D> embedding(const Var<T, D>& table, const Tensor<int32_t, D>& ids, const Shape& id_shape) {
  return detail::embedding_of(table, ids, id_shape);
}

// Ids as one flat sequence: out (N, C).
template <class T, class D>
Var<T, D> embedding(const Var<T, D>& table, std::span<const int32_t> ids) {
  return embedding(table, ids, Shape{static_cast<int64_t>(ids.size())});
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_EMBEDDING_INSTANCES(extern_, T)                                                   \
  extern_ template Var<T> embedding<T, Cpu>(const Var<T>&, std::span<const int32_t>,              \
                                            const Shape&);                                        \
  extern_ template Var<T> embedding<T, Cpu>(const Var<T>&, const Tensor<int32_t>&, const Shape&); \
  extern_ template Var<T> embedding<T, Cpu>(const Var<T>&, std::span<const int32_t>);
TLCR_DECLARE_INSTANCES(TLCR_FN_EMBEDDING_INSTANCES)

}  // namespace tlcr
