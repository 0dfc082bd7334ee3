// Tests for ops/linear.hpp and autograd/fn/linear.hpp: the fused x·op(w) + bias against the naive
// product plus bias, the bias gradient against a plain column sum, gradient checks in double for
// both weight layouts with and without bias, and shape errors.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

TEST_CASE("linear_forward equals the naive product plus the bias, for both weight layouts") {
  Rng rng(400);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t rows = random_size(rng, 1, 30), k = random_size(rng, 1, 30),
                  n = random_size(rng, 1, 30);
    for (bool transpose_w : {false, true}) {
      const Tensor<float> x = random_normal<float>({rows, k}, rng);
      const Tensor<float> w = random_normal<float>(transpose_w ? Shape{n, k} : Shape{k, n}, rng);
      const Tensor<float> bias = random_normal<float>({n}, rng);
      Tensor<float> fused({rows, n}), product({rows, n});
      linear_forward(fused, x, w, bias, transpose_w);
      detail::matmul_ref(product, x, w, false, transpose_w);
      double worst = 0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < n; ++c)
          worst = std::max(worst, std::abs(double(fused.data()[r * n + c]) -
                                           (double(product.data()[r * n + c]) + bias.data()[c])));
      CHECK(worst < 1e-4 * std::sqrt(double(k)) + 1e-5);

      Tensor<float> no_bias({rows, n});
      linear_forward(no_bias, x, w, Tensor<float>(), transpose_w);
      CHECK(testing::max_abs_diff(no_bias, product) < 1e-4 * std::sqrt(double(k)) + 1e-5);
    }
  }
}

TEST_CASE("add_bias_grad adds the column sums of d_out and is the same for every thread count") {
  Rng rng(401);
  const Tensor<double> d_out = random_normal<double>({3, 70, 9}, rng);
  Tensor<double> d_bias = random_normal<double>({9}, rng);
  const std::vector<double> start = d_bias.to_vector();
  add_bias_grad(d_bias, d_out);
  for (int64_t c = 0; c < 9; ++c) {
    double sum = start[c];
    for (int64_t r = 0; r < 210; ++r) sum += d_out.data()[r * 9 + c];
    CHECK(d_bias.data()[c] == doctest::Approx(sum).epsilon(1e-12));
  }
  const Tensor<float> wide = random_normal<float>({4000, 300}, rng);
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Tensor<float> d = Tensor<float>::zeros({300});
    add_bias_grad(d, wide);
    return d.to_vector();
  };
  CHECK(run(1) == run(2));
}

TEST_CASE("linear passes gradcheck with and without bias, for both weight layouts") {
  Rng rng(402);
  for (bool transpose_w : {false, true}) {
    auto x = parameter(random_normal<double>({2, 3, 4}, rng));
    auto w = parameter(random_normal<double>(transpose_w ? Shape{5, 4} : Shape{4, 5}, rng));
    auto bias = parameter(random_normal<double>({5}, rng));
    TLCR_CHECK_GRADIENTS([&] { return linear(x, w, bias, transpose_w); }, {x, w, bias});
    TLCR_CHECK_GRADIENTS([&] { return linear(x, w, Var<double>(), transpose_w); }, {x, w});
  }
}

TEST_CASE("linear keeps one output tensor on the tape and reports bad shapes") {
  Rng rng(403);
  auto x = parameter(random_normal<float>({6, 4}, rng));
  auto w = parameter(random_normal<float>({4, 3}, rng));
  auto bias = parameter(random_normal<float>({3}, rng));
  clear_tape<float>();
  const Var<float> y = linear(x, w, bias);
  CHECK(tape<float>().nodes.size() == 1);
  CHECK(std::string(y.op()) == "linear");
  clear_tape<float>();

  auto wrong_bias = parameter(random_normal<float>({4}, rng));
  CHECK_THROWS_WITH_AS(linear(x, w, wrong_bias), doctest::Contains("expected bias (3)"), Error);
  auto wrong_w = parameter(random_normal<float>({5, 3}, rng));
  CHECK_THROWS_WITH_AS(linear(x, wrong_w, bias), doctest::Contains("inner sizes differ"), Error);
}
