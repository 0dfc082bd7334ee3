// tlcr/autograd/var.hpp — Var<T, D>: the handle to a value that gradients flow through.
//
// A Var is a shared handle to a Node (value + gradient). parameter() makes a leaf that collects a
// gradient, constant() a leaf that does not. record() is how every differentiable function in
// autograd/fn/ builds its result: compute the value with an ops/ kernel, then hand record() a
// closure that runs the matching backward kernel. Nothing is recorded under NoGrad or when no
// input requires a gradient.
// Not here: the math of any operation.
#pragma once

#include <initializer_list>

#include "tlcr/autograd/tape.hpp"
#include "tlcr/ops/elementwise.hpp"

namespace tlcr {

template <class T, class D = Cpu>
class Var {
 public:
  using value_type = T;
  using device_type = D;

  Var() = default;
  explicit Var(std::shared_ptr<Node<T, D>> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const Tensor<T, D>& value() const { return node_->value; }
  Tensor<T, D>& value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  // The value of a one-element Var on the host (a loss): see Tensor::item.
  T item() const { return node_->value.item(); }
  int64_t numel() const { return node_->value.numel(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const char* op() const { return node_->op; }
  // d(loss)/d(this), allocated as zeros on first access.
  Tensor<T, D>& grad() const { return node_->ensure_grad(); }
  // The gradient to add into during backward, or nullptr when this Var needs none.
  Tensor<T, D>* grad_if_needed() const { return requires_grad() ? &node_->ensure_grad() : nullptr; }
  Node<T, D>& node() const { return *node_; }

 private:
  std::shared_ptr<Node<T, D>> node_;
};

// A leaf that collects a gradient. `grad_buffer`, when given, is where the gradient lives (a view
// into a model's flat gradient buffer); it must have the value's shape.
template <class T, class D>
Var<T, D> parameter(Tensor<T, D> value, Tensor<T, D> grad_buffer = {}) {
  auto node = std::make_shared<Node<T, D>>();
  if (grad_buffer.defined())
    check_same_shape("parameter", value.shape(), grad_buffer.shape(), "value", "grad");
  node->value = std::move(value);
  node->grad = std::move(grad_buffer);
  node->requires_grad = true;
  return Var<T, D>(std::move(node));
}

// A leaf without gradient (inputs, targets, frozen weights).
template <class T, class D>
Var<T, D> constant(Tensor<T, D> value) {
  auto node = std::make_shared<Node<T, D>>();
  node->value = std::move(value);
  return Var<T, D>(std::move(node));
}

// Wraps `value` as the result of operation `op` on `inputs`. When gradients are enabled and some
// input requires one, the node goes on the tape with `backward(grad_of_value)`, which must add the
// input gradients (via Var::grad_if_needed) and capture the input Vars it needs by value.
template <class T, class D, class Backward>
Var<T, D> record(const char* op, Tensor<T, D> value, std::initializer_list<Var<T, D>> inputs,
                 Backward&& backward) {
  auto node = std::make_shared<Node<T, D>>();
  node->value = std::move(value);
  node->op = op;
  bool needs_grad = false;
  if (grad_enabled())
    for (const Var<T, D>& input : inputs) needs_grad = needs_grad || input.requires_grad();
  if (needs_grad) {
    node->requires_grad = true;
    node->backward = std::forward<Backward>(backward);
    tape<T, D>().nodes.push_back(node);
  }
  return Var<T, D>(std::move(node));
}

// Back-propagates from a scalar (numel 1) loss: adds d(loss)/d(x) into every x.grad() on its path.
template <class T, class D>
void backward(const Var<T, D>& loss, BackwardOptions options = {}) {
  TLCR_CHECK(loss.defined() && loss.numel() == 1, "backward: expected a scalar loss, got shape ",
             loss.defined() ? loss.shape().str() : std::string("(undefined)"));
  reset_intermediate_grads<T, D>();
  accumulate(loss.grad(), Tensor<T, D>::full(loss.shape(), T(1)));  // d(loss)/d(loss) = 1
  run_backward(loss.node(), options);
}

// Back-propagates from a non-scalar output with the given seed gradient d(loss)/d(output).
template <class T, class D>
void backward(const Var<T, D>& output, const Tensor<T, D>& seed, BackwardOptions options = {}) {
  check_same_shape("backward", output.shape(), seed.shape(), "output", "seed");
  reset_intermediate_grads<T, D>();
  accumulate(output.grad(), seed);
  run_backward(output.node(), options);
}

// Sets the gradients of `vars` to zero (in place, so views into flat buffers stay valid).
template <class T, class D = Cpu>
void zero_grad(std::initializer_list<Var<T, D>> vars) {
  for (const Var<T, D>& var : vars)
    if (var.requires_grad()) var.grad().fill(T(0));
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_AUTOGRAD_VAR_INSTANCES(extern_, T)                                             \
  extern_ template Var<T> parameter<T, Cpu>(Tensor<T>, Tensor<T>);                          \
  extern_ template Var<T> constant<T, Cpu>(Tensor<T>);                                      \
  extern_ template void backward<T, Cpu>(const Var<T>&, BackwardOptions);                   \
  extern_ template void backward<T, Cpu>(const Var<T>&, const Tensor<T>&, BackwardOptions); \
  extern_ template void zero_grad<T, Cpu>(std::initializer_list<Var<T>>);
TLCR_DECLARE_INSTANCES(TLCR_AUTOGRAD_VAR_INSTANCES)

}  // namespace tlcr
