// examples/tlcr/main.cpp — the `tlcr` command: every stage of the pipeline as a subcommand, and
// `tlcr demo`, which runs them all on the built-in task. Errors from the library (tlcr::Error)
// are printed as one line and exit with status 1.
#include <tlcr/config.hpp>
#include <tlcr/core/memory.hpp>

#include <cstdio>
#include <exception>

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
  tlcr::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tlcr: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
