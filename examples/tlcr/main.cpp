// examples/tlcr/main.cpp — the `tlcr` command: every stage of the pipeline as a subcommand, and
// `tlcr demo`, which runs them all on the built-in task. Errors from the library (tlcr::Error)
// are printed as one line and exit with status 1. Started by mpirun (in a build with MPI), it runs
// on every rank: the four trainers, PPO and DPO train data-parallel; the other commands refuse more
// than one rank; an error on any rank ends every rank (MpiCommunicator::abort_job), never a hang.
#include <tlcr/config.hpp>
#include <tlcr/core/memory.hpp>

#include <cstdio>
#include <exception>
#include <optional>

#include "commands.hpp"

int main(int argc, char** argv) {
  tlcr::retain_freed_memory();  // training loops reuse the same blocks every step
  CLI::App app{"tlcr " TLCR_VERSION_STRING
               " — RLHF with token-level continuous rewards, from tokenizer to PPO"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TLCR_VERSION_STRING);
  tlcr::cli::add_text_commands(app);
  tlcr::cli::add_train_commands(app);
  tlcr::cli::add_reward_commands(app);
  tlcr::cli::add_ppo_commands(app);
  tlcr::cli::add_dpo_command(app);
  tlcr::cli::add_demo_command(app);
#ifdef TLCR_WITH_MPI
  std::optional<tlcr::MpiSession> mpi;
  if (tlcr::launched_by_mpirun()) {
    mpi.emplace(&argc, &argv);
    tlcr::cli::mpi_world().emplace();
  }
#endif
  // Only the trainers share their work between ranks; N copies of any other command would
  // write the same files at once.
  for (CLI::App* command : app.get_subcommands({}))
    if (command->get_name() != "pretrain" && command->get_name() != "sft" &&
        command->get_name() != "train-discriminator" &&
        command->get_name() != "train-reward-model" && command->get_name() != "ppo" &&
        command->get_name() != "dpo")
      command->preparse_callback([name = command->get_name()](std::size_t) {
        TLCR_CHECK(tlcr::cli::rank_count() == 1, "tlcr ", name, " runs on one process, found ",
                   tlcr::cli::rank_count(),
                   " ranks; under mpirun only pretrain, sft, train-discriminator, "
                   "train-reward-model, ppo and dpo train data-parallel");
      });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
#ifdef TLCR_WITH_MPI
    if (tlcr::cli::rank_count() > 1) tlcr::cli::mpi_world()->abort_job(e.what());
#endif
    std::fprintf(stderr, "tlcr: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
