// tlcr/autograd/fn/reduce.hpp — differentiable sum and mean: of everything (rank-0 result) or
// along one axis (that axis dropped). See ops/reduce.hpp.
#pragma once

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/reduce.hpp"

namespace tlcr {

namespace detail {
template <class T, class D>
Var<T, D> sum_all_scaled(const char* op, const Var<T, D>& x, T factor) {
  Tensor<T, D> out{Shape{}};
  sum_all_forward(out, x.value(), factor);
  return record<T, D>(op, std::move(out), {x}, [x, factor](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) sum_all_backward(*d_x, d_out, factor);
  });
}
template <class T, class D>
Var<T, D> sum_axis_scaled(const char* op, const Var<T, D>& x, int axis, bool mean) {
  Shape reduced;
  const AxisSplit split = split_axis(op, x.shape(), axis, &reduced);
  const T factor = mean ? T(1) / T(split.n) : T(1);
  Tensor<T, D> out(reduced);
  sum_axis_forward(out, x.value(), axis, factor);
  return record<T, D>(op, std::move(out), {x}, [x, axis, factor](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) sum_axis_backward(*d_x, d_out, axis, factor);
  });
}
}  // namespace detail

// Σ x → rank 0
template <class T, class D>
Var<T, D> sum(const Var<T, D>& x) {
  return detail::sum_all_scaled("sum", x, T(1));
}
// mean of x → rank 0
template <class T, class D>
Var<T, D> mean(const Var<T, D>& x) {
  TLCR_CHECK(x.numel() > 0, "mean: empty tensor ", x.shape().str());
  return detail::sum_all_scaled("mean", x, T(1) / T(x.numel()));
}
// Σ along `axis` (negative counts from the end); the axis is dropped.
template <class T, class D>
Var<T, D> sum(const Var<T, D>& x, int axis) {
  return detail::sum_axis_scaled("sum_axis", x, axis, false);
}
template <class T, class D>
Var<T, D> mean(const Var<T, D>& x, int axis) {
  return detail::sum_axis_scaled("mean_axis", x, axis, true);
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_REDUCE_INSTANCES(extern_, T)               \
  extern_ template Var<T> sum<T, Cpu>(const Var<T>&);      \
  extern_ template Var<T> mean<T, Cpu>(const Var<T>&);     \
  extern_ template Var<T> sum<T, Cpu>(const Var<T>&, int); \
  extern_ template Var<T> mean<T, Cpu>(const Var<T>&, int);
TLCR_DECLARE_INSTANCES(TLCR_FN_REDUCE_INSTANCES)

}  // namespace tlcr
