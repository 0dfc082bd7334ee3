// examples/tlcr/commands.hpp — the `tlcr` command's subcommand groups. Each cmd_*.cpp file adds
// its subcommands to the CLI11 app; main.cpp calls them all.
#pragma once

#include <CLI/CLI.hpp>

namespace tlcr::cli {

void add_text_commands(CLI::App& app);   // tokenizer train / encode        (cmd_text.cpp)
void add_train_commands(CLI::App& app);  // pretrain, sft, generate, logprobs (cmd_train.cpp)
void add_reward_commands(CLI::App& app); // task, label, train-discriminator, train-reward-model, score, view (cmd_reward.cpp)
void add_ppo_commands(CLI::App& app);    // ppo, eval                       (cmd_ppo.cpp)
void add_dpo_command(CLI::App& app);     // dpo                             (cmd_dpo.cpp)
void add_demo_command(CLI::App& app);    // demo                            (cmd_demo.cpp)

}  // namespace tlcr::cli
