// GPU tests of cuda/elementwise.cuh against the CPU kernels of ops/elementwise.hpp, on fresh random
// inputs and awkward shapes (one element, odd sizes, a long row, a scalar b). Tolerances: the
// forward is exact (one IEEE operation per element on both sides); a's gradient and the scaled
// accumulations may differ by one rounding (a fused multiply-add): 1e-6 of the values' scale in
// float, 1e-15 in double; b's gradient adds `outer` rows in the same order on both sides, each
// term possibly fused: 1e-6·outer (float), 1e-14·outer (double).
#include "cuda_testing.cuh"

#include <tlcr/cuda/elementwise.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_elementwise_test {
struct Case {
  Shape a, b;
};
const Case kCases[] = {{Shape{1}, Shape{1}},
                       {Shape{3, 5, 7}, Shape{7}},
                       {Shape{33, 129}, Shape{129}},
                       {Shape{1, 100003}, Shape{100003}},
                       {Shape{4099, 3}, Shape{4099, 3}},
                       {Shape{17, 2}, Shape{}}};

template <class T>
void check_family(double unit) {
  Rng rng(20261205);
  for (const Case& c : kCases)
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
      CAPTURE(c.a.str());
      CAPTURE(c.b.str());
      CAPTURE(binary_op_name(op));
      const Tensor<T> a = random_normal<T>(c.a, rng);
      Tensor<T> b = random_normal<T>(c.b, rng);
      for (T& v : b) v += v < 0 ? T(-0.5) : T(0.5);  // away from 0 for ÷
      const Tensor<T> g = random_normal<T>(c.a, rng);
      const Tensor<T, Cuda> a_gpu = on_gpu(a), b_gpu = on_gpu(b), g_gpu = on_gpu(g);

      Tensor<T> out(c.a);
      Tensor<T, Cuda> out_gpu(c.a);
      binary_forward(op, out, a, b);
      binary_forward(op, out_gpu, a_gpu, b_gpu);
      CHECK(same_bits(out_gpu, out));

      // Gradients start from random values: backward adds into them.
      Tensor<T> d_a = random_normal<T>(c.a, rng), d_b = random_normal<T>(c.b, rng);
      Tensor<T, Cuda> d_a_gpu = on_gpu(d_a), d_b_gpu = on_gpu(d_b);
      binary_backward(op, &d_a, &d_b, g, a, b);
      binary_backward(op, &d_a_gpu, &d_b_gpu, g_gpu, a_gpu, b_gpu);
      const double outer = double(a.numel() / std::max<int64_t>(b.numel(), 1));
      CHECK(scaled_difference(d_a_gpu, d_a) <= unit);
      CHECK(scaled_difference(d_b_gpu, d_b) <= unit * 10 * outer);
    }
}
}  // namespace cuda_elementwise_test

TEST_CASE("binary forward and backward on the GPU match the CPU (float, double)") {
  cuda_elementwise_test::check_family<float>(1e-6);
  cuda_elementwise_test::check_family<double>(1e-15);
}

TEST_CASE("scale, accumulate and accumulate_scaled on the GPU match the CPU") {
  Rng rng(7);
  for (const Shape shape : {Shape{1}, Shape{5, 3}, Shape{1 << 18}}) {
    CAPTURE(shape.str());
    const Tensor<float> x = random_normal<float>(shape, rng),
                        src = random_normal<float>(shape, rng);
    const Tensor<float, Cuda> x_gpu = on_gpu(x), src_gpu = on_gpu(src);
    Tensor<float> out(shape);
    Tensor<float, Cuda> out_gpu(shape);
    scale_forward(out, x, 0.37f);
    scale_forward(out_gpu, x_gpu, 0.37f);
    CHECK(same_bits(out_gpu, out));

    Tensor<float> d_x = random_normal<float>(shape, rng);
    Tensor<float, Cuda> d_x_gpu = on_gpu(d_x);
    scale_backward(d_x, src, -1.7f);
    scale_backward(d_x_gpu, src_gpu, -1.7f);
    CHECK(scaled_difference(d_x_gpu, d_x) <= 1e-6);

    accumulate(d_x, src);
    accumulate(d_x_gpu, src_gpu);
    CHECK(scaled_difference(d_x_gpu, d_x) <= 2e-6);

    const Tensor<float> factor = Tensor<float>::full(Shape{1}, 0.125f);
    reset_transfer_counts<Cuda>();
    const Tensor<float, Cuda> factor_gpu = on_gpu(factor);
    accumulate_scaled(d_x, src, factor);
    accumulate_scaled(d_x_gpu, src_gpu, factor_gpu);
    CHECK(transfer_counts<Cuda>().to_host == 0);  // the factor stays on the device
    CHECK(scaled_difference(d_x_gpu, d_x) <= 3e-6);
  }
  using GpuTensor = Tensor<float, Cuda>;
  GpuTensor three(Shape{3});
  CHECK_THROWS_WITH_AS(accumulate(three, GpuTensor(Shape{4})),
                       doctest::Contains("3 destination elements vs 4"), Error);
}
