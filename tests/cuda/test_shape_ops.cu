// GPU tests of cuda/shape_ops.cuh against the CPU kernels: every pair of axes of rank-2/3/4
// tensors, slices and concatenations along every axis (empty pieces included), backward passes,
// and a KV cache filled step by step. All are copies or single adds: the same bits as the CPU.
#include "cuda_testing.cuh"

#include <tlcr/cuda/shape_ops.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

TEST_CASE("transpose on the GPU gives the CPU's bits for every pair of axes") {
  Rng rng(11);
  for (const Shape shape : {Shape{3, 5}, Shape{2, 3, 4}, Shape{2, 7, 3, 5}})
    for (int a = 0; a < shape.rank; ++a)
      for (int b = a + 1; b < shape.rank; ++b) {
        CAPTURE(shape.str());
        CAPTURE(a);
        CAPTURE(b);
        const Tensor<float> x = random_normal<float>(shape, rng);
        const Shape swapped = transpose_output_shape(shape, a, b);
        Tensor<float> out(swapped);
        Tensor<float, Cuda> out_gpu(swapped);
        transpose_forward(out, x, a, b);
        transpose_forward(out_gpu, on_gpu(x), a, b);
        CHECK(same_bits(out_gpu, out));
        const Tensor<float> g = random_normal<float>(swapped, rng);
        Tensor<float> d_x = random_normal<float>(shape, rng);
        Tensor<float, Cuda> d_x_gpu = on_gpu(d_x);
        transpose_backward(d_x, g, a, b);
        transpose_backward(d_x_gpu, on_gpu(g), a, b);
        CHECK(same_bits(d_x_gpu, d_x));
      }
}

TEST_CASE("slice and concat on the GPU give the CPU's bits, forward and backward") {
  Rng rng(12);
  const Shape shape{3, 8, 5};
  const Tensor<float> x = random_normal<float>(shape, rng);
  const Tensor<float, Cuda> x_gpu = on_gpu(x);
  for (int axis = 0; axis < 3; ++axis) {
    CAPTURE(axis);
    const int64_t n = shape.dims[axis], begin = 1, end = n - 1;
    const Shape sliced = slice_output_shape(shape, axis, begin, end);
    Tensor<float> out(sliced);
    Tensor<float, Cuda> out_gpu(sliced);
    slice_forward(out, x, axis, begin);
    slice_forward(out_gpu, x_gpu, axis, begin);
    CHECK(same_bits(out_gpu, out));
    const Tensor<float> g = random_normal<float>(sliced, rng);
    Tensor<float> d_x = random_normal<float>(shape, rng);
    Tensor<float, Cuda> d_x_gpu = on_gpu(d_x);
    slice_backward(d_x, g, axis, begin);
    slice_backward(d_x_gpu, on_gpu(g), axis, begin);
    CHECK(same_bits(d_x_gpu, d_x));

    // Three pieces along the axis, the middle one empty.
    Shape first = shape, empty = shape, last = shape;
    first.dims[axis] = 1, empty.dims[axis] = 0, last.dims[axis] = n;
    const std::vector<Tensor<float>> pieces{random_normal<float>(first, rng), Tensor<float>(empty),
                                            random_normal<float>(last, rng)};
    std::vector<Tensor<float, Cuda>> pieces_gpu;
    for (const auto& p : pieces) pieces_gpu.push_back(on_gpu(p));
    const Shape joined = concat_output_shape({first, empty, last}, axis);
    Tensor<float> cat(joined);
    Tensor<float, Cuda> cat_gpu(joined);
    concat_forward(cat, pieces, axis);
    concat_forward(cat_gpu, pieces_gpu, axis);
    CHECK(same_bits(cat_gpu, cat));
    const Tensor<float> g_cat = random_normal<float>(joined, rng);
    Tensor<float> d_first(first), d_last = random_normal<float>(last, rng);
    Tensor<float, Cuda> d_first_gpu(first), d_last_gpu = on_gpu(d_last);
    concat_backward<float>({&d_first, nullptr, &d_last}, {1, 0, n}, g_cat, axis);
    concat_backward<float>({&d_first_gpu, nullptr, &d_last_gpu}, {1, 0, n}, on_gpu(g_cat), axis);
    CHECK(same_bits(d_first_gpu, d_first));
    CHECK(same_bits(d_last_gpu, d_last));
  }
}

TEST_CASE("a KV cache written step by step on the GPU holds the CPU's values") {
  Rng rng(13);
  Tensor<float> cache(Shape{2, 3, 10, 4});
  Tensor<float, Cuda> cache_gpu(Shape{2, 3, 10, 4});
  int64_t offset = 0;
  for (const int64_t steps : {int64_t(5), int64_t(1), int64_t(1), int64_t(3)}) {
    const Tensor<float> x = random_normal<float>(Shape{2, 3, steps, 4}, rng);
    write_time_steps(cache, x, offset);
    write_time_steps(cache_gpu, on_gpu(x), offset);
    offset += steps;
  }
  CHECK(same_bits(cache_gpu, cache));
  CHECK_THROWS_AS(write_time_steps(cache_gpu, on_gpu(Tensor<float>(Shape{2, 3, 1, 4})), 10), Error);
}
