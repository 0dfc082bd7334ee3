// GPU tests of cuda/norm.cuh against the CPU kernels: LayerNorm and RMSNorm forward (output, mean,
// rstd) and backward (d_x, d_weight, d_bias), on one-element rows, odd widths, a 4096-wide row and
// rank-3 inputs with an offset (the two-pass variance must not cancel). Tolerances: sums in double
// in another order than the CPU's lanes, 2e-6 of the values' scale in float (parameter gradients,
// summed over R rows: 2e-6·R), 1e-12 in double.
#include "cuda_testing.cuh"

#include <tlcr/cuda/norm.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_norm_test {
template <class T>
void check_norms(double tolerance) {
  Rng rng(88);
  for (const Shape shape : {Shape{1, 1}, Shape{5, 3}, Shape{2, 4096}, Shape{3, 7, 129}}) {
    CAPTURE(shape.str());
    const int64_t cols = shape.cols(), rows = shape.rows();
    Tensor<T> x = random_normal<T>(shape, rng);
    for (T& v : x) v += T(10);
    const Tensor<T> weight = random_normal<T>(Shape{cols}, rng),
                    bias = random_normal<T>(Shape{cols}, rng), g = random_normal<T>(shape, rng);
    const Tensor<T, Cuda> x_gpu = on_gpu(x), weight_gpu = on_gpu(weight), bias_gpu = on_gpu(bias),
                          g_gpu = on_gpu(g);
    const Shape stats = norm_stats_shape(shape);

    Tensor<T> out(shape), mean(stats), rstd(stats);
    Tensor<T, Cuda> out_gpu(shape), mean_gpu(stats), rstd_gpu(stats);
    layernorm_forward(out, mean, rstd, x, weight, bias, T(1e-5));
    layernorm_forward(out_gpu, mean_gpu, rstd_gpu, x_gpu, weight_gpu, bias_gpu, T(1e-5));
    CHECK(scaled_difference(out_gpu, out) <= tolerance);
    CHECK(scaled_difference(mean_gpu, mean) <= tolerance);
    CHECK(scaled_difference(rstd_gpu, rstd) <= tolerance);

    Tensor<T> d_x = random_normal<T>(shape, rng), d_w(Shape{cols}), d_b(Shape{cols});
    Tensor<T, Cuda> d_x_gpu = on_gpu(d_x), d_w_gpu(Shape{cols}), d_b_gpu(Shape{cols});
    layernorm_backward(&d_x, &d_w, &d_b, g, x, weight, mean, rstd);
    layernorm_backward(&d_x_gpu, &d_w_gpu, &d_b_gpu, g_gpu, x_gpu, weight_gpu, on_gpu(mean),
                       on_gpu(rstd));
    CHECK(scaled_difference(d_x_gpu, d_x) <= 10 * tolerance);
    CHECK(scaled_difference(d_w_gpu, d_w) <= tolerance * rows);
    CHECK(scaled_difference(d_b_gpu, d_b) <= tolerance * rows);

    Tensor<T> rms_out(shape), rms_rstd(stats);
    Tensor<T, Cuda> rms_out_gpu(shape), rms_rstd_gpu(stats);
    rmsnorm_forward(rms_out, rms_rstd, x, weight, T(1e-6));
    rmsnorm_forward(rms_out_gpu, rms_rstd_gpu, x_gpu, weight_gpu, T(1e-6));
    CHECK(scaled_difference(rms_out_gpu, rms_out) <= tolerance);
    CHECK(scaled_difference(rms_rstd_gpu, rms_rstd) <= tolerance);
    Tensor<T> rms_d_x(shape), rms_d_w(Shape{cols});
    Tensor<T, Cuda> rms_d_x_gpu(shape), rms_d_w_gpu(Shape{cols});
    rmsnorm_backward(&rms_d_x, &rms_d_w, g, x, weight, rms_rstd);
    rmsnorm_backward(&rms_d_x_gpu, &rms_d_w_gpu, g_gpu, x_gpu, weight_gpu, on_gpu(rms_rstd));
    CHECK(scaled_difference(rms_d_x_gpu, rms_d_x) <= 10 * tolerance);
    CHECK(scaled_difference(rms_d_w_gpu, rms_d_w) <= tolerance * rows);
  }
}
}  // namespace cuda_norm_test

TEST_CASE("LayerNorm and RMSNorm on the GPU match the CPU, forward and backward") {
  cuda_norm_test::check_norms<float>(2e-6);
  cuda_norm_test::check_norms<double>(1e-12);
}
