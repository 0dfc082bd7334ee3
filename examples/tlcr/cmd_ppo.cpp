// examples/tlcr/cmd_ppo.cpp — (being written) subcommands of the ppo group.
#include "commands.hpp"

namespace tlcr::cli {
void add_ppo_commands(CLI::App&) {}
}  // namespace tlcr::cli
