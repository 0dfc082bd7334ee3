// Tests for ops/linear_cross_entropy.hpp and autograd/fn/linear_cross_entropy.hpp: the fused op
// equals matmul + cross_entropy in loss and gradients (weights, ignored rows, both weight layouts,
// one chunk or many), passes gradcheck in double, records nothing under NoGrad and is the same for
// every thread count.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

namespace {
struct LceCase {
  Tensor<double> h, w;
  std::vector<int32_t> targets;
  std::vector<double> weights;
};

LceCase make_lce_case(Rng& rng, int64_t rows, int64_t width, int64_t vocab, bool transpose_w) {
  LceCase c{random_normal<double>({rows, width}, rng),
            random_normal<double>(transpose_w ? Shape{vocab, width} : Shape{width, vocab}, rng),
            {},
            {}};
  for (int64_t i = 0; i < rows; ++i) {
    c.targets.push_back(i % 5 == 3 ? -100 : int32_t(rng.uniform_int(uint64_t(vocab))));
    c.weights.push_back(0.25 + rng.uniform());
  }
  return c;
}
}  // namespace

TEST_CASE("linear_cross_entropy equals matmul + cross_entropy in loss and gradients") {
  Rng rng(500);
  for (bool transpose_w : {false, true})
    for (bool weighted : {false, true})
      for (int64_t chunk_rows : {0, 3}) {  // one chunk, or several with a short last one
        const LceCase c = make_lce_case(rng, 11, 6, 9, transpose_w);
        const RowWeights<double> weights =
            weighted ? RowWeights<double>(c.weights) : RowWeights<double>();
        // Reference: the logits exist, then the ordinary fused cross-entropy.
        auto h_ref = parameter(c.h.clone()), w_ref = parameter(c.w.clone());
        const Var<double> loss_ref =
            cross_entropy(matmul(h_ref, w_ref, false, transpose_w), c.targets, weights);
        backward(loss_ref);

        Tensor<double> loss{Shape{}};
        LinearCrossEntropyGrads<double> unit{Tensor<double>(c.h.shape()),
                                             Tensor<double>(c.w.shape())};
        linear_cross_entropy_forward(loss, &unit, c.h, c.w, transpose_w, c.targets, weights, -100,
                                     chunk_rows);
        CHECK(loss[0] == doctest::Approx(loss_ref.value()[0]).epsilon(1e-12));
        CHECK(testing::max_abs_diff(unit.d_h, h_ref.grad()) < 1e-12);
        CHECK(testing::max_abs_diff(unit.d_w, w_ref.grad()) < 1e-12);
      }
}

TEST_CASE("linear_cross_entropy passes gradcheck and scales by the upstream gradient") {
  Rng rng(501);
  for (bool transpose_w : {false, true}) {
    const LceCase c = make_lce_case(rng, 7, 4, 6, transpose_w);
    auto h = parameter(c.h.clone()), w = parameter(c.w.clone());
    TLCR_CHECK_GRADIENTS(
        [&] {
          return scale(
              linear_cross_entropy(h, w, transpose_w, c.targets, RowWeights<double>(c.weights)),
              2.5);
        },
        {h, w});
  }
}

TEST_CASE("linear_cross_entropy: no gradients under NoGrad, all rows ignored gives 0") {
  Rng rng(502);
  const LceCase c = make_lce_case(rng, 5, 3, 4, false);
  auto h = parameter(c.h.clone()), w = parameter(c.w.clone());
  clear_tape<double>();
  {
    NoGrad no_grad;
    const Var<double> loss = linear_cross_entropy(h, w, false, c.targets);
    CHECK(std::isfinite(loss.value()[0]));
    CHECK(tape<double>().nodes.empty());
  }
  const std::vector<int32_t> ignored(5, -100);
  const Var<double> zero = linear_cross_entropy(h, w, false, ignored);
  CHECK(zero.value()[0] == 0.0);
  backward(zero);
  CHECK(testing::max_abs_diff(h.grad(), Tensor<double>::zeros(h.shape())) == 0.0);
  CHECK(testing::max_abs_diff(w.grad(), Tensor<double>::zeros(w.shape())) == 0.0);

  const std::vector<int32_t> bad{0, 1, 7, 0, 0};
  CHECK_THROWS_WITH_AS(linear_cross_entropy(h, w, false, bad),
                       doctest::Contains("target 7 at row 2 is outside [0, 4)"), Error);
}

TEST_CASE("linear_cross_entropy is the same for every thread count") {
  Rng rng(503);
  const Tensor<float> h = random_normal<float>({700, 48}, rng);
  const Tensor<float> w = random_normal<float>({300, 48}, rng);
  std::vector<int32_t> targets(700);
  for (auto& t : targets) t = int32_t(rng.uniform_int(300));
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Tensor<float> loss{Shape{}};
    LinearCrossEntropyGrads<float> unit{Tensor<float>(h.shape()), Tensor<float>(w.shape())};
    linear_cross_entropy_forward(loss, &unit, h, w, true, targets, {}, -100, 128);
    std::vector<float> all = unit.d_h.to_vector();
    const std::vector<float> dw = unit.d_w.to_vector();
    all.insert(all.end(), dw.begin(), dw.end());
    all.push_back(loss[0]);
    return all;
  };
  CHECK(run(1) == run(2));
}
