// examples/first_gpt.cpp — the first program with a transformer: one forward pass, backward pass and
// AdamW step of a small GPT-2 on a toy batch, on the device of your choice.
//
// It is also what benchmarks/compile_time.sh compiles to measure how long a first program takes to
// build: once with the umbrella <tlcr/tlcr.hpp>, once (-DFIRST_GPT_LAYER_HEADERS) with only the
// layers it uses, each header-only and against the prebuilt instances (-DTLCR_PREBUILT).
#ifdef FIRST_GPT_LAYER_HEADERS
#include <tlcr/models.hpp>
#include <tlcr/optim.hpp>
#else
#include <tlcr/tlcr.hpp>
#endif

#include <cstdio>
#include <vector>

// Cpu by default; SealedCpu runs the same code with element access sealed off and every
// host↔device transfer counted, which is how the library checks that it is device-generic.
using Device = tlcr::Cpu;

int main() {
  using namespace tlcr;
  Gpt2<float, Device> model(TransformerConfig::gpt2(/*vocab*/ 64, /*context*/ 16, /*layers*/ 2,
                                                    /*heads*/ 2, /*width*/ 32));
  AdamW<float, Device> optimizer(model.params(), {.lr = 1e-2, .weight_decay = 0.1});

  // Two rows of 8 tokens; each position predicts the next token (-100: no target).
  const std::vector<int32_t> ids{1, 5, 9, 13, 17, 21, 25, 29, 2, 4, 8, 16, 32, 3, 6, 12};
  std::vector<int32_t> targets(ids.size(), -100);
  for (std::size_t i = 0; i + 1 < ids.size(); ++i)
    if ((i + 1) % 8 != 0) targets[i] = ids[i + 1];

  float first_loss = 0, loss_value = 0;
  for (int step = 0; step < 20; ++step) {
    model.params().zero_grad();
    const Var<float, Device> loss = model.lm_loss(model.hidden({2, 8, ids, {}, {}}), targets);
    backward(loss);                       // gradients land in model.params().grads()
    clip_grad_norm(model.params(), 1.0);  // one scalar crosses to the host
    optimizer.step();
    loss_value = loss.item();  // a named crossing point: the loss to the host
    if (step == 0) first_loss = loss_value;
  }
  std::printf("loss %.4f -> %.4f after 20 steps on %s\n", first_loss, loss_value, Device::name);
  return loss_value < first_loss ? 0 : 1;
}
