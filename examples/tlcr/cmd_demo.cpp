// examples/tlcr/cmd_demo.cpp — (being written) subcommands of the demo group.
#include "commands.hpp"

namespace tlcr::cli {
void add_demo_command(CLI::App&) {}
}  // namespace tlcr::cli
