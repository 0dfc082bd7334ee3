// GPU tests of the whole device-generic stack on the Cuda device: a small GPT-2 (and a Llama with
// grouped-query attention and RoPE) trained for a few AdamW steps with gradient clipping follows
// the same model trained on the CPU from the same initial weights. Tolerance: each step's loss
// within 1e-4 relative and the final weights within 1e-4 of their scale (products and sums in
// other orders compound over the steps); the GPU repeats its own run bit for bit. Greedy KV-cache
// generation from left-padded prompts gives the CPU's tokens.
#include "cuda_testing.cuh"

#include <tlcr/cuda/attention.cuh>
#include <tlcr/cuda/clamp.cuh>
#include <tlcr/cuda/cross_entropy.cuh>
#include <tlcr/cuda/decode_step.cuh>
#include <tlcr/cuda/dropout.cuh>
#include <tlcr/cuda/elementwise.cuh>
#include <tlcr/cuda/embedding.cuh>
#include <tlcr/cuda/heads.cuh>
#include <tlcr/cuda/linear.cuh>
#include <tlcr/cuda/linear_cross_entropy.cuh>
#include <tlcr/cuda/matmul.cuh>
#include <tlcr/cuda/norm.cuh>
#include <tlcr/cuda/optimizer_updates.cuh>
#include <tlcr/cuda/reduce.cuh>
#include <tlcr/cuda/rope.cuh>
#include <tlcr/cuda/shape_ops.cuh>
#include <tlcr/cuda/softmax.cuh>
#include <tlcr/cuda/token_stats.cuh>
#include <tlcr/cuda/unary.cuh>
#include <tlcr/generate.hpp>
#include <tlcr/models.hpp>
#include <tlcr/optim.hpp>

using namespace tlcr;
using namespace tlcr::cuda_testing;

namespace cuda_model_test {
// Losses of `steps` training steps of `model` on one fixed batch.
template <class Model, class D>
std::vector<float> train(Model& model, int steps) {
  AdamW<float, D> optimizer(model.params(), {.lr = 1e-2, .weight_decay = 0.1});
  const std::vector<int32_t> ids{1, 5, 9, 13, 17, 21, 25, 29, 2, 4, 8, 16, 32, 3, 6, 12};
  std::vector<int32_t> targets(ids.size(), -100);
  for (std::size_t i = 0; i + 1 < ids.size(); ++i)
    if ((i + 1) % 8 != 0) targets[i] = ids[i + 1];
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    model.params().zero_grad();
    const Var<float, D> loss = model.lm_loss(model.hidden({2, 8, ids, {}, {}}), targets);
    backward(loss);
    clip_grad_norm(model.params(), 1.0);
    optimizer.step();
    losses.push_back(loss.item());
  }
  return losses;
}

template <class Arch>
void check_training(const TransformerConfig& config) {
  Transformer<float, Arch, Cpu> cpu_model(config, {}, 7);
  Transformer<float, Arch, Cuda> gpu_model(config, {}, 7), gpu_again(config, {}, 7);
  CHECK(same_bits(Tensor<float, Cuda>(gpu_model.params().values()), cpu_model.params().values()));
  const std::vector<float> cpu = train<decltype(cpu_model), Cpu>(cpu_model, 8);
  const std::vector<float> gpu = train<decltype(gpu_model), Cuda>(gpu_model, 8);
  const std::vector<float> again = train<decltype(gpu_again), Cuda>(gpu_again, 8);
  REQUIRE(gpu.size() == cpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(gpu[i] - cpu[i]) <= 1e-4 * std::abs(cpu[i]));
  }
  CHECK(gpu.back() < gpu.front());  // it learns
  CHECK(again == gpu);              // and repeats itself
  CHECK(scaled_difference(Tensor<float, Cuda>(gpu_model.params().values()),
                          cpu_model.params().values()) <= 1e-4);
}
}  // namespace cuda_model_test

TEST_CASE("a GPT-2 trained on the GPU follows the same model trained on the CPU") {
  cuda_model_test::check_training<Gpt2Arch>(TransformerConfig::gpt2(64, 16, 2, 2, 32));
}

TEST_CASE("a Llama (RMSNorm, RoPE, SwiGLU, grouped-query attention) on the GPU follows the CPU") {
  TransformerConfig config = TransformerConfig::llama(64, 16, 2, 4, 32);
  config.kv_heads = 2;
  cuda_model_test::check_training<LlamaArch>(config);
}

TEST_CASE("greedy KV-cache generation on the GPU gives the CPU's tokens") {
  const TransformerConfig config = TransformerConfig::gpt2(64, 32, 2, 2, 32);
  const Gpt2<float, Cpu> cpu_model(config, {}, 11);
  const Gpt2<float, Cuda> gpu_model(config, {}, 11);
  const std::vector<std::vector<int32_t>> prompts{{1, 2, 3}, {4}, {5, 6, 7, 8, 9}};
  const GenerationOptions options{
      .sampling = {.temperature = 0.0}, .max_new_tokens = 12, .eos_token = 63, .pad_token = 0};
  Rng cpu_rng(3), gpu_rng(3);
  const GenerationResult cpu = generate(cpu_model, prompts, options, cpu_rng);
  const GenerationResult gpu = generate(gpu_model, prompts, options, gpu_rng);
  CHECK(gpu.tokens == cpu.tokens);
  CHECK(gpu.stopped == cpu.stopped);
  for (std::size_t row = 0; row < cpu.logprobs.size(); ++row)
    for (std::size_t i = 0; i < cpu.logprobs[row].size(); ++i)
      CHECK(std::abs(gpu.logprobs[row][i] - cpu.logprobs[row][i]) <= 1e-4);
}
