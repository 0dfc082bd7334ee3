// GPU tests of cuda/clamp.cuh and cuda/dropout.cuh against the CPU kernels: clamp with inputs on
// and beyond both bounds, minimum/maximum with ties, where with a 0/1 mask (and a mask holding
// 0.5, refused with its position), and dropout masks drawn from the same (seed, index) function
// as the CPU's. Selections and masks: the CPU's bits; the gradient adds may fuse a multiply-add
// (dropout backward): one rounding.
#include "cuda_testing.cuh"

#include <tlcr/cuda/clamp.cuh>
#include <tlcr/cuda/dropout.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

TEST_CASE("clamp, minimum, maximum and where on the GPU give the CPU's bits") {
  Rng rng(31);
  const Shape shape{7, 130};
  Tensor<float> a = random_normal<float>(shape, rng), b = random_normal<float>(shape, rng);
  for (int64_t i = 0; i < a.numel(); i += 9) b[i] = a[i];  // ties
  a[3] = 0.5f, a[4] = -0.5f;                               // exactly on the clamp bounds
  Tensor<float> mask(shape);
  for (float& m : mask) m = rng.uniform() < 0.5 ? 1.0f : 0.0f;
  const Tensor<float> g = random_normal<float>(shape, rng);
  const Tensor<float, Cuda> a_gpu = on_gpu(a), b_gpu = on_gpu(b), mask_gpu = on_gpu(mask),
                            g_gpu = on_gpu(g);

  Tensor<float> out(shape);
  Tensor<float, Cuda> out_gpu(shape);
  clamp_forward(out, a, -0.5f, 0.5f);
  clamp_forward(out_gpu, a_gpu, -0.5f, 0.5f);
  CHECK(same_bits(out_gpu, out));
  Tensor<float> d_a = random_normal<float>(shape, rng), d_b = random_normal<float>(shape, rng);
  Tensor<float, Cuda> d_a_gpu = on_gpu(d_a), d_b_gpu = on_gpu(d_b);
  clamp_backward(d_a, g, a, -0.5f, 0.5f);
  clamp_backward(d_a_gpu, g_gpu, a_gpu, -0.5f, 0.5f);
  CHECK(same_bits(d_a_gpu, d_a));

  minimum_forward(out, a, b);
  minimum_forward(out_gpu, a_gpu, b_gpu);
  CHECK(same_bits(out_gpu, out));
  minimum_backward(&d_a, &d_b, g, a, b);
  minimum_backward(&d_a_gpu, &d_b_gpu, g_gpu, a_gpu, b_gpu);
  CHECK(same_bits(d_a_gpu, d_a));
  CHECK(same_bits(d_b_gpu, d_b));
  maximum_forward(out, a, b);
  maximum_forward(out_gpu, a_gpu, b_gpu);
  CHECK(same_bits(out_gpu, out));
  maximum_backward(&d_a, static_cast<Tensor<float>*>(nullptr), g, a, b);
  maximum_backward(&d_a_gpu, static_cast<Tensor<float, Cuda>*>(nullptr), g_gpu, a_gpu, b_gpu);
  CHECK(same_bits(d_a_gpu, d_a));

  where_forward(out, mask, a, b);
  where_forward(out_gpu, mask_gpu, a_gpu, b_gpu);
  CHECK(same_bits(out_gpu, out));
  where_backward(&d_a, &d_b, g, mask);
  where_backward(&d_a_gpu, &d_b_gpu, g_gpu, mask_gpu);
  CHECK(same_bits(d_a_gpu, d_a));
  CHECK(same_bits(d_b_gpu, d_b));

  mask[2 * 130 + 5] = 0.5f;
  CHECK_THROWS_WITH_AS(where_forward(out_gpu, on_gpu(mask), a_gpu, b_gpu),
                       doctest::Contains("found 0.5 at flat index 265"), Error);
}

TEST_CASE("dropout on the GPU drops exactly the CPU's elements") {
  Rng rng(32);
  for (const double p : {0.0, 0.1, 0.5, 1.0}) {
    CAPTURE(p);
    const Shape shape{3, 1000};
    Tensor<float> mask(shape);
    Tensor<float, Cuda> mask_gpu(shape);
    dropout_mask(mask, p, 77);
    dropout_mask(mask_gpu, p, 77);
    CHECK(same_bits(mask_gpu, mask));
    const Tensor<float> x = random_normal<float>(shape, rng), g = random_normal<float>(shape, rng);
    Tensor<float> out(shape), d_x = random_normal<float>(shape, rng);
    Tensor<float, Cuda> out_gpu(shape), d_x_gpu = on_gpu(d_x);
    dropout_forward(out, x, mask);
    dropout_forward(out_gpu, on_gpu(x), mask_gpu);
    CHECK(same_bits(out_gpu, out));
    dropout_backward(d_x, g, mask);
    dropout_backward(d_x_gpu, on_gpu(g), mask_gpu);
    CHECK(scaled_difference(d_x_gpu, d_x) <= 2e-7);
  }
}
