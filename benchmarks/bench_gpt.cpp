// bench_gpt — end-to-end throughput of the GPT-2 preset at the configurations of the PyTorch peer
// (../shared/bench/torch_gpt_bench.py, which run_peer.sh and gpu_check.sh run next to this one),
// in tokens per second:
//   train_step/<size>  forward + cross-entropy + backward + AdamW step on B × T random tokens
//   generate/<size>    tlcr::generate of 8 rows × 64 new tokens (temperature 1, 1-token prompts)
// small: L=4, H=4, C=256, T=128, B=16, V=512;  medium: L=6, H=6, C=384, T=256, B=32, V=4096;
// gpt2 (GPU only): L=12, H=12, C=768, T=1024, B=8, V=50257 (GPT-2 124M).
//
// Flags before Google Benchmark's own:
//   --device=cpu|cuda   where the model lives (cuda: this file compiled as CUDA, TLCR_WITH_CUDA)
//   --tf32              let cuBLAS use TF32 tensor cores for float GEMMs (PyTorch's peer does)
//   --peak-tflops=X     the chip's peak for the GEMMs' precision, for MFU; by default taken from
//                       the GPU's name for the H100/H200 and A100 (dense TF32 or FP32)
// On the GPU each benchmark also reports peak_memory_mib (the pool's high-water mark of memory in
// use, PyTorch's max_memory_allocated) and, for training, mfu: (6·N + 12·L·C·T) FLOPs per token
// (N: parameters without the position table; the attention term counts the whole T × T square as
// the usual estimate does) over the peak.
#if defined(__CUDACC__) && defined(TLCR_WITH_CUDA)
#include <tlcr/cuda.cuh>
#define TLCR_BENCH_CUDA 1
#endif

#include "bench_support.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <tlcr/autograd/fn/linear_cross_entropy.hpp>

using namespace tlcr;

namespace {

struct GptSize {
  const char* name;
  int64_t layers, heads, width, context, batch, vocab;
  TransformerConfig config() const {
    return TransformerConfig::gpt2(vocab, context, layers, heads, width);
  }
  // Training FLOPs per token of a model with `params` parameters (position table included).
  double train_flops_per_token(double params) const {
    const double counted = params - double(context * width);
    return 6 * counted + 12.0 * double(layers * width * context);
  }
};
constexpr GptSize kSmall{"small", 4, 4, 256, 128, 16, 512};
constexpr GptSize kMedium{"medium", 6, 6, 384, 256, 32, 4096};
constexpr GptSize kGpt2{"gpt2", 12, 12, 768, 1024, 8, 50257};
constexpr int64_t kGenerateRows = 8, kGenerateTokens = 64;

double g_peak_flops = 0;  // per second, for MFU; 0: not reported

std::vector<int32_t> random_ids(Rng& rng, int64_t count, int64_t vocab) {
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.uniform_int(vocab));
  return ids;
}

void set_tokens(benchmark::State& state, double tokens_per_iteration) {
  state.counters["tokens_per_second"] =
      benchmark::Counter(tokens_per_iteration * state.iterations(), benchmark::Counter::kIsRate);
}

// The GPU's high-water mark of memory in use, from the construction of the model on.
template <class D>
void reset_peak_memory() {
#ifdef TLCR_BENCH_CUDA
  if constexpr (std::same_as<D, Cuda>) cuda::synchronize(), cuda::reset_peak_memory();
#endif
}
template <class D>
void report_peak_memory(benchmark::State& state) {
#ifdef TLCR_BENCH_CUDA
  if constexpr (std::same_as<D, Cuda>)
    state.counters["peak_memory_mib"] = double(cuda::peak_memory_bytes()) / (1 << 20);
#endif
}

template <class D>
void train_step(benchmark::State& state, GptSize size) {
  reset_peak_memory<D>();
  Transformer<float, Gpt2Arch, D> model(size.config(), {}, 1);
  AdamW<float, D> optimizer(model.params(), {.lr = 3e-4});
  Rng rng(2);
  const int64_t B = size.batch, T = size.context;
  const std::vector<int32_t> ids = random_ids(rng, B * T, size.vocab);
  const std::vector<int32_t> targets = random_ids(rng, B * T, size.vocab);
  auto step = [&] {
    const Var<float, D> h = model.hidden({B, T, ids, {}, {}});
    const Var<float, D> loss = model.lm_loss(h, std::span<const int32_t>(targets));
    model.params().zero_grad();
    backward(loss);
    optimizer.step();
    return loss.item();  // on a GPU: waits for the step
  };
  step();  // warm-up: first-touch allocations
  for (auto _ : state) benchmark::DoNotOptimize(step());
  set_tokens(state, double(B * T));
  const double params = double(model.params().numel());
  const double flops_per_token = size.train_flops_per_token(params);
  state.counters["params"] = params;
  state.counters["train_flops_per_token"] = flops_per_token;  // gpu_table.py's MFU of both sides
  report_peak_memory<D>(state);
  if (g_peak_flops > 0)
    state.counters["mfu"] = benchmark::Counter(
        flops_per_token * double(B * T) * state.iterations() / g_peak_flops,
        benchmark::Counter::kIsRate);
}

template <class D>
void generate_tokens(benchmark::State& state, GptSize size) {
  reset_peak_memory<D>();
  const Transformer<float, Gpt2Arch, D> model(size.config(), {}, 1);
  Rng rng(3);
  GenerationOptions options;
  options.max_new_tokens = kGenerateTokens;
  options.sampling.temperature = 1.0;
  auto run = [&] {
    std::vector<std::vector<int32_t>> prompts;
    for (int64_t b = 0; b < kGenerateRows; ++b) prompts.push_back(random_ids(rng, 1, size.vocab));
    return generate(model, prompts, options, rng).tokens.size();  // tokens on the host: waits
  };
  run();  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(run());
  set_tokens(state, double(kGenerateRows * kGenerateTokens));
  report_peak_memory<D>(state);
}

// Milliseconds of wall-clock time: the work runs on every OpenMP thread (or on the GPU).
template <class D>
void register_sizes(std::initializer_list<GptSize> sizes) {
  for (const GptSize& size : sizes) {
    benchmark::RegisterBenchmark((std::string("train_step/") + size.name).c_str(), train_step<D>,
                                 size)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const GptSize& size : sizes) {
    benchmark::RegisterBenchmark((std::string("generate/") + size.name).c_str(), generate_tokens<D>,
                                 size)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

struct Flags {
  std::string device = "cpu";
  bool tf32 = false;
  double peak_tflops = 0;
};

// Takes this file's flags out of argv (Google Benchmark refuses flags it does not know).
Flags take_flags(int& argc, char** argv) {
  Flags flags;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--device=", 0) == 0)
      flags.device = arg.substr(9);
    else if (arg == "--tf32")
      flags.tf32 = true;
    else if (arg.rfind("--peak-tflops=", 0) == 0)
      flags.peak_tflops = std::stod(arg.substr(14));
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  return flags;
}

#ifdef TLCR_BENCH_CUDA
// Dense peak of the GPUs this benchmark knows, in TFLOP/s: TF32 tensor cores or plain FP32
// (NVIDIA's data sheets, SXM parts); 0 for any other GPU.
double known_peak_tflops(const std::string& name, bool tf32) {
  if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos)
    return tf32 ? 494.7 : 66.9;
  if (name.find("A100") != std::string::npos) return tf32 ? 156.0 : 19.5;
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  retain_freed_memory();
  const Flags flags = take_flags(argc, argv);
  benchmark::Initialize(&argc, argv);
  bench::add_context();
  if (flags.device == "cpu") {
    register_sizes<Cpu>({kSmall, kMedium});
  } else if (flags.device == "cuda") {
#ifdef TLCR_BENCH_CUDA
    if (!cuda::gpu_available()) {
      std::fprintf(stderr, "bench_gpt: --device=cuda: no CUDA GPU is visible\n");
      return 2;
    }
    cudaDeviceProp properties{};
    TLCR_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
    cuda::set_allow_tf32(flags.tf32);
    const double peak =
        flags.peak_tflops > 0 ? flags.peak_tflops : known_peak_tflops(properties.name, flags.tf32);
    g_peak_flops = peak * 1e12;
    benchmark::AddCustomContext("gpu", properties.name);
    benchmark::AddCustomContext("float_gemms", flags.tf32 ? "tf32" : "fp32");
    benchmark::AddCustomContext("peak_tflops", std::to_string(peak));
    register_sizes<Cuda>({kSmall, kMedium, kGpt2});
#else
    std::fprintf(stderr,
                 "bench_gpt: --device=cuda: this bench_gpt was built without CUDA "
                 "(TLCR_WITH_CUDA=OFF or no CUDA compiler)\n");
    return 2;
#endif
  } else {
    std::fprintf(stderr, "bench_gpt: --device: expected cpu or cuda, found '%s'\n",
                 flags.device.c_str());
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
