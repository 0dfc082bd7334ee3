// tlcr/autograd/kept.hpp — index data and weights that a backward closure needs after the call.
//
// Differentiable functions take targets, ids, positions and row weights either as host spans or
// as tensors already on the device. keep() turns either into something a closure can own: a host
// span is copied (the caller's buffer may change or die after the call), a device tensor is held
// by handle (shared storage, no copy, no transfer). kept() hands it back to a kernel in the form
// the kernel takes. So each differentiable function is written once for both kinds of argument.
// Not here: the kernels (ops/) or the tape (autograd/tape.hpp).
#pragma once

#include <span>
#include <type_traits>
#include <vector>

#include "tlcr/core/tensor.hpp"

namespace tlcr::detail {

template <class E>
std::vector<std::remove_const_t<E>> keep(std::span<E> values) {
  return {values.begin(), values.end()};
}
template <class X, class D>
Tensor<X, D> keep(const Tensor<X, D>& values) {
  return values;
}

template <class E>
std::span<const E> kept(const std::vector<E>& values) {
  return values;
}
template <class X, class D>
const Tensor<X, D>& kept(const Tensor<X, D>& values) {
  return values;
}

}  // namespace tlcr::detail
