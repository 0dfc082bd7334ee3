// GPU tests of cuda/softmax.cuh against the CPU kernels: rows of one element, a few elements, a
// 50257-wide vocabulary row, many short rows, and logits offset by +1000 (the max shift must keep
// them finite). Tolerances: the sums run in double on both sides in different orders, and exp is
// CUDA's against the CPU's vectorised approximation: 2e-6 of the values' scale in float, 1e-12 in
// double. The GPU repeats its own result bit for bit.
#include "cuda_testing.cuh"

#include <tlcr/cuda/softmax.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_softmax_test {
template <class T>
void check_rows(double tolerance) {
  Rng rng(77);
  for (const Shape shape :
       {Shape{1, 1}, Shape{3, 5}, Shape{2, 50257}, Shape{1000, 7}, Shape{4, 3, 129}})
    for (const double offset : {0.0, 1000.0}) {
      CAPTURE(shape.str());
      CAPTURE(offset);
      Tensor<T> x = random_normal<T>(shape, rng, 3.0);
      for (T& v : x) v += T(offset);
      const Tensor<T> g = random_normal<T>(shape, rng);
      const Tensor<T, Cuda> x_gpu = on_gpu(x), g_gpu = on_gpu(g);
      Tensor<T> y(shape), log_y(shape);
      Tensor<T, Cuda> y_gpu(shape), log_y_gpu(shape), again(shape);
      softmax_forward(y, x);
      softmax_forward(y_gpu, x_gpu);
      softmax_forward(again, x_gpu);
      CHECK(scaled_difference(y_gpu, y) <= tolerance);
      CHECK(same_bits(again, y_gpu.to_host()));
      log_softmax_forward(log_y, x);
      log_softmax_forward(log_y_gpu, x_gpu);
      CHECK(scaled_difference(log_y_gpu, log_y) <= tolerance);

      Tensor<T> d_x = random_normal<T>(shape, rng), d_x_log = random_normal<T>(shape, rng);
      Tensor<T, Cuda> d_x_gpu = on_gpu(d_x), d_x_log_gpu = on_gpu(d_x_log);
      softmax_backward(d_x, g, y);
      softmax_backward(d_x_gpu, g_gpu, on_gpu(y));
      CHECK(scaled_difference(d_x_gpu, d_x) <= tolerance);
      log_softmax_backward(d_x_log, g, log_y);
      log_softmax_backward(d_x_log_gpu, g_gpu, on_gpu(log_y));
      CHECK(scaled_difference(d_x_log_gpu, d_x_log) <= 10 * tolerance);
    }
}
}  // namespace cuda_softmax_test

TEST_CASE("softmax and log-softmax on the GPU match the CPU, long rows and large logits included") {
  cuda_softmax_test::check_rows<float>(2e-6);
  cuda_softmax_test::check_rows<double>(1e-12);
}
