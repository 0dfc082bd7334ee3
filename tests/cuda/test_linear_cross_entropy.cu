// GPU tests of cuda/linear_cross_entropy.cuh against the CPU op: the loss and the unit gradients
// of h and W, with W in either layout, ignored rows and weights, in one chunk and in several
// (chunk_rows = 3 over 11 rows), targets on the host and on the device. Tolerances: products of C
// terms and sums over V in another order: 2e-6·C of the values' scale in float, 1e-13·C in double.
#include "cuda_testing.cuh"

#include <tlcr/cuda/linear_cross_entropy.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_lm_head_test {
template <class T>
void check_lm_head(double unit) {
  Rng rng(61);
  const int64_t rows = 11, C = 24, V = 37;
  for (const bool transpose_w : {false, true})
    for (const int64_t chunk : {int64_t(0), int64_t(3)}) {
      CAPTURE(transpose_w);
      CAPTURE(chunk);
      const Tensor<T> h = random_normal<T>(Shape{rows, C}, rng);
      const Tensor<T> w = random_normal<T>(transpose_w ? Shape{V, C} : Shape{C, V}, rng, 0.3);
      std::vector<int32_t> targets(rows);
      std::vector<T> weights(rows);
      for (int64_t i = 0; i < rows; ++i) {
        targets[i] = i % 5 == 2 ? -100 : int32_t(rng.uniform_int(uint64_t(V)));
        weights[i] = T(rng.uniform(0.1, 2));
      }
      Tensor<T> loss(Shape{1});
      LinearCrossEntropyGrads<T> grads{Tensor<T>(h.shape()), Tensor<T>(w.shape())};
      linear_cross_entropy_forward(loss, &grads, h, w, transpose_w,
                                   std::span<const int32_t>(targets), RowWeights<T>(weights), -100,
                                   chunk);
      Tensor<T, Cuda> loss_gpu(Shape{1});
      LinearCrossEntropyGrads<T, Cuda> grads_gpu{Tensor<T, Cuda>(h.shape()),
                                                 Tensor<T, Cuda>(w.shape())};
      const Tensor<int32_t, Cuda> targets_gpu = Tensor<int32_t, Cuda>::from(Shape{rows}, targets);
      linear_cross_entropy_forward(loss_gpu, &grads_gpu, on_gpu(h), on_gpu(w), transpose_w,
                                   targets_gpu, RowWeights<T>(weights), -100, chunk);
      CHECK(scaled_difference(loss_gpu, loss) <= unit * C);
      CHECK(scaled_difference(grads_gpu.d_h, grads.d_h) <= unit * C);
      CHECK(scaled_difference(grads_gpu.d_w, grads.d_w) <= unit * C);

      Tensor<T, Cuda> loss_only(Shape{1});  // no gradients wanted; targets from the host
      linear_cross_entropy_forward(
          loss_only, static_cast<LinearCrossEntropyGrads<T, Cuda>*>(nullptr), on_gpu(h), on_gpu(w),
          transpose_w, std::span<const int32_t>(targets), RowWeights<T>(weights), -100, chunk);
      CHECK(scaled_difference(loss_only, loss) <= unit * C);
    }
}
}  // namespace cuda_lm_head_test

TEST_CASE("the fused LM head and cross-entropy on the GPU match the CPU, in one chunk or several") {
  cuda_lm_head_test::check_lm_head<float>(2e-6);
  cuda_lm_head_test::check_lm_head<double>(1e-13);
}
