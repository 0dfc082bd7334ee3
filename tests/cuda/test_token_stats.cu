// GPU tests of cuda/token_stats.cuh against the CPU kernels: full KL and entropy rows over a tiny
// and a GPT-2-sized vocabulary, the rollout table, the discriminator's probabilities, the ratio
// statistics, counts, the first non-finite value, and packing tensors of several element types.
// Tolerances: per-row sums in double in another order and CUDA's exp/log, 1e-10 relative; counts
// and packed values exact; the float probabilities within 1e-6.
#include "cuda_testing.cuh"

#include <cmath>

#include <tlcr/cuda/token_stats.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_token_stats_test {
bool close(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance * std::max(1.0, std::abs(b));
}
}  // namespace cuda_token_stats_test

TEST_CASE("full KL, entropy and the rollout table on the GPU match the CPU") {
  Rng rng(41);
  for (const Shape shape : {Shape{1, 3}, Shape{7, 50257}, Shape{33, 129}}) {
    CAPTURE(shape.str());
    const int64_t N = shape.dims[0];
    const Tensor<float> logits = random_normal<float>(shape, rng, 2.0);
    const Tensor<float> ref_logits = random_normal<float>(shape, rng, 2.0);
    const Tensor<float> logprobs = random_normal<float>(Shape{N}, rng),
                        ref_logprobs = random_normal<float>(Shape{N}, rng),
                        values = random_normal<float>(Shape{N}, rng);
    const Tensor<double> kl = token_kl_stats(logits, ref_logits);
    const Tensor<double> kl_gpu = token_kl_stats(on_gpu(logits), on_gpu(ref_logits)).to_host();
    const Tensor<double> table =
        rollout_token_stats(logits, ref_logits, logprobs, ref_logprobs, values);
    const Tensor<double> table_gpu =
        rollout_token_stats(on_gpu(logits), on_gpu(ref_logits), on_gpu(logprobs),
                            on_gpu(ref_logprobs), on_gpu(values))
            .to_host();
    for (int64_t i = 0; i < kl.numel(); ++i)
      CHECK(cuda_token_stats_test::close(kl_gpu[i], kl[i], 1e-10));
    for (int64_t i = 0; i < table.numel(); ++i)
      CHECK(cuda_token_stats_test::close(table_gpu[i], table[i], 1e-10));
  }
}

TEST_CASE("probabilities, ratio statistics, counts and checks on the GPU match the CPU") {
  Rng rng(42);
  const Tensor<float> pair_logits = random_normal<float>(Shape{5, 9, 2}, rng, 3.0);
  CHECK(scaled_difference(positive_probabilities(on_gpu(pair_logits)),
                          positive_probabilities(pair_logits)) <= 1e-6);

  const Tensor<float> a = random_normal<float>(Shape{1001}, rng),
                      b = random_normal<float>(Shape{1001}, rng),
                      c = random_normal<float>(Shape{1001}, rng, 0.1);
  Tensor<float> r(Shape{1001});
  for (int64_t i = 0; i < r.numel(); ++i) r[i] = std::exp(c[i]);
  const Tensor<double> stats = policy_ratio_stats(a, b, c, r);
  const Tensor<double> stats_gpu =
      policy_ratio_stats(on_gpu(a), on_gpu(b), on_gpu(c), on_gpu(r)).to_host();
  CHECK(stats_gpu[0] == stats[0]);
  for (int i = 1; i < 4; ++i) CHECK(cuda_token_stats_test::close(stats_gpu[i], stats[i], 1e-12));
  CHECK(count_greater(on_gpu(a), on_gpu(b)).item() == count_greater(a, b)[0]);

  Tensor<float> x = random_normal<float>(Shape{3, 400}, rng);
  CHECK(first_non_finite(on_gpu(x)).item() == -1);
  x[777] = std::numeric_limits<float>::infinity();
  x[999] = std::nanf("");
  CHECK(first_non_finite(on_gpu(x)).item() == 777);

  const Tensor<int64_t> counts = Tensor<int64_t>::from(Shape{2}, {3, -4});
  const Tensor<double> packed = pack_as_double(a.slice(0, 3), counts, Tensor<double>());
  const Tensor<double> packed_gpu =
      pack_as_double(on_gpu(a.slice(0, 3).clone()), on_gpu(counts), Tensor<double, Cuda>())
          .to_host();
  REQUIRE(packed_gpu.numel() == 5);
  for (int64_t i = 0; i < 5; ++i) CHECK(packed_gpu[i] == packed[i]);
}
