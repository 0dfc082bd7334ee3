// Tests for models/transformer.hpp (with nn/ and models/arch.hpp): a whole tiny model passes
// gradcheck in double for both architectures and every head; KV-cached logits equal a full
// recompute; a left-padded row computes exactly what the same row unpadded does.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/cross_entropy.hpp>
#include <tlcr/models/transformer.hpp>

using namespace tlcr;

namespace {

TransformerConfig tiny(Architecture arch) {
  TransformerConfig c = arch == Architecture::Gpt2 ? TransformerConfig::gpt2(11, 8, 2, 2, 8)
                                                   : TransformerConfig::llama(11, 8, 2, 2, 8);
  if (arch == Architecture::Llama) c.mlp_hidden = 12;
  return c;
}

std::vector<int32_t> random_ids(Rng& rng, int64_t n, int64_t vocab) {
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng.uniform_int(vocab));
  return ids;
}

// Perturbs every parameter a little so that zero-initialised biases and unit gains are generic.
template <class T, class Arch>
void jitter(Transformer<T, Arch>& model, Rng& rng) {
  for (T& v : model.params().values()) v += T(0.1 * rng.normal());
}

template <class Arch>
void check_whole_model_gradients(Architecture arch, const Dropout& dropout = {}) {
  Rng rng(500);
  const HeadConfig heads{.lm = true, .value = true, .token_classes = 0, .sequence_score = false};
  Transformer<double, Arch> model(tiny(arch), heads, 7);
  jitter(model, rng);
  const int64_t B = 2, T = 5;
  const std::vector<int32_t> ids = random_ids(rng, B * T, 11);
  const std::vector<int32_t> targets = random_ids(rng, B * T, 11);
  std::vector<uint8_t> mask(B * T, 1);
  mask[5] = 0;  // row 1 is left-padded by one
  std::vector<int32_t> positions{0, 1, 2, 3, 4, 0, 0, 1, 2, 3};
  const Tensor<double> value_weights = testing::random_normal<double>({B, T}, rng);
  auto loss = [&] {
    const Var<double> h = model.hidden({B, T, ids, mask, positions}, nullptr, dropout);
    const Var<double> lm = cross_entropy(reshape(model.lm_logits(h), Shape{B * T, 11}),
                                         std::span<const int32_t>(targets));
    return add(lm, sum(mul(model.values(h), constant(value_weights))));
  };
  std::vector<Var<double>> inputs;
  std::vector<std::string> names;
  for (const auto& p : model.params().parameters())
    inputs.push_back(p.var), names.push_back(p.name);
  TLCR_CHECK_GRADIENTS(loss, inputs, {.tolerance = 1e-5, .names = names});
}

}  // namespace

TEST_CASE("a whole tiny GPT-2 passes gradcheck in double (LM + value heads)") {
  check_whole_model_gradients<Gpt2Arch>(Architecture::Gpt2);
}

TEST_CASE("a whole tiny Llama-style model passes gradcheck in double") {
  check_whole_model_gradients<LlamaArch>(Architecture::Llama);
}

TEST_CASE("with dropout at every site, a whole tiny model still passes gradcheck (fixed seed)") {
  const Dropout dropout{{.embedding = 0.2, .residual = 0.3, .attention = 0.25}, 41};
  check_whole_model_gradients<Gpt2Arch>(Architecture::Gpt2, dropout);
  check_whole_model_gradients<LlamaArch>(Architecture::Llama, dropout);
}

TEST_CASE(
    "dropout: a pure function of the seed; each site matters; off leaves the model as it was") {
  Rng rng(502);
  Transformer<float, Gpt2Arch> model(TransformerConfig::gpt2(11, 8, 2, 2, 8), {}, 5);
  jitter(model, rng);
  const int64_t B = 2, T = 6;
  const std::vector<int32_t> ids = random_ids(rng, B * T, 11);
  auto run = [&](const Dropout& dropout, int threads = 1) {
    ThreadCountGuard guard(threads);
    return model.hidden({B, T, ids, {}, {}}, nullptr, dropout).value().clone();
  };
  const Tensor<float> plain = run({});
  const DropoutRates every{.embedding = 0.1, .residual = 0.1, .attention = 0.1};
  CHECK(testing::max_abs_diff(run({every, 1}), run({every, 1}, 2)) == 0.0);
  CHECK(testing::max_abs_diff(run({every, 1}), run({every, 2})) > 0.0);
  CHECK(testing::max_abs_diff(run({{.embedding = 0.3}, 1}), plain) > 0.0);
  CHECK(testing::max_abs_diff(run({{.residual = 0.3}, 1}), plain) > 0.0);
  CHECK(testing::max_abs_diff(run({{.attention = 0.3}, 1}), plain) > 0.0);
  CHECK(testing::max_abs_diff(run({{}, 1}), plain) == 0.0);  // rates 0: the seed is ignored
  // Micro-batches of one run get different masks; the same (seed, step, micro) the same one.
  CHECK(Dropout::for_step(every, 3, 4, 0).seed == Dropout::for_step(every, 3, 4, 0).seed);
  CHECK(Dropout::for_step(every, 3, 4, 0).seed != Dropout::for_step(every, 3, 4, 1).seed);
  CHECK(Dropout::for_step(every, 3, 4, 0).seed != Dropout::for_step(every, 3, 5, 0).seed);
  // Refused: a rate of 1 or more, and dropout while decoding with a cache.
  CHECK_THROWS_WITH_AS(run({{.residual = 1.0}, 1}),
                       doctest::Contains("dropout: each rate must be in [0, 1)"), Error);
  KvCache<float> cache(2, B, 2, T, 4);
  CHECK_THROWS_WITH_AS(model.hidden({B, T, ids, {}, {}}, &cache, {every, 1}),
                       doctest::Contains("dropout is for training passes"), Error);
}

TEST_CASE("token-classifier and sequence-score heads pass gradcheck") {
  Rng rng(501);
  Transformer<double, Gpt2Arch> classifier(tiny(Architecture::Gpt2),
                                           {.lm = false, .token_classes = 2}, 3);
  Transformer<double, Gpt2Arch> scorer(tiny(Architecture::Gpt2),
                                       {.lm = false, .sequence_score = true}, 4);
  jitter(classifier, rng);
  jitter(scorer, rng);
  const std::vector<int32_t> ids = random_ids(rng, 8, 11);
  const std::vector<int32_t> last{3, 1};
  auto token_logits = [&] {
    return classifier.token_logits(classifier.hidden({2, 4, ids, {}, {}}));
  };
  auto scores = [&] { return scorer.sequence_scores(scorer.hidden({2, 4, ids, {}, {}}), last); };
  CHECK(token_logits().shape() == Shape{2, 4, 2});
  CHECK(scores().shape() == Shape{2});
  std::vector<Var<double>> a, b;
  for (const auto& p : classifier.params().parameters()) a.push_back(p.var);
  for (const auto& p : scorer.params().parameters()) b.push_back(p.var);
  TLCR_CHECK_GRADIENTS(token_logits, a, {.tolerance = 1e-5});
  TLCR_CHECK_GRADIENTS(scores, b, {.tolerance = 1e-5});
  // The score of row 1 reads position 1 only: changing a later token of that row changes nothing.
  std::vector<int32_t> changed = ids;
  changed[7] = (changed[7] + 1) % 11;
  NoGrad no_grad;
  const auto before = scorer.sequence_scores(scorer.hidden({2, 4, ids, {}, {}}), last).value();
  const auto after = scorer.sequence_scores(scorer.hidden({2, 4, changed, {}, {}}), last).value();
  CHECK(before[1] == after[1]);
}

template <class Arch>
void check_cache_and_padding(Architecture arch) {
  Rng rng(502);
  Transformer<float, Arch> model(tiny(arch), {}, 9);
  jitter(model, rng);
  NoGrad no_grad;
  const int64_t T = 6, V = 11;
  const std::vector<int32_t> ids = random_ids(rng, T, V);
  const Tensor<float> full = model.lm_logits(model.hidden({1, T, ids, {}, {}})).value();

  // Incremental: prefill 3 tokens, then one at a time.
  KvCache<float> cache(2, 1, 2, T, 4);
  std::vector<uint8_t> mask(T, 1);
  Tensor<float> incremental({1, T, V});
  const Var<float> first =
      model.lm_logits(model.hidden({1, 3, std::span(ids).first(3), mask, {}}, &cache));
  std::copy_n(first.value().data(), 3 * V, incremental.data());
  for (int64_t t = 3; t < T; ++t) {
    const Var<float> step =
        model.lm_logits(model.hidden({1, 1, std::span(ids).subspan(t, 1), mask, {}}, &cache));
    std::copy_n(step.value().data(), V, incremental.data() + t * V);
  }
  CHECK(testing::max_abs_diff(full, incremental) < 1e-5);

  // Left padding by 2: the real tokens' logits match the unpadded row.
  std::vector<int32_t> padded_ids{0, 0};
  padded_ids.insert(padded_ids.end(), ids.begin(), ids.end());
  std::vector<uint8_t> padded_mask{0, 0, 1, 1, 1, 1, 1, 1};
  std::vector<int32_t> positions{0, 0, 0, 1, 2, 3, 4, 5};
  const Tensor<float> padded =
      model.lm_logits(model.hidden({1, T + 2, padded_ids, padded_mask, positions})).value();
  double worst = 0;
  for (int64_t i = 0; i < T * V; ++i)
    worst = std::max(worst, double(std::abs(padded[2 * V + i] - full[i])));
  CHECK(worst < 1e-5);
}

TEST_CASE("KV-cached logits equal full recompute; left padding changes nothing (GPT-2)") {
  check_cache_and_padding<Gpt2Arch>(Architecture::Gpt2);
}
TEST_CASE("KV-cached logits equal full recompute; left padding changes nothing (Llama)") {
  check_cache_and_padding<LlamaArch>(Architecture::Llama);
}

TEST_CASE("parameter names follow Hugging Face GPT-2 and positions are bounds-checked") {
  Transformer<float, Gpt2Arch> model(tiny(Architecture::Gpt2));
  const auto names = model.params().names();
  for (const char* expected :
       {"wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight",
        "h.0.attn.c_attn.bias", "h.1.mlp.c_proj.weight", "ln_f.bias"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  CHECK(model.params().get("h.0.attn.c_attn.weight").shape() == Shape{8, 24});  // Conv1D (in, out)
  const std::vector<int32_t> ids(9, 1);
  CHECK_THROWS_WITH_AS(model.hidden({1, 9, ids, {}, {}}),
                       doctest::Contains("position 8 outside the learned table of 8"), Error);
  CHECK_THROWS_WITH_AS(model.values(Var<float>()), doctest::Contains("no value head"), Error);
}
