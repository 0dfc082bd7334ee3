// Tests for Transformer::lm_loss: the fused LM head + cross-entropy gives the loss and parameter
// gradients of cross_entropy(lm_logits(h)), with tied and untied embeddings.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("Transformer::lm_loss equals cross_entropy of lm_logits, tied and untied") {
  for (bool tied : {true, false}) {
    TransformerConfig config = TransformerConfig::gpt2(23, 8, 1, 2, 8);
    config.tied_embeddings = tied;
    Transformer<double, Gpt2Arch> model(config, {}, 7);
    Rng rng(504);
    std::vector<int32_t> ids(2 * 5), targets(2 * 5);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ids[i] = int32_t(rng.uniform_int(23));
      targets[i] = i == 4 ? -100 : int32_t(rng.uniform_int(23));
    }
    const Var<double> h = model.hidden({2, 5, ids, {}, {}});
    const Var<double> fused = model.lm_loss(h, targets);
    const Var<double> plain = cross_entropy(reshape(model.lm_logits(h), Shape{10, 23}), targets);
    CHECK(fused.value()[0] == doctest::Approx(plain.value()[0]).epsilon(1e-12));
    // Same gradients for every parameter (the plain path's gradients are added on top).
    model.params().zero_grad();
    backward(fused);
    const std::vector<double> fused_grads = model.params().grads().to_vector();
    model.params().zero_grad();
    const Var<double> h2 = model.hidden({2, 5, ids, {}, {}});
    backward(cross_entropy(reshape(model.lm_logits(h2), Shape{10, 23}), targets));
    const std::vector<double> plain_grads = model.params().grads().to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < plain_grads.size(); ++i)
      worst = std::max(worst, std::abs(fused_grads[i] - plain_grads[i]));
    CHECK(worst < 1e-12);
    clear_tape<double>();
  }
}
