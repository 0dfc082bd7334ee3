// examples/tlcr/cmd_reward.cpp — (being written) subcommands of the reward group.
#include "commands.hpp"

namespace tlcr::cli {
void add_reward_commands(CLI::App&) {}
}  // namespace tlcr::cli
