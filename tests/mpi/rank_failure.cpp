// A data-parallel training run in which rank 1 fails during step 3, for tests/mpi/
// check_rank_failure.cmake: `throw` (an error: the rank reports it and ends the job with
// MPI_Abort) or `kill` (the process dies by SIGKILL; the launcher ends the job). Either way the
// job must end with a non-zero status instead of hanging, and rank 0's checkpoint of step 2 must
// survive.   usage: mpiexec -np 2 rank_failure throw|kill DIR
#include <tlcr/dist/mpi.hpp>
#include <tlcr/train/lm_trainer.hpp>

#include <csignal>
#include <cstring>

using namespace tlcr;

namespace {
// LmBatcher that makes rank 1 fail at its 7th batch: step 3 with two micro-batches per step.
struct FailingBatcher {
  LmBatcher batches;
  bool fails = false, kill = false;
  int calls = 0;
  TokenBatch next() {
    if (fails && ++calls == 7) {
      if (kill) std::raise(SIGKILL);
      detail::fail("rank_failure: the batch of step 3 could not be read");
    }
    return batches.next();
  }
  BatcherState state() const { return batches.state(); }
  void set_state(const BatcherState& s) { batches.set_state(s); }
};
}  // namespace

int main(int argc, char** argv) {
  MpiSession session(&argc, &argv);
  const MpiCommunicator world;
  try {
    TLCR_CHECK(argc == 3, "usage: rank_failure throw|kill DIR");
    std::vector<int32_t> stream(2000);
    for (std::size_t i = 0; i < stream.size(); ++i) stream[i] = int32_t(i % 11);
    FailingBatcher batcher{LmBatcher(stream, 2, 8, 1), world.rank() == 1,
                           std::strcmp(argv[1], "kill") == 0};
    Gpt2<float> model(TransformerConfig::gpt2(16, 8, 1, 2, 16), {}, 1);
    train_language_model(model, batcher, {},
                         {.steps = 10,
                          .grad_accum = 2,
                          .checkpoint_every = 2,
                          .checkpoint_dir = argv[2],
                          .progress = false},
                         world);
  } catch (const std::exception& e) {
    world.abort_job(e.what());
  }
  return 0;
}
