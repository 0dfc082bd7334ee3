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

TEST_CASE("part_range: contiguous parts as even as possible, covering every item once") {
  for (int64_t n : {1, 5, 7, 12}) {
    for (int64_t parts = 1; parts <= n; ++parts) {
      int64_t next = 0;
      for (int64_t p = 0; p < parts; ++p) {
        const PartRange share = part_range(p, n, parts);
        CHECK(share.begin == next);
        CHECK((share.size() == n / parts || share.size() == n / parts + 1));
        next = share.end;
      }
      CHECK(next == n);
    }
  }
  CHECK(part_range(1, 7, 3).begin == 2);  // 7 in 3: [0, 2), [2, 4), [4, 7)
  CHECK(part_range(2, 7, 3).size() == 3);
  CHECK_THROWS_WITH_AS(part_range(3, 7, 3), doctest::Contains("part 3 of 3"), Error);
}

TEST_CASE("all_gather_varying on one process: its own buffer, of any length") {
  const std::vector<double> mine{2.5, -1.0, 7.0};
  const std::vector<std::vector<double>> all =
      all_gather_varying(SingleProcess{}, std::span<const double>(mine));
  REQUIRE(all.size() == 1);
  CHECK(all[0] == mine);
  CHECK(all_gather_varying(SingleProcess{}, std::span<const double>())[0].empty());
}

TEST_CASE("sum_gradients_in_order over two stores: one backward fills both, each summed in order") {
  Rng rng(901);
  ParameterStore<double> first, second;
  Var<double> a = first.add("a", Shape{4, 3});
  Var<double> b = second.add("b", Shape{3, 1});
  first.finalize(), second.finalize();
  first.values().copy_from(random_normal<double>({12}, rng));
  second.values().copy_from(random_normal<double>({3}, rng));
  std::vector<Tensor<double>> inputs;
  for (int i = 0; i < 3; ++i) inputs.push_back(random_normal<double>({5, 4}, rng));
  auto loss_of = [&](int64_t i) {  // both stores in one loss: sum(tanh(tanh(x_i · a) · b))²
    const Var<double> y = tanh(matmul(tanh(matmul(constant(inputs[i]), a)), b));
    return mul(sum(y), sum(y));
  };
  std::vector<Tensor<double>> each_a, each_b;
  for (int64_t i = 0; i < 3; ++i) {
    first.zero_grad(), second.zero_grad();
    backward(loss_of(i));
    each_a.push_back(first.grads().clone()), each_b.push_back(second.grads().clone());
  }
  first.grads().copy_from(random_normal<double>({12}, rng));  // stale values must not leak in
  ParameterStore<double>* const stores[] = {&first, &second};
  const std::vector<std::vector<double>> numbers =
      sum_gradients_in_order(std::span<ParameterStore<double>* const>(stores), SingleProcess{}, 3,
                             2, [&](int64_t i, bool mine) {
                               CHECK(mine);
                               const Var<double> loss = loss_of(i);
                               backward(loss);
                               return std::vector<double>{loss.item(), double(10 * i)};
                             });
  REQUIRE(numbers.size() == 3);
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(numbers[i][0] == loss_of(i).item());
    CHECK(numbers[i][1] == double(10 * i));
  }
  for (int64_t j = 0; j < 12; ++j)
    CHECK(first.grads()[j] == (each_a[0][j] + each_a[1][j]) + each_a[2][j]);
  for (int64_t j = 0; j < 3; ++j)
    CHECK(second.grads()[j] == (each_b[0][j] + each_b[1][j]) + each_b[2][j]);
  CHECK_THROWS_WITH_AS(
      sum_gradients_in_order(std::span<ParameterStore<double>* const>(stores), SingleProcess{}, 2,
                             2, [&](int64_t, bool) { return std::vector<double>{1}; }),
      doctest::Contains("micro-batch 0 returned 1 numbers, expected 2"), Error);
}
