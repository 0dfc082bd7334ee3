// GPU tests of cuda/heads.cuh against the CPU kernels: a fused q|k|v projection split into three
// head tensors, one part's backward, and merging heads back, forward and backward. Permutations:
// the same bits as the CPU.
#include "cuda_testing.cuh"

#include <tlcr/cuda/heads.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

TEST_CASE("split and merge heads on the GPU give the CPU's bits") {
  Rng rng(21);
  const int64_t batch = 2, time = 5, heads = 3, head_size = 4, parts = 3;
  const Tensor<float> x = random_normal<float>(Shape{batch, time, parts * heads * head_size}, rng);
  const Shape head_shape{batch, heads, time, head_size};
  std::vector<Tensor<float>> outs;  // each its own storage (copies of a Tensor share it)
  std::vector<Tensor<float, Cuda>> outs_gpu;
  for (int64_t p = 0; p < parts; ++p)
    outs.emplace_back(head_shape), outs_gpu.emplace_back(head_shape);
  split_heads_forward(outs, x, heads);
  split_heads_forward(outs_gpu, on_gpu(x), heads);
  for (int64_t p = 0; p < parts; ++p) CHECK(same_bits(outs_gpu[p], outs[p]));

  const Tensor<float> g = random_normal<float>(head_shape, rng);
  Tensor<float> d_x = random_normal<float>(x.shape(), rng);
  Tensor<float, Cuda> d_x_gpu = on_gpu(d_x);
  split_heads_backward(d_x, g, 1, parts);
  split_heads_backward(d_x_gpu, on_gpu(g), 1, parts);
  CHECK(same_bits(d_x_gpu, d_x));

  Tensor<float> merged(Shape{batch, time, heads * head_size});
  Tensor<float, Cuda> merged_gpu(merged.shape());
  merge_heads_forward(merged, outs[2]);
  merge_heads_forward(merged_gpu, outs_gpu[2]);
  CHECK(same_bits(merged_gpu, merged));
  const Tensor<float> g_merged = random_normal<float>(merged.shape(), rng);
  Tensor<float> d_y = random_normal<float>(head_shape, rng);
  Tensor<float, Cuda> d_y_gpu = on_gpu(d_y);
  merge_heads_backward(d_y, g_merged);
  merge_heads_backward(d_y_gpu, on_gpu(g_merged));
  CHECK(same_bits(d_y_gpu, d_y));
}
