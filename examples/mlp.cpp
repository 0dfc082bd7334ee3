// examples/mlp.cpp — the first program to read: fit a tiny MLP to a curve with tlcr's autograd.
//
// Data: y = sin(3x) for 256 points x ∈ [−1, 1]. Model: 1 → 32 → 32 → 1 with tanh.
// Every piece is the library's own: parameters live in one ParameterStore, the forward pass
// records itself on the tape, backward() fills the flat gradient buffer, AdamW updates it.
#include <tlcr/tlcr.hpp>

#include <cmath>
#include <cstdio>

int main() {
  using namespace tlcr;
  const int64_t points = 256, hidden = 32;

  Tensor<float> x({points, 1}), y({points, 1});
  for (int64_t i = 0; i < points; ++i) {
    x[i] = -1.0f + 2.0f * float(i) / float(points - 1);
    y[i] = std::sin(3.0f * x[i]);
  }

  ParameterStore<float> params;
  Linear<float> layer1(params, "fc1", 1, hidden, true);
  Linear<float> layer2(params, "fc2", hidden, hidden, true);
  Linear<float> layer3(params, "fc3", hidden, 1, true);
  params.finalize();
  Rng rng(0);
  for (const auto& p : params.parameters())
    if (p.group == ParamGroup::Decay) params.init_normal(p.name, 1.0 / std::sqrt(double(p.shape[0])), rng);

  AdamW<float> optimizer(params, {.lr = 1e-2, .weight_decay = 0.0});
  const Var<float> inputs = constant(x), targets = constant(y);
  for (int step = 0; step <= 1000; ++step) {
    params.zero_grad();
    const Var<float> prediction = layer3(tanh(layer2(tanh(layer1(inputs)))));
    const Var<float> error = sub(prediction, targets);
    const Var<float> loss = mean(mul(error, error));  // mean squared error
    backward(loss);
    optimizer.step();
    if (step % 100 == 0) std::printf("step %4d  loss %.6f\n", step, loss.value()[0]);
  }
  return 0;
}
