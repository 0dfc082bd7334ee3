// data_parallel — data-parallel LM training throughput: the medium GPT of bench_gpt (L6, C384,
// T256, V4096, 32 rows per step in --micro-batches micro-batches) trained for --steps steps on the
// ranks it is started with, printing (rank 0) tokens per second, seconds per step, the seconds per
// step spent in the gradient gather (waiting for the slowest rank included) and the bytes each rank
// receives per step. run_data_parallel.sh runs it as 1 rank × 2 threads and 2 ranks × 1 thread.
//   [mpirun -np N] data_parallel [--steps S] [--micro-batches G] [--size small|medium]
#include <tlcr/dist/mpi.hpp>
#include <tlcr/tlcr.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

using namespace tlcr;

namespace {
// A communicator that times and counts its gathers.
template <Communicator Comm>
struct TimedCommunicator {
  const Comm& inner;
  mutable double seconds = 0;
  mutable int64_t bytes_received = 0;
  int rank() const { return inner.rank(); }
  int size() const { return inner.size(); }
  template <class T>
  void all_gather(std::span<const T> send, std::span<T> receive) const {
    const auto start = std::chrono::steady_clock::now();
    inner.all_gather(send, receive);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes_received += int64_t((receive.size() - send.size()) * sizeof(T));
  }
  void barrier() const { inner.barrier(); }
};

template <Communicator Comm>
void run(const Comm& comm, int64_t steps, int64_t micro_batches, bool medium) {
  const TransformerConfig config = medium ? TransformerConfig::gpt2(4096, 256, 6, 6, 384)
                                          : TransformerConfig::gpt2(512, 128, 4, 4, 256);
  const int64_t rows = (medium ? 32 : 16) / micro_batches;
  TLCR_CHECK(rows * micro_batches == (medium ? 32 : 16), "--micro-batches must divide the ",
             medium ? 32 : 16, " rows of a step");
  Rng rng(1);
  std::vector<int32_t> stream(400000);
  for (int32_t& id : stream) id = int32_t(rng.uniform_int(uint64_t(config.vocab_size)));
  Gpt2<float> model(config, {}, 1);
  LmBatcher batcher(stream, rows, config.context_length, 2);
  const TimedCommunicator<Comm> timed{comm};
  const auto start = std::chrono::steady_clock::now();
  const LmTrainReport report = train_language_model(model, batcher, {},
                                                    {.steps = steps,
                                                     .grad_accum = micro_batches,
                                                     .warmup_steps = 1,
                                                     .eval_every = 0,
                                                     .progress = false},
                                                    timed);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (comm.rank() != 0) return;
  const double tokens = double(steps * micro_batches * rows * config.context_length);
  std::printf(
      "ranks=%d threads=%d micro_batches=%lld params=%lld tokens_per_second=%.0f "
      "seconds_per_step=%.3f communication_seconds_per_step=%.3f bytes_received_per_step=%lld "
      "last_loss=%.6f\n",
      comm.size(), num_threads(), static_cast<long long>(micro_batches),
      static_cast<long long>(model.params().numel()), tokens / seconds, seconds / double(steps),
      timed.seconds / double(steps), static_cast<long long>(timed.bytes_received / steps),
      report.last_loss);
}
}  // namespace

int main(int argc, char** argv) {
  std::optional<MpiSession> session;
  if (launched_by_mpirun()) session.emplace(&argc, &argv);
  int64_t steps = 3, micro_batches = 2;
  bool medium = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--steps") == 0)
      steps = std::stoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--micro-batches") == 0)
      micro_batches = std::stoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--size") == 0)
      medium = std::string(argv[i + 1]) != "small";
  }
  if (session) {
    const MpiCommunicator world;
    try {
      run(world, steps, micro_batches, medium);
    } catch (const std::exception& e) {
      world.abort_job(e.what());
    }
  } else {
    run(SingleProcess{}, steps, micro_batches, medium);
  }
  return 0;
}
