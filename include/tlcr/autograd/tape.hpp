// tlcr/autograd/tape.hpp — the reverse-mode tape: nodes recorded in creation order, one reverse loop.
//
// Every differentiable operation that runs while gradients are enabled appends one Node to a
// thread-local tape per scalar type and device. backward() seeds d(loss)/d(loss) = 1 and walks the tape once
// from the newest node to the oldest, calling each node's backward function, which *adds* into the
// gradients of that node's inputs. Creation order is a topological order, so a shared
// sub-expression is visited once: the cost is linear in the number of nodes (no recursion).
// After backward the closures are dropped (the graph is freed) unless retain_graph is set.
// Not here: the user-facing Var handle (var.hpp) or any math (ops/, autograd/fn/).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "tlcr/core/tensor.hpp"

namespace tlcr {

template <class T, class D = Cpu>
struct Node {
  Tensor<T, D> value;
  Tensor<T, D> grad;  // allocated (zeros) on first use; a parameter's grad may view a flat buffer
  bool requires_grad = false;
  const char* op = "leaf";
  // Adds d(loss)/d(inputs) given d(loss)/d(value); empty for leaves and freed graphs.
  std::function<void(const Tensor<T, D>& grad_of_value)> backward;

  // The gradient buffer, allocated as zeros when first needed.
  Tensor<T, D>& ensure_grad() {
    if (!grad.defined()) grad = Tensor<T, D>::zeros(value.shape());
    return grad;
  }
};

template <class T, class D = Cpu>
struct Tape {
  std::vector<std::shared_ptr<Node<T, D>>> nodes;
  int64_t backward_calls = 0;  // node backward functions run so far (tests check linear cost)
};

// The thread-local tape for scalar type T on device D.
template <class T, class D = Cpu>
Tape<T, D>& tape() {
  static thread_local Tape<T, D> instance;
  return instance;
}

// Drops every recorded node (e.g. after a forward pass that will not be differentiated).
template <class T, class D = Cpu>
void clear_tape() {
  tape<T, D>().nodes.clear();
}

namespace detail {
inline thread_local int no_grad_depth = 0;
}

// True unless a NoGrad guard is alive on this thread.
inline bool grad_enabled() {
  return detail::no_grad_depth == 0;
}

// RAII guard: operations inside its scope record nothing (rollouts, generation, reward scoring).
class NoGrad {
 public:
  NoGrad() { ++detail::no_grad_depth; }
  ~NoGrad() { --detail::no_grad_depth; }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;
};

struct BackwardOptions {
  bool retain_graph = false;  // keep closures so backward can run again over the same graph
};

// Forgets the gradients of recorded (non-leaf) nodes, so a retained graph can run backward again
// without counting the previous pass twice. Leaf gradients keep accumulating.
template <class T, class D = Cpu>
void reset_intermediate_grads() {
  for (auto& node : tape<T, D>().nodes) node->grad = Tensor<T, D>();
}

// Runs the tape in reverse from `root`, whose gradient must already be seeded.
template <class T, class D>
void run_backward(Node<T, D>& root, BackwardOptions options = {}) {
  TLCR_CHECK(root.requires_grad,
             "backward: the output does not depend on any tensor that requires a gradient");
  TLCR_CHECK(
      root.backward || root.op == std::string_view("leaf"),
      "backward: the graph of this output was already freed; pass retain_graph to run twice");
  auto& nodes = tape<T, D>().nodes;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    Node<T, D>& node = **it;
    if (node.grad.defined() && node.backward) {  // otherwise not on the path to root
      node.backward(node.grad);
      ++tape<T, D>().backward_calls;
    }
    if (!options.retain_graph) {
      // Every consumer of this node sits later on the tape and has already run, so its closure
      // (and the activations it saved) and the tape's hold on it can go now, not at the end:
      // peak memory during backward then falls as the loop proceeds. Nodes still held by a Var
      // keep their value and gradient.
      node.backward = nullptr;
      it->reset();
    }
  }
  if (!options.retain_graph) nodes.clear();
}

// The float and double Cpu instances, compiled once in the prebuilt library (tlcr/config.hpp).
#define TLCR_AUTOGRAD_TAPE_INSTANCES(extern_, T)            \
  extern_ template Tape<T, Cpu>& tape<T, Cpu>();            \
  extern_ template void clear_tape<T, Cpu>();               \
  extern_ template void reset_intermediate_grads<T, Cpu>(); \
  extern_ template void run_backward<T, Cpu>(Node<T, Cpu>&, BackwardOptions);
TLCR_DECLARE_INSTANCES(TLCR_AUTOGRAD_TAPE_INSTANCES)

}  // namespace tlcr
