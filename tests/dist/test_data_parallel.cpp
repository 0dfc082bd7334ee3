// Tests for dist/communicator.hpp and dist/data_parallel.hpp on one process: SingleProcess's
// all_gather, and the fixed-order gradient sum (g₀ + g₁) + g₂ of a step's micro-batches. The same
// sum on several MPI ranks is tested under mpiexec (tests/mpi/).
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

TEST_CASE("SingleProcess: rank 0 of 1; all_gather copies and checks the receive size") {
  const SingleProcess one;
  CHECK(one.rank() == 0);
  CHECK(one.size() == 1);
  const std::vector<double> send{1.5, -2.0, 3.25};
  std::vector<double> receive(3);
  one.all_gather(std::span<const double>(send), std::span<double>(receive));
  CHECK(receive == send);
  std::vector<double> wrong(4);
  CHECK_THROWS_WITH_AS(one.all_gather(std::span<const double>(send), std::span<double>(wrong)),
                       doctest::Contains("expected a receive buffer of 3 elements"), Error);
}

TEST_CASE("sum_gradients_in_order: ((g0 + g1) + g2) of separately computed micro-batch gradients") {
  Rng rng(900);
  ParameterStore<float> params;
  Var<float> w = params.add("w", Shape{5, 4});
  params.finalize();
  params.values().copy_from(random_normal<float>({20}, rng));
  std::vector<Tensor<float>> inputs;
  for (int i = 0; i < 3; ++i) inputs.push_back(random_normal<float>({7, 5}, rng));
  // The loss of micro-batch i: sum(tanh(x_i · w))², whose gradient adds several contributions.
  auto loss_of = [&](int64_t i) {
    const Var<float> y = tanh(matmul(constant(inputs[i]), w));
    return mul(sum(y), sum(y));
  };
  std::vector<Tensor<float>> each;
  for (int64_t i = 0; i < 3; ++i) {
    params.zero_grad();
    backward(loss_of(i));
    each.push_back(params.grads().clone());
  }
  std::vector<int64_t> order;
  const std::vector<double> losses =
      sum_gradients_in_order(params, SingleProcess{}, 3, [&](int64_t i, bool mine) {
        CHECK(mine);
        order.push_back(i);
        const Var<float> loss = loss_of(i);
        backward(loss);
        return double(loss.item());
      });
  CHECK(order == std::vector<int64_t>{0, 1, 2});
  for (int64_t i = 0; i < 3; ++i) CHECK(losses[i] == double(loss_of(i).item()));
  for (int64_t j = 0; j < 20; ++j) {
    const float expected = (each[0][j] + each[1][j]) + each[2][j];
    CHECK(params.grads()[j] == expected);
  }
  // One micro-batch: its gradient as it is.
  sum_gradients_in_order(params, SingleProcess{}, 1, [&](int64_t i, bool) {
    const Var<float> loss = loss_of(1);
    backward(loss);
    return double(loss.item());
  });
  CHECK(testing::max_abs_diff(params.grads(), each[1]) == 0.0);
}
