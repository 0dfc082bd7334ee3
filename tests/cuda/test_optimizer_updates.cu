// GPU tests of cuda/optimizer_updates.cuh against the CPU kernels: AdamW and SGD over buffers of
// awkward sizes (1, odd, over a million) with a mixed decay mask, the sum of squares, and in-place
// scaling. Tolerances: the updates run the same body on both sides but either may fuse a
// multiply-add, 1e-6 relative in float and 1e-14 in double; the sum of squares adds in another
// (fixed) order, 1e-12 relative; scaling is one multiplication, exact. sum_of_squares repeats bit
// for bit.
#include "cuda_testing.cuh"

#include <tlcr/cuda/optimizer_updates.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_optimizer_test {
template <class T>
void check_adamw_and_sgd(double tolerance) {
  Rng rng(99);
  for (const int64_t n : {int64_t(1), int64_t(3001), int64_t(1 << 20) + 7}) {
    CAPTURE(n);
    const Tensor<T> grads = random_normal<T>(Shape{n}, rng);
    Tensor<T> values = random_normal<T>(Shape{n}, rng), m = random_normal<T>(Shape{n}, rng, 0.1);
    Tensor<T> v(Shape{n});
    for (T& x : v) x = T(rng.uniform(0, 0.1));
    Tensor<uint8_t> mask(Shape{n});
    for (uint8_t& b : mask) b = rng.uniform() < 0.7;
    const AdamWCoefficients<T> c{T(0.9),  T(0.95), T(0.1),  T(0.05),
                                 T(0.01), T(1.3),  T(1e-8), T(0.999)};
    Tensor<T, Cuda> values_gpu = on_gpu(values), m_gpu = on_gpu(m), v_gpu = on_gpu(v);
    const Tensor<T, Cuda> grads_gpu = on_gpu(grads);
    const Tensor<uint8_t, Cuda> mask_gpu = on_gpu(mask);
    adamw_update(values, grads, mask, m, v, c);
    adamw_update(values_gpu, grads_gpu, mask_gpu, m_gpu, v_gpu, c);
    CHECK(scaled_difference(values_gpu, values) <= tolerance);
    CHECK(scaled_difference(m_gpu, m) <= tolerance);
    CHECK(scaled_difference(v_gpu, v) <= tolerance);

    Tensor<T> velocity = random_normal<T>(Shape{n}, rng);
    Tensor<T, Cuda> velocity_gpu = on_gpu(velocity);
    sgd_update(values, grads, mask, velocity, T(0.05), T(0.9), T(0.01), true);
    sgd_update(values_gpu, grads_gpu, mask_gpu, velocity_gpu, T(0.05), T(0.9), T(0.01), true);
    CHECK(scaled_difference(values_gpu, values) <= 2 * tolerance);
    CHECK(scaled_difference(velocity_gpu, velocity) <= tolerance);
  }
}
}  // namespace cuda_optimizer_test

TEST_CASE("AdamW and SGD updates on the GPU match the CPU (float, double)") {
  cuda_optimizer_test::check_adamw_and_sgd<float>(1e-6);
  cuda_optimizer_test::check_adamw_and_sgd<double>(1e-14);
}

TEST_CASE("sum_of_squares on the GPU: the CPU's value, the same bits every time") {
  Rng rng(5);
  for (const int64_t n : {int64_t(0), int64_t(1), int64_t(16385), int64_t(3) << 20}) {
    CAPTURE(n);
    const Tensor<float> x = random_normal<float>(Shape{n}, rng);
    const Tensor<float, Cuda> x_gpu = on_gpu(x);
    Tensor<double> total(Shape{1});
    Tensor<double, Cuda> total_gpu(Shape{1}), again(Shape{1});
    sum_of_squares(total, x);
    sum_of_squares(total_gpu, x_gpu);
    sum_of_squares(again, x_gpu);
    CHECK(std::abs(total_gpu.item() - total[0]) <= 1e-12 * std::max(1.0, total[0]));
    CHECK(again.item() == total_gpu.item());
  }
}

TEST_CASE("scale_in_place on the GPU is the CPU's multiplication") {
  Rng rng(6);
  Tensor<float> x = random_normal<float>(Shape{100003}, rng);
  Tensor<float, Cuda> x_gpu = on_gpu(x);
  scale_in_place(x, 0.731f);
  scale_in_place(x_gpu, 0.731f);
  CHECK(same_bits(x_gpu, x));
}
