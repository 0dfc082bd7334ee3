// Tests for ops/unary.hpp and autograd/fn/unary.hpp: known values, every function against its
// textbook formula on a tensor large enough to split across threads, gradient checks in double on
// random shapes, extreme inputs, shape errors.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/unary.hpp>

#include <cmath>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
// Inputs inside each function's domain: log and sqrt need positive values.
template <class Fn>
Tensor<double> domain_input(const Shape& shape, Rng& rng) {
  if constexpr (std::is_same_v<Fn, pointwise::Log> || std::is_same_v<Fn, pointwise::Sqrt>)
    return testing::random_uniform<double>(shape, rng, 0.3, 3.0);
  else
    return random_normal<double>(shape, rng, 1.5);
}

// The textbook definitions, written independently of the policies.
double textbook(const char* name, double x) {
  const std::string f = name;
  if (f == "exp") return std::exp(x);
  if (f == "log") return std::log(x);
  if (f == "tanh") return std::tanh(x);
  if (f == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (f == "relu") return std::max(x, 0.0);
  if (f == "gelu")
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  if (f == "silu") return x / (1.0 + std::exp(-x));
  if (f == "neg") return -x;
  if (f == "square") return x * x;
  if (f == "sqrt") return std::sqrt(x);
  FAIL("no textbook formula for ", f);
  return 0;
}
}  // namespace

TEST_CASE("pointwise functions take their known values") {
  auto at = [](auto fn, double x) { return decltype(fn)::value(x); };
  CHECK(at(pointwise::Gelu{}, 0.0) == 0.0);
  CHECK(at(pointwise::Gelu{}, 1.0) == doctest::Approx(0.8411919906082768).epsilon(1e-14));
  CHECK(at(pointwise::Gelu{}, -1.0) == doctest::Approx(-0.15880800939172324).epsilon(1e-14));
  CHECK(at(pointwise::Sigmoid{}, 0.0) == 0.5);
  CHECK(at(pointwise::Silu{}, 0.0) == 0.0);
  CHECK(at(pointwise::Silu{}, 2.0) == doctest::Approx(1.7615941559557646).epsilon(1e-14));
  CHECK(at(pointwise::Relu{}, -1.5) == 0.0);
  CHECK(at(pointwise::Relu{}, 2.5) == 2.5);
  CHECK(at(pointwise::Exp{}, 0.0) == 1.0);
  CHECK(at(pointwise::Log{}, 1.0) == 0.0);
  CHECK(at(pointwise::Tanh{}, 0.0) == 0.0);
  CHECK(at(pointwise::Sqrt{}, 9.0) == 3.0);
  CHECK(at(pointwise::Square{}, -3.0) == 9.0);
  CHECK(at(pointwise::Neg{}, 4.0) == -4.0);
}

TEST_CASE_TEMPLATE("unary_forward matches the textbook formula on a multi-chunk tensor", Fn,
                   pointwise::Exp, pointwise::Log, pointwise::Tanh, pointwise::Sigmoid,
                   pointwise::Relu, pointwise::Gelu, pointwise::Silu, pointwise::Neg,
                   pointwise::Square, pointwise::Sqrt) {
  Rng rng(300);
  const Tensor<double> input = domain_input<Fn>({3, 20001}, rng);  // > one thread chunk
  Tensor<float> x(input.shape()), out(input.shape());
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = float(input.data()[i]);
  unary_forward<Fn>(out, x);
  double worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double expected = textbook(Fn::name, double(x.data()[i]));
    worst = std::max(worst, std::abs(out.data()[i] - expected) / std::max(1.0, std::abs(expected)));
  }
  INFO(Fn::name);
  CHECK(worst < 1e-6);
}

TEST_CASE_TEMPLATE("unary gradients pass gradcheck on random shapes", Fn, pointwise::Exp,
                   pointwise::Log, pointwise::Tanh, pointwise::Sigmoid, pointwise::Relu,
                   pointwise::Gelu, pointwise::Silu, pointwise::Neg, pointwise::Square,
                   pointwise::Sqrt) {
  Rng rng(301);
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape{random_size(rng, 1, 4), random_size(rng, 1, 3), random_size(rng, 1, 5)};
    auto x = parameter(domain_input<Fn>(shape, rng));
    INFO(Fn::name, " on ", shape.str());
    TLCR_CHECK_GRADIENTS([&] { return unary<Fn>(x); }, {x});
  }
}

TEST_CASE("named wrappers record their op and compose under gradcheck") {
  Rng rng(302);
  auto x = parameter(random_normal<double>({2, 5}, rng));
  auto positive = parameter(testing::random_uniform<double>({2, 5}, rng, 0.5, 2.0));
  CHECK(std::string(gelu(x).op()) == "gelu");
  CHECK(std::string(silu(x).op()) == "silu");
  CHECK(std::string(sqrt(positive).op()) == "sqrt");
  // A small chain: log(sigmoid(x)) + tanh(relu(x)) · exp(neg(square(x)))
  auto chain = [&] { return add(log(sigmoid(x)), mul(tanh(relu(x)), exp(neg(square(x))))); };
  TLCR_CHECK_GRADIENTS(chain, {x});
  TLCR_CHECK_GRADIENTS([&] { return mul(gelu(x), silu(sqrt(positive))); }, {x, positive});
}

TEST_CASE("relu's gradient is zero for negative inputs and at zero") {
  auto x = parameter(Tensor<double>::from({4}, {-2.0, 0.0, 0.5, 3.0}));
  backward(sum(relu(x)));
  CHECK(x.grad().to_vector() == std::vector<double>{0.0, 0.0, 1.0, 1.0});
}

TEST_CASE("sigmoid, silu and gelu stay finite at extreme inputs") {
  const Tensor<float> x = Tensor<float>::from({4}, {-1000.f, -30.f, 30.f, 1000.f});
  Tensor<float> out(x.shape());
  unary_forward<pointwise::Sigmoid>(out, x);
  CHECK(out[0] == 0.f);
  CHECK(out[3] == 1.f);
  unary_forward<pointwise::Silu>(out, x);
  CHECK(out[0] == 0.f);
  CHECK(out[3] == 1000.f);
  unary_forward<pointwise::Gelu>(out, x);
  CHECK(out[1] == doctest::Approx(0.f));
  CHECK(out[2] == 30.f);
  for (float v : out) CHECK(std::isfinite(v));
  Tensor<float> d_x(x.shape());
  unary_backward<pointwise::Silu>(d_x, Tensor<float>::full(x.shape(), 1.f), x, out);
  for (float v : d_x) CHECK(std::isfinite(v));
}

TEST_CASE("unary kernels reject mismatched shapes, naming the op") {
  Tensor<float> x({2, 3}), out({3, 2});
  CHECK_THROWS_WITH_AS(unary_forward<pointwise::Gelu>(out, x),
                       doctest::Contains("gelu: shape mismatch: out [3, 2] vs x [2, 3]"), Error);
  Tensor<float> d_x({2, 3}), d_out({6});
  CHECK_THROWS_WITH_AS(unary_backward<pointwise::Tanh>(d_x, d_out, x, x),
                       doctest::Contains("tanh: shape mismatch: d_out [6] vs x [2, 3]"), Error);
}
