// GPU tests of cuda/rope.cuh against the CPU kernels: per-row positions that start late (left
// padding), one head and position, odd head counts, float and double. Tolerance: the angle's
// cos/sin come from CUDA's double functions, within an ulp or two of the C library's: 1e-6 of the
// values' scale in float, 1e-12 in double (positions up to 600). Backward undoes forward.
#include "cuda_testing.cuh"

#include <tlcr/cuda/rope.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_rope_test {
template <class T>
void check_rope(double tolerance) {
  Rng rng(66);
  for (const Shape shape : {Shape{1, 1, 1, 2}, Shape{2, 3, 7, 16}, Shape{3, 5, 33, 64}}) {
    CAPTURE(shape.str());
    const int64_t batch = shape.dims[0], time = shape.dims[2];
    std::vector<int32_t> positions(batch * time);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < time; ++t)
        positions[b * time + t] = int32_t(std::max<int64_t>(0, t - b) + 500 * b);
    const Tensor<T> x = random_normal<T>(shape, rng), g = random_normal<T>(shape, rng);
    const Tensor<T, Cuda> x_gpu = on_gpu(x);
    Tensor<T> out(shape);
    Tensor<T, Cuda> out_gpu(shape);
    rope_forward(out, x, std::span<const int32_t>(positions));
    rope_forward(out_gpu, x_gpu, std::span<const int32_t>(positions));
    CHECK(scaled_difference(out_gpu, out) <= tolerance);

    Tensor<T> d_x = random_normal<T>(shape, rng);
    Tensor<T, Cuda> d_x_gpu = on_gpu(d_x);
    const Tensor<int32_t, Cuda> positions_gpu =
        Tensor<int32_t, Cuda>::from(Shape{batch * time}, positions);
    rope_backward(d_x, g, std::span<const int32_t>(positions));
    rope_backward(d_x_gpu, on_gpu(g), positions_gpu);
    CHECK(scaled_difference(d_x_gpu, d_x) <= tolerance);

    Tensor<T, Cuda> back(shape);  // R(−pos)·R(pos)·x = x
    rope_backward(back, out_gpu, positions_gpu);
    CHECK(scaled_difference(back, x) <= 10 * tolerance);
  }
}
}  // namespace cuda_rope_test

TEST_CASE("RoPE on the GPU matches the CPU, and backward undoes forward") {
  cuda_rope_test::check_rope<float>(1e-6);
  cuda_rope_test::check_rope<double>(1e-12);
}
