// examples/tlcr/common.hpp — pieces every subcommand shares: the device, model-size and training
// options. Opening a model directory of either architecture (with_model_dir, with_architecture) and
// finding its tokenizer (find_tokenizer) are the library's, in io/.
#pragma once

// Compiled as CUDA with the library's CUDA layer (all_commands.cu), the commands can run on Cuda:
// the ops' Cuda overloads must be visible before the layers that call them.
#if defined(__CUDACC__) && defined(TLCR_WITH_CUDA)
#define TLCR_CLI_HAS_CUDA 1
#include <tlcr/cuda.cuh>
#endif

#include <tlcr/tlcr.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

#ifdef TLCR_WITH_MPI
#include <tlcr/dist/mpi.hpp>
#endif

namespace tlcr::cli {

namespace fs = std::filesystem;

#ifdef TLCR_WITH_MPI
// MPI_COMM_WORLD when this process was started by mpirun, else nothing (set up by main()).
inline std::optional<MpiCommunicator>& mpi_world() {
  static std::optional<MpiCommunicator> world;
  return world;
}
#endif

// Calls f(comm) with the ranks this run has: MPI's under mpirun, else one process.
template <class F>
void with_communicator(F&& f) {
#ifdef TLCR_WITH_MPI
  if (mpi_world()) {
    f(*mpi_world());
    return;
  }
#endif
  f(SingleProcess{});
}

// The number of ranks this run has (1 unless started by mpirun with several).
inline int rank_count() {
  int ranks = 1;
  with_communicator([&](const auto& comm) { ranks = comm.size(); });
  return ranks;
}

// Whether this process prints and writes: rank 0 under mpirun, else always.
inline bool is_leader() {
  bool leader = true;
  with_communicator([&](const auto& comm) { leader = comm.rank() == 0; });
  return leader;
}

// --device of every command that runs a model.
inline void add_device_option(CLI::App& command, std::string& device) {
  command
      .add_option("--device", device,
                  "where the models run: cpu, or cuda (the first GPU; needs a tlcr built with "
                  "CUDA and a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
}

// Calls f(Cpu{}) or f(Cuda{}) as `device` says, and returns what f returns. Called before any
// work, so that a missing GPU is an error at once, not after a stage on the CPU.
template <class F>
decltype(auto) with_device(const std::string& device, F&& f) {
  if (device == "cuda") {
    // Every rank would take the first GPU and the gradients would cross through the host:
    // several GPUs need NCCL, which is not written yet.
    TLCR_CHECK(rank_count() == 1, "--device cuda runs on one process, found ", rank_count(),
               " ranks: data-parallel training on several GPUs is not supported yet; run one "
               "process per GPU job, or --device cpu under mpirun");
#ifdef TLCR_CLI_HAS_CUDA
    TLCR_CHECK(cuda::gpu_available(),
               "--device cuda: no CUDA GPU is visible to this process (no GPU, no driver, or "
               "CUDA_VISIBLE_DEVICES hides them); run with --device cpu");
    return f(Cuda{});
#else
    detail::fail(
        "--device cuda: this tlcr was built without CUDA (TLCR_WITH_CUDA=OFF or no CUDA "
        "compiler found); rebuild with -DTLCR_WITH_CUDA=ON, or run with --device cpu");
#endif
  }
  TLCR_CHECK(device == "cpu", "--device: expected cpu or cuda, found '", device, "'");
  return f(Cpu{});
}

// Model-size options of `pretrain`.
struct ModelSizeOptions {
  std::string arch = "gpt2";
  int64_t layers = 4, heads = 4, width = 256, context = 128;

  void add_to(CLI::App& command) {
    command.add_option("--arch", arch, "gpt2 or llama")->check(CLI::IsMember({"gpt2", "llama"}));
    command.add_option("--layers", layers, "transformer blocks");
    command.add_option("--heads", heads, "attention heads");
    command.add_option("--width", width, "model width");
    command.add_option("--context", context, "context length");
  }
  TransformerConfig config(int64_t vocab) const {
    return arch == "llama" ? TransformerConfig::llama(vocab, context, layers, heads, width)
                           : TransformerConfig::gpt2(vocab, context, layers, heads, width);
  }
};

// Training-loop options shared by `pretrain` and `sft`.
inline void add_train_options(CLI::App& command, LmTrainOptions& o, int64_t& batch) {
  command.add_option("--steps", o.steps, "optimizer steps");
  command.add_option("--batch", batch, "rows per micro-batch");
  command.add_option("--grad-accum", o.grad_accum, "micro-batches per step");
  command.add_option("--lr", o.lr, "peak learning rate (cosine schedule)");
  command.add_option("--min-lr", o.min_lr, "final learning rate");
  command.add_option("--warmup", o.warmup_steps, "linear warmup steps");
  command.add_option("--weight-decay", o.weight_decay, "AdamW decoupled weight decay");
  command.add_option("--grad-clip", o.grad_clip, "global gradient-norm clip");
  // --dropout first: CLI11 runs option callbacks in the order they are defined, so a site's own
  // flag overrides it.
  command.add_option_function<double>(
      "--dropout",
      [&o](double p) {
        o.dropout = {p, p, p};
      },
      "dropout at every site (embedding, residual, attention); 0: none");
  command.add_option("--embedding-dropout", o.dropout.embedding, "dropout after the embeddings");
  command.add_option("--residual-dropout", o.dropout.residual,
                     "dropout on attention and MLP outputs before the residual add");
  command.add_option("--attention-dropout", o.dropout.attention,
                     "dropout on the attention probabilities");
  command.add_option("--eval-every", o.eval_every, "steps between held-out evaluations");
  command.add_option("--checkpoint-dir", o.checkpoint_dir,
                     "checkpoint directory (default: <out>/checkpoint)");
  command.add_option("--checkpoint-every", o.checkpoint_every,
                     "steps between checkpoints (0: at the end)");
  command.add_option("--metrics", o.metrics_path, "metrics JSONL file");
  command.add_option("--resume", o.resume_from, "checkpoint directory to continue from");
}

// The records read from an input file, which must hold at least one: an empty file (or one whose
// every line was skipped as bad) is an error, not an empty output and exit status 0.
template <class Records>
Records require_records(Records records, const fs::path& path) {  // by value: safe in a range-for
  TLCR_CHECK(!records.empty(), path.string(),
             ": expected at least one record, found none (the file is empty, or every line was "
             "blank or skipped as bad)");
  return records;
}

}  // namespace tlcr::cli
