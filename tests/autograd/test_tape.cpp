// Tests for autograd/tape.hpp and autograd/var.hpp: creation order, gradient accumulation,
// linear cost on shared sub-expressions, NoGrad, graph freeing and retain_graph.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("tape records nodes in creation order and only when a gradient is needed") {
  clear_tape<double>();
  auto x = parameter(Tensor<double>::full({2}, 1.5));
  auto c = constant(Tensor<double>::full({2}, 2.0));
  auto y = mul(x, c);
  auto z = add(y, c);
  auto w = mul(c, c);  // no input requires a gradient: not recorded
  const auto& nodes = tape<double>().nodes;
  REQUIRE(nodes.size() == 2);
  CHECK(std::string(nodes[0]->op) == "mul");
  CHECK(std::string(nodes[1]->op) == "add");
  CHECK_FALSE(w.requires_grad());
  clear_tape<double>();
}

TEST_CASE("gradients accumulate across backward calls until zeroed") {
  auto x = parameter(Tensor<double>::full({1}, 3.0));
  backward(sum(mul(x, x)));
  CHECK(x.grad()[0] == 6.0);
  backward(sum(mul(x, x)));
  CHECK(x.grad()[0] == 12.0);
  zero_grad({x});
  CHECK(x.grad()[0] == 0.0);
  backward(sum(scale(x, 5.0)));
  CHECK(x.grad()[0] == 5.0);
}

TEST_CASE("a DAG with shared sub-expressions costs one backward call per node") {
  clear_tape<double>();
  auto x = parameter(Tensor<double>::full({1}, 1.0));
  Var<double> y = x;
  const int depth = 60;  // a recursive tree walk would take 2^60 steps
  for (int i = 0; i < depth; ++i) y = add(y, y);  // y = 2^depth · x
  auto loss = sum(y);
  const int64_t nodes = static_cast<int64_t>(tape<double>().nodes.size());
  CHECK(nodes == depth + 1);
  const int64_t calls_before = tape<double>().backward_calls;
  backward(loss);
  CHECK(tape<double>().backward_calls - calls_before == nodes);
  CHECK(x.grad()[0] == std::ldexp(1.0, depth));
}

TEST_CASE("NoGrad records nothing, nests, and restores") {
  clear_tape<double>();
  auto x = parameter(Tensor<double>::full({3}, 1.0));
  {
    NoGrad outer;
    {
      NoGrad inner;
      auto y = mul(x, x);
      CHECK_FALSE(y.requires_grad());
    }
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  CHECK(tape<double>().nodes.empty());
  CHECK(mul(x, x).requires_grad());
  clear_tape<double>();
}

TEST_CASE("the graph is freed after backward unless retained") {
  auto x = parameter(Tensor<double>::full({1}, 2.0));
  auto loss = sum(mul(x, x));
  backward(loss, {.retain_graph = true});
  CHECK(x.grad()[0] == 4.0);
  CHECK_FALSE(tape<double>().nodes.empty());
  backward(loss);  // second pass over the retained graph
  CHECK(x.grad()[0] == 8.0);
  CHECK(tape<double>().nodes.empty());
  CHECK_THROWS_WITH_AS(backward(loss), doctest::Contains("already freed"), Error);
}

TEST_CASE("backward rejects non-scalar losses and outputs that need no gradient") {
  auto x = parameter(Tensor<double>::full({2}, 1.0));
  auto y = mul(x, x);
  CHECK_THROWS_WITH_AS(backward(y), doctest::Contains("expected a scalar loss, got shape [2]"), Error);
  auto c = constant(Tensor<double>::full({1}, 1.0));
  CHECK_THROWS_WITH_AS(backward(sum(c)), doctest::Contains("does not depend on any tensor"), Error);
  clear_tape<double>();
}

TEST_CASE("parameters can keep their gradient in a caller-owned buffer view") {
  Tensor<double> flat_grad({5});
  auto w = parameter(Tensor<double>::full({2}, 1.0), flat_grad.slice(1, 3));
  backward(sum(scale(w, 3.0)));
  CHECK(flat_grad.to_vector() == std::vector<double>{0, 3, 3, 0, 0});
}
