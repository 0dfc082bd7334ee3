// bench_softmax — softmax and log-softmax over the last axis, forward and backward, in bytes moved
// per second (the least traffic each kernel needs: forward reads x and writes y, backward reads y
// and d_y and updates d_x), next to the copy bandwidth. Arguments: rows R, columns C.
#include "bench_support.hpp"

using namespace tlcr;

namespace {

void set_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["bytes_per_second"] =
      benchmark::Counter(bytes_per_iteration * state.iterations(), benchmark::Counter::kIsRate);
}

template <void (*Forward)(Tensor<float>&, const Tensor<float>&)>
void forward(benchmark::State& state) {
  const Shape shape{state.range(0), state.range(1)};
  const Tensor<float> x = bench::random_tensor<float>(shape, 1);
  Tensor<float> y(shape);
  for (auto _ : state) {
    Forward(y, x);
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, 2.0 * sizeof(float) * shape.numel());
}

template <void (*Forward)(Tensor<float>&, const Tensor<float>&),
          void (*Backward)(Tensor<float>&, const Tensor<float>&, const Tensor<float>&)>
void backward(benchmark::State& state) {
  const Shape shape{state.range(0), state.range(1)};
  Tensor<float> y(shape), d_x(shape);
  Forward(y, bench::random_tensor<float>(shape, 1));
  const Tensor<float> d_y = bench::random_tensor<float>(shape, 2);
  for (auto _ : state) {
    Backward(d_x, d_y, y);
    benchmark::DoNotOptimize(d_x.data());
  }
  set_bytes(state, 4.0 * sizeof(float) * shape.numel());
}

// Attention probabilities (B·H·T, T) at B=16, H=4, T=128 (4 MiB, cache-resident), a 64 MiB block
// of the same width and a 64 MiB block of wide rows (a vocabulary).
void shapes(benchmark::internal::Benchmark* b) {
  b->Args({8192, 128})->Args({131072, 128})->Args({16384, 1024});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(forward<softmax_forward<float>>)->Name("softmax_forward")->Apply(shapes);
BENCHMARK(backward<softmax_forward<float>, softmax_backward<float>>)
    ->Name("softmax_backward")
    ->Apply(shapes);
BENCHMARK(forward<log_softmax_forward<float>>)->Name("log_softmax_forward")->Apply(shapes);
BENCHMARK(backward<log_softmax_forward<float>, log_softmax_backward<float>>)
    ->Name("log_softmax_backward")
    ->Apply(shapes);
TLCR_BENCHMARK_COPY_BANDWIDTH();
TLCR_BENCHMARK_MAIN();
