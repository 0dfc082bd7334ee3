// tlcr/autograd/fn/shape_ops.hpp — differentiable reshape, transpose (two axes), slice, split and
// concat (see ops/shape_ops.hpp). reshape returns a view that shares the input's storage; the
// others copy. Negative axes count from the end.
// Not here: in-place variants.
#pragma once

#include <vector>

#include "tlcr/autograd/var.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/shape_ops.hpp"

namespace tlcr {

// The same elements seen with a new shape of equal numel. The value is a view of x's value: it
// shares storage, so writing into one writes into the other.
template <class T, class D>
Var<T, D> reshape(const Var<T, D>& x, const Shape& shape) {
  TLCR_CHECK(shape.numel() == x.numel(), "reshape: cannot view ", x.shape().str(), " (", x.numel(),
             " elements) as ", shape.str(), " (", shape.numel(), " elements)");
  return record<T, D>("reshape", x.value().reshape(shape), {x}, [x](const Tensor<T, D>& d_out) {
    // forward: out = x viewed with another shape → d x += d out, element by element
    if (auto* d_x = x.grad_if_needed()) accumulate(*d_x, d_out);
  });
}

// x with axes a and b swapped, e.g. transpose(x, 1, 2): (B,T,H,D) → (B,H,T,D).
template <class T, class D>
Var<T, D> transpose(const Var<T, D>& x, int axis_a, int axis_b) {
  Tensor<T, D> out(transpose_output_shape(x.shape(), axis_a, axis_b));
  transpose_forward(out, x.value(), axis_a, axis_b);
  return record<T, D>("transpose", std::move(out), {x},
                      [x, axis_a, axis_b](const Tensor<T, D>& d_out) {
                        if (auto* d_x = x.grad_if_needed())
                          transpose_backward(*d_x, d_out, axis_a, axis_b);
                      });
}

// x[…, begin:end, …] along `axis`.
template <class T, class D>
Var<T, D> slice(const Var<T, D>& x, int axis, int64_t begin, int64_t end) {
  Tensor<T, D> out(slice_output_shape(x.shape(), axis, begin, end));
  slice_forward(out, x.value(), axis, begin);
  return record<T, D>("slice", std::move(out), {x}, [x, axis, begin](const Tensor<T, D>& d_out) {
    if (auto* d_x = x.grad_if_needed()) slice_backward(*d_x, d_out, axis, begin);
  });
}

// x cut along `axis` into consecutive pieces of the given sizes (which must add up to its size).
template <class T, class D>
std::vector<Var<T, D>> split(const Var<T, D>& x, int axis, const std::vector<int64_t>& sizes) {
  const int normalized = detail::normalize_axis("split", axis, x.shape());
  int64_t total = 0;
  for (int64_t size : sizes) {
    TLCR_CHECK(size >= 0, "split: negative piece size ", size);
    total += size;
  }
  TLCR_CHECK(total == x.shape()[normalized], "split: piece sizes add up to ", total, ", but axis ",
             axis, " of ", x.shape().str(), " has size ", x.shape()[normalized]);
  std::vector<Var<T, D>> pieces;
  int64_t begin = 0;
  for (int64_t size : sizes) {
    pieces.push_back(slice(x, normalized, begin, begin + size));
    begin += size;
  }
  return pieces;
}

// [xs[0], xs[1], …] joined along `axis`; all other sizes must agree.
template <class T, class D = Cpu>  // D's default lets concat<double>({a, b}, axis) deduce
Var<T, D> concat(const std::vector<Var<T, D>>& xs, int axis) {
  std::vector<Shape> shapes;
  std::vector<Tensor<T, D>> values;
  std::vector<int64_t> sizes;
  for (const auto& x : xs) shapes.push_back(x.shape());
  Tensor<T, D> out(concat_output_shape(shapes, axis));
  const int normalized = detail::normalize_axis("concat", axis, out.shape());
  for (const auto& x : xs) {
    values.push_back(x.value());
    sizes.push_back(x.shape()[normalized]);
  }
  concat_forward(out, values, normalized);
  // record() takes a fixed list of inputs and only asks whether any of them needs a gradient, so it
  // is handed one that does (if any); the closure itself holds every input.
  Var<T, D> representative = xs.front();
  for (const auto& x : xs)
    if (x.requires_grad()) representative = x;
  return record<T, D>("concat", std::move(out), {representative},
                      [xs, sizes, normalized](const Tensor<T, D>& d_out) {
                        std::vector<Tensor<T, D>*> d_inputs;
                        for (const auto& x : xs) d_inputs.push_back(x.grad_if_needed());
                        concat_backward(d_inputs, sizes, d_out, normalized);
                      });
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_FN_SHAPE_OPS_INSTANCES(extern_, T)                                    \
  extern_ template Var<T> reshape<T, Cpu>(const Var<T>&, const Shape&);            \
  extern_ template Var<T> transpose<T, Cpu>(const Var<T>&, int, int);              \
  extern_ template Var<T> slice<T, Cpu>(const Var<T>&, int, int64_t, int64_t);     \
  extern_ template std::vector<Var<T>> split<T, Cpu>(const Var<T>&, int,           \
                                                     const std::vector<int64_t>&); \
  extern_ template Var<T> concat<T, Cpu>(const std::vector<Var<T>>&, int);
TLCR_DECLARE_INSTANCES(TLCR_FN_SHAPE_OPS_INSTANCES)

}  // namespace tlcr
