// Tests for SelfAttention::probabilities and Transformer::attention_probabilities (nn/attention.hpp,
// models/transformer.hpp): the probabilities the fused kernel never stores, spelled out. They are
// causal, zero on padded keys and sum to 1 per query; multiplied by the values they give exactly
// the kernel's output (fresh random modules in double: GPT-2's fused projection, and Llama's
// rotary grouped-query one); a model's last layer reads them after the blocks before it.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

namespace {
struct Case {
  const char* name;
  bool fused, rotary;
  int64_t heads, kv_heads;
};

// x (B,T,C) with right padding in row 1 (its last 3 tokens) and positions counting real tokens.
void check_module(const Case& c) {
  CAPTURE(c.name);
  Rng rng(4100);
  const int64_t B = 2, T = 7, C = 24;  // head sizes 8 (3 heads) and 6 (4 heads, rotary: even)
  ParameterStore<double> store;
  const SelfAttention<double> attention(store, "attn.", C, c.heads, c.fused, /*bias*/ true,
                                        c.rotary, 10000.0, c.kv_heads);
  store.finalize();
  store.values().copy_from(random_normal<double>({store.numel()}, rng));
  const Var<double> x = constant(random_normal<double>({B, T, C}, rng));
  std::vector<uint8_t> mask(B * T, 1);
  std::vector<int32_t> positions(B * T);
  for (int64_t t = 0; t < T; ++t) positions[t] = positions[T + t] = int32_t(t);
  for (int64_t t = T - 3; t < T; ++t) mask[T + t] = 0;
  const SequenceLayout<Cpu> layout{Tensor<uint8_t>::from(Shape{B * T}, mask),
                                   Tensor<int32_t>::from(Shape{B * T}, positions)};

  const Tensor<double> p = attention.probabilities(x, layout);
  REQUIRE(p.shape() == Shape{B, c.heads, T, T});
  const auto [q, k, v] = attention.project(x, layout);
  const Tensor<double> kernel = causal_attention(q, k, v, layout.key_mask).value();  // (B,H,T,D)
  const int64_t Dh = C / c.heads;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < T; ++i) {
        double total = 0;
        for (int64_t j = 0; j < T; ++j) {
          const double pij = p.data()[((b * c.heads + h) * T + i) * T + j];
          if (j > i || !mask[b * T + j]) CHECK(pij == 0.0);  // causal, padding never attended
          CHECK(pij >= 0.0);
          total += pij;
        }
        CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
        if (!mask[b * T + i]) continue;     // the kernel's padded queries are nobody's business
        for (int64_t d = 0; d < Dh; ++d) {  // Σ_j P_ij v_j is the kernel's output
          double mixed = 0;
          for (int64_t j = 0; j <= i; ++j)
            mixed += p.data()[((b * c.heads + h) * T + i) * T + j] *
                     v.value().data()[((b * c.heads + h) * T + j) * Dh + d];
          CHECK(
              mixed ==
              doctest::Approx(kernel.data()[((b * c.heads + h) * T + i) * Dh + d]).epsilon(1e-12));
        }
      }
}
}  // namespace

TEST_CASE("SelfAttention::probabilities: causal, padding-free, rows of 1, and P·V = the kernel") {
  check_module({"GPT-2: fused q/k/v", true, false, 3, 3});
  check_module({"Llama: rotary, grouped-query", false, true, 4, 2});
}

TEST_CASE("Transformer::attention_probabilities reads block L's attention after blocks 0 … L−1") {
  Rng rng(4101);
  Gpt2<double> model(TransformerConfig::gpt2(20, 16, 2, 2, 8), {}, 9);
  model.params().values().copy_from(random_normal<double>({model.params().numel()}, rng));
  const std::vector<int32_t> ids{1, 4, 7, 2, 9, 3, 8, 8, 0, 0};
  const std::vector<uint8_t> key_mask{1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  const ModelInput in{2, 5, ids, key_mask, {}};
  const Tensor<double> last = model.attention_probabilities(in, 1);
  CHECK(last.shape() == Shape{2, 2, 5, 5});
  // Block 1 sees block 0's output: different probabilities from block 0's own.
  CHECK(testing::max_abs_diff(last, model.attention_probabilities(in, 0)) > 1e-3);
  // Row 1's padded keys (3, 4) get nothing; its query 2 spreads over keys 0 … 2.
  for (int64_t h = 0; h < 2; ++h) {
    double total = 0;
    for (int64_t j = 0; j < 5; ++j) {
      const double pij = last.data()[((1 * 2 + h) * 5 + 2) * 5 + j];
      if (j > 2) CHECK(pij == 0.0);
      total += pij;
    }
    CHECK(total == doctest::Approx(1.0));
  }
  CHECK_THROWS_WITH_AS(model.attention_probabilities(in, 2), doctest::Contains("layer 2 of 2"),
                       Error);
}
