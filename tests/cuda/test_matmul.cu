// GPU tests of cuda/matmul.cuh, cuda/linear.cuh (cuBLAS) and cuda/reduce.cuh against the CPU
// kernels, on fresh random inputs and awkward shapes: one element, a single row or inner size 1,
// odd sizes, rank-3 inputs, every transpose combination, batches over two axes. Tolerances: a
// product adds k terms in another order than the CPU's: |Δ| ≤ 2e-6·k (float, TF32 off) or 1e-14·k
// (double) times the values' scale. Sums over an axis or over rows add in the CPU's order: the same
// bits. The sum of everything adds in another fixed order, in double: 1e-6 (float). cuda::gemm
// itself (cuda/blas.cuh) is checked on strided blocks inside a larger buffer.
#include "cuda_testing.cuh"

#include <tlcr/cuda/blas.cuh>
#include <tlcr/cuda/linear.cuh>
#include <tlcr/cuda/matmul.cuh>
#include <tlcr/cuda/reduce.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_matmul_test {
struct Sizes {
  int64_t m, k, n;
};
const Sizes kSizes[] = {{1, 1, 1}, {1, 37, 5}, {7, 1, 13}, {13, 29, 3}, {257, 129, 65}};

template <class T>
void check_matmul(double unit) {
  Rng rng(404);
  for (const Sizes s : kSizes)
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        CAPTURE(s.m);
        CAPTURE(s.k);
        CAPTURE(s.n);
        CAPTURE(ta);
        CAPTURE(tb);
        const Tensor<T> a = random_normal<T>(ta ? Shape{s.k, s.m} : Shape{s.m, s.k}, rng);
        const Tensor<T> b = random_normal<T>(tb ? Shape{s.n, s.k} : Shape{s.k, s.n}, rng);
        const Tensor<T> g = random_normal<T>(Shape{s.m, s.n}, rng);
        const Tensor<T, Cuda> a_gpu = on_gpu(a), b_gpu = on_gpu(b), g_gpu = on_gpu(g);
        Tensor<T> out(Shape{s.m, s.n});
        Tensor<T, Cuda> out_gpu(Shape{s.m, s.n});
        matmul_forward(out, a, b, ta, tb);
        matmul_forward(out_gpu, a_gpu, b_gpu, ta, tb);
        CHECK(scaled_difference(out_gpu, out) <= unit * double(s.k));

        Tensor<T> d_a = random_normal<T>(a.shape(), rng), d_b = random_normal<T>(b.shape(), rng);
        Tensor<T, Cuda> d_a_gpu = on_gpu(d_a), d_b_gpu = on_gpu(d_b);
        matmul_backward(&d_a, &d_b, g, a, b, ta, tb);
        matmul_backward(&d_a_gpu, &d_b_gpu, g_gpu, a_gpu, b_gpu, ta, tb);
        CHECK(scaled_difference(d_a_gpu, d_a) <= unit * double(s.n + 1));
        CHECK(scaled_difference(d_b_gpu, d_b) <= unit * double(s.m + 1));
      }

  // Rank-3 a: its leading axes are rows.
  const Tensor<T> a = random_normal<T>(Shape{3, 5, 7}, rng), b = random_normal<T>(Shape{7, 9}, rng);
  Tensor<T> out(Shape{3, 5, 9});
  Tensor<T, Cuda> out_gpu(Shape{3, 5, 9});
  matmul_forward(out, a, b);
  matmul_forward(out_gpu, on_gpu(a), on_gpu(b));
  CHECK(scaled_difference(out_gpu, out) <= unit * 7);
}

template <class T>
void check_batched(double unit) {
  Rng rng(405);
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      const int64_t m = 5, k = 11, n = 3;
      const Tensor<T> a = random_normal<T>(ta ? Shape{2, 3, k, m} : Shape{2, 3, m, k}, rng);
      const Tensor<T> b = random_normal<T>(tb ? Shape{2, 3, n, k} : Shape{2, 3, k, n}, rng);
      const Tensor<T> g = random_normal<T>(Shape{2, 3, m, n}, rng);
      Tensor<T> out(Shape{2, 3, m, n});
      Tensor<T, Cuda> out_gpu(Shape{2, 3, m, n});
      batched_matmul_forward(out, a, b, ta, tb);
      batched_matmul_forward(out_gpu, on_gpu(a), on_gpu(b), ta, tb);
      CHECK(scaled_difference(out_gpu, out) <= unit * k);
      Tensor<T> d_a = random_normal<T>(a.shape(), rng), d_b = random_normal<T>(b.shape(), rng);
      Tensor<T, Cuda> d_a_gpu = on_gpu(d_a), d_b_gpu = on_gpu(d_b);
      batched_matmul_backward(&d_a, &d_b, g, a, b, ta, tb);
      batched_matmul_backward(&d_a_gpu, &d_b_gpu, on_gpu(g), on_gpu(a), on_gpu(b), ta, tb);
      CHECK(scaled_difference(d_a_gpu, d_a) <= unit * (n + 1));
      CHECK(scaled_difference(d_b_gpu, d_b) <= unit * (m + 1));
    }
}
}  // namespace cuda_matmul_test

TEST_CASE("matmul forward and backward through cuBLAS match the CPU (float, double)") {
  REQUIRE_FALSE(cuda::tf32_allowed());  // PyTorch's default: full FP32 products
  cuda_matmul_test::check_matmul<float>(2e-6);
  cuda_matmul_test::check_matmul<double>(1e-14);
}

TEST_CASE("batched matmul (strided-batched cuBLAS) matches the CPU, every transpose") {
  cuda_matmul_test::check_batched<float>(2e-6);
  cuda_matmul_test::check_batched<double>(1e-14);
}

TEST_CASE("linear with and without bias, and its gradients, match the CPU") {
  Rng rng(406);
  for (const bool transpose_w : {false, true})
    for (const bool with_bias : {false, true}) {
      CAPTURE(transpose_w);
      CAPTURE(with_bias);
      const Tensor<float> x = random_normal<float>(Shape{4, 9, 33}, rng);
      const Tensor<float> w =
          random_normal<float>(transpose_w ? Shape{17, 33} : Shape{33, 17}, rng);
      const Tensor<float> bias = with_bias ? random_normal<float>(Shape{17}, rng) : Tensor<float>();
      const Tensor<float, Cuda> x_gpu = on_gpu(x), w_gpu = on_gpu(w);
      const Tensor<float, Cuda> bias_gpu = with_bias ? on_gpu(bias) : Tensor<float, Cuda>();
      Tensor<float> out(Shape{4, 9, 17});
      Tensor<float, Cuda> out_gpu(Shape{4, 9, 17});
      linear_forward(out, x, w, bias, transpose_w);
      linear_forward(out_gpu, x_gpu, w_gpu, bias_gpu, transpose_w);
      CHECK(scaled_difference(out_gpu, out) <= 2e-6 * 34);

      const Tensor<float> g = random_normal<float>(out.shape(), rng);
      Tensor<float> d_x(x.shape()), d_w(w.shape()), d_bias(Shape{17});
      Tensor<float, Cuda> d_x_gpu(x.shape()), d_w_gpu(w.shape()), d_bias_gpu(Shape{17});
      linear_backward(&d_x, &d_w, with_bias ? &d_bias : nullptr, g, x, w, transpose_w);
      linear_backward(&d_x_gpu, &d_w_gpu, with_bias ? &d_bias_gpu : nullptr, on_gpu(g), x_gpu,
                      w_gpu, transpose_w);
      CHECK(scaled_difference(d_x_gpu, d_x) <= 2e-6 * 18);
      CHECK(scaled_difference(d_w_gpu, d_w) <= 2e-6 * 37);
      CHECK(same_bits(d_bias_gpu, d_bias));  // column sums in row order on both sides
    }
}

TEST_CASE("sums over an axis, over rows and over everything match the CPU") {
  Rng rng(407);
  const Tensor<float> x = random_normal<float>(Shape{3, 129, 5}, rng);
  const Tensor<float, Cuda> x_gpu = on_gpu(x);
  for (int axis : {0, 1, 2, -1}) {
    CAPTURE(axis);
    int reduced_axis = axis;
    Shape reduced;
    split_axis("test", x.shape(), reduced_axis, &reduced);
    Tensor<float> out(reduced);
    Tensor<float, Cuda> out_gpu(reduced);
    sum_axis_forward(out, x, axis, 0.25f);
    sum_axis_forward(out_gpu, x_gpu, axis, 0.25f);
    CHECK(same_bits(out_gpu, out));
    const Tensor<float> g = random_normal<float>(reduced, rng);
    Tensor<float> d_x = random_normal<float>(x.shape(), rng);
    Tensor<float, Cuda> d_x_gpu = on_gpu(d_x);
    sum_axis_backward(d_x, g, axis, 0.25f);
    sum_axis_backward(d_x_gpu, on_gpu(g), axis, 0.25f);
    CHECK(scaled_difference(d_x_gpu, d_x) <= 1e-6);
  }
  Tensor<float> sums = random_normal<float>(Shape{5}, rng);
  Tensor<float, Cuda> sums_gpu = on_gpu(sums);
  add_row_sums(sums, x);
  add_row_sums(sums_gpu, x_gpu);
  CHECK(same_bits(sums_gpu, sums));

  for (const int64_t n : {int64_t(1), int64_t(16385), int64_t(1) << 21}) {
    CAPTURE(n);
    const Tensor<float> big = random_normal<float>(Shape{n}, rng);
    Tensor<float> total(Shape{1});
    Tensor<float, Cuda> total_gpu(Shape{1});
    sum_all_forward(total, big, 0.5f);
    sum_all_forward(total_gpu, on_gpu(big), 0.5f);
    CHECK(std::abs(double(total_gpu.item()) - double(total[0])) <=
          1e-6 * std::max(1.0, std::abs(double(total[0]))));
    Tensor<float> d_big = random_normal<float>(Shape{n}, rng);
    Tensor<float, Cuda> d_big_gpu = on_gpu(d_big);
    sum_all_backward(d_big, total, 2.0f);
    sum_all_backward(d_big_gpu, on_gpu(total), 2.0f);
    CHECK(scaled_difference(d_big_gpu, d_big) <= 1e-6);
  }
}

TEST_CASE("cuda::gemm with row and batch strides writes only its block; an empty sum writes 0") {
  Rng rng(408);
  // Two 3×4 blocks inside a (2, 5, 6) buffer: rows 6 apart, blocks 30 apart; the rest untouched.
  const Tensor<float> a = random_normal<float>(Shape{2, 3, 7}, rng);
  const Tensor<float> b = random_normal<float>(Shape{2, 4, 7}, rng);
  const Tensor<float> before = random_normal<float>(Shape{2, 5, 6}, rng);
  Tensor<float, Cuda> out = on_gpu(before);
  cuda::gemm(cuda::DeviceMatrix<float>{cuda::raw(out), 3, 4, 6, 30},
             cuda::DeviceMatrix<const float>{cuda::raw(on_gpu(a)), 3, 7}, false,
             cuda::DeviceMatrix<const float>{cuda::raw(on_gpu(b)), 4, 7}, true, false, 2);
  const Tensor<float> got = out.to_host();
  for (int64_t m = 0; m < 2; ++m)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        const float value = got[(m * 5 + i) * 6 + j];
        if (i < 3 && j < 4) {
          double expected = 0;
          for (int64_t k = 0; k < 7; ++k)
            expected += double(a[(m * 3 + i) * 7 + k]) * double(b[(m * 4 + j) * 7 + k]);
          CHECK(std::abs(value - expected) <= 1e-5 * std::max(1.0, std::abs(expected)));
        } else {
          CHECK(value == before[(m * 5 + i) * 6 + j]);
        }
      }
  // k = 0 without accumulation: the block becomes 0, its neighbours stay.
  Tensor<float, Cuda> zeroed = on_gpu(before);
  const Tensor<float, Cuda> empty(Shape{3, 0});
  cuda::gemm(cuda::DeviceMatrix<float>{cuda::raw(zeroed), 3, 4, 6, 30},
             cuda::DeviceMatrix<const float>{cuda::raw(empty), 3, 0}, false,
             cuda::DeviceMatrix<const float>{cuda::raw(empty), 0, 4}, false, false, 2);
  const Tensor<float> z = zeroed.to_host();
  for (int64_t m = 0; m < 2; ++m)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 6; ++j)
        CHECK(z[(m * 5 + i) * 6 + j] == (i < 3 && j < 4 ? 0.0f : before[(m * 5 + i) * 6 + j]));
}
