// bench_gpt — end-to-end throughput of the GPT-2 preset at the configurations of the PyTorch peer
// (the script that run_peer.sh runs next to this one), in tokens per second:
//   train_step/<size>  forward + cross-entropy + backward + AdamW step on B × T random tokens
//   generate/<size>    tlcr::generate of 8 rows × 64 new tokens (temperature 1, 1-token prompts)
// small: L=4, H=4, C=256, T=128, B=16, V=512;  medium: L=6, H=6, C=384, T=256, B=32, V=4096.
#include "bench_support.hpp"

#include <tlcr/autograd/fn/linear_cross_entropy.hpp>

using namespace tlcr;

namespace {

struct GptSize {
  int64_t layers, heads, width, context, batch, vocab;
  TransformerConfig config() const {
    return TransformerConfig::gpt2(vocab, context, layers, heads, width);
  }
};
constexpr GptSize kSmall{4, 4, 256, 128, 16, 512};
constexpr GptSize kMedium{6, 6, 384, 256, 32, 4096};
constexpr int64_t kGenerateRows = 8, kGenerateTokens = 64;

std::vector<int32_t> random_ids(Rng& rng, int64_t count, int64_t vocab) {
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.uniform_int(vocab));
  return ids;
}

void set_tokens(benchmark::State& state, double tokens_per_iteration) {
  state.counters["tokens_per_second"] =
      benchmark::Counter(tokens_per_iteration * state.iterations(), benchmark::Counter::kIsRate);
}

void train_step(benchmark::State& state, GptSize size) {
  Gpt2<float> model(size.config(), {}, 1);
  AdamW<float> optimizer(model.params(), {.lr = 3e-4});
  Rng rng(2);
  const int64_t B = size.batch, T = size.context;
  const std::vector<int32_t> ids = random_ids(rng, B * T, size.vocab);
  const std::vector<int32_t> targets = random_ids(rng, B * T, size.vocab);
  auto step = [&] {
    const Var<float> h = model.hidden({B, T, ids, {}, {}});
    const Var<float> loss = model.lm_loss(h, std::span<const int32_t>(targets));
    model.params().zero_grad();
    backward(loss);
    optimizer.step();
    return loss.value()[0];
  };
  step();  // warm-up: first-touch allocations
  for (auto _ : state) benchmark::DoNotOptimize(step());
  set_tokens(state, double(B * T));
  state.counters["params"] = double(model.params().numel());
}

void generate_tokens(benchmark::State& state, GptSize size) {
  const Gpt2<float> model(size.config(), {}, 1);
  Rng rng(3);
  GenerationOptions options;
  options.max_new_tokens = kGenerateTokens;
  options.sampling.temperature = 1.0;
  auto run = [&] {
    std::vector<std::vector<int32_t>> prompts;
    for (int64_t b = 0; b < kGenerateRows; ++b) prompts.push_back(random_ids(rng, 1, size.vocab));
    return generate(model, prompts, options, rng).tokens.size();
  };
  run();  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(run());
  set_tokens(state, double(kGenerateRows * kGenerateTokens));
}

// Milliseconds of wall-clock time: the work runs on every OpenMP thread.
void timing(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(train_step, small, kSmall)->Apply(timing);
BENCHMARK_CAPTURE(train_step, medium, kMedium)->Apply(timing);
BENCHMARK_CAPTURE(generate_tokens, small, kSmall)->Name("generate/small")->Apply(timing);
BENCHMARK_CAPTURE(generate_tokens, medium, kMedium)->Name("generate/medium")->Apply(timing);
TLCR_BENCHMARK_MAIN();
