// GPU tests of cuda/unary.cuh against the CPU loops, for every pointwise policy, float and double,
// on random inputs (positive ones for log and sqrt) of awkward sizes. The GPU runs the CPU's own
// formulas and approximations; the two may differ where one compiler fuses a multiply-add:
// tolerance 4 float roundings (5e-7 relative) and 1e-14 in double.
#include "cuda_testing.cuh"

#include <tlcr/cuda/unary.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_unary_test {
template <class Fn, class T>
void check_policy(double tolerance, bool positive_inputs) {
  CAPTURE(Fn::name);
  Rng rng(1234);
  for (const int64_t n : {int64_t(1), int64_t(1001), int64_t(1) << 18}) {
    CAPTURE(n);
    Tensor<T> x = random_normal<T>(Shape{n}, rng, 3.0);
    if (positive_inputs)
      for (T& v : x) v = std::abs(v) + T(0.01);
    const Tensor<T> g = random_normal<T>(Shape{n}, rng);
    const Tensor<T, Cuda> x_gpu = on_gpu(x), g_gpu = on_gpu(g);
    Tensor<T> y(Shape{n});
    Tensor<T, Cuda> y_gpu(Shape{n});
    unary_forward<Fn>(y, x);
    unary_forward<Fn>(y_gpu, x_gpu);
    CHECK(scaled_difference(y_gpu, y) <= tolerance);
    Tensor<T> d_x = random_normal<T>(Shape{n}, rng);
    Tensor<T, Cuda> d_x_gpu = on_gpu(d_x);
    unary_backward<Fn>(d_x, g, x, y);
    unary_backward<Fn>(d_x_gpu, g_gpu, x_gpu, on_gpu(y));
    CHECK(scaled_difference(d_x_gpu, d_x) <= tolerance);
  }
}

template <class T>
void check_all(double tolerance) {
  using namespace pointwise;
  check_policy<Exp, T>(tolerance, false);
  check_policy<Log, T>(tolerance, true);
  check_policy<Tanh, T>(tolerance, false);
  check_policy<Sigmoid, T>(tolerance, false);
  check_policy<Relu, T>(tolerance, false);
  check_policy<Gelu, T>(tolerance, false);
  check_policy<Silu, T>(tolerance, false);
  check_policy<Neg, T>(tolerance, false);
  check_policy<Square, T>(tolerance, false);
  check_policy<Sqrt, T>(tolerance, true);
}
}  // namespace cuda_unary_test

TEST_CASE("every pointwise function on the GPU matches the CPU, forward and backward") {
  cuda_unary_test::check_all<float>(5e-7);
  cuda_unary_test::check_all<double>(1e-14);
}
