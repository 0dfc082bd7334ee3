// examples/tlcr/all_commands.cu — the `tlcr` command compiled as one CUDA unit, in builds with
// TLCR_WITH_CUDA (examples/CMakeLists.txt): main.cpp and every cmd_*.cpp, so that `--device cuda`
// runs the stages on the GPU. It is what CMake's unity build does for the C++ build (the
// subcommands instantiate the same models and trainers once), which CMake 3.25 cannot do for CUDA.
// It holds no code of its own; the commands are the .cpp files.

// First: it brings the CUDA layer (tlcr/cuda.cuh), whose overloads must precede the layers that the
// cmd_*.cpp files include before it.
#include "common.hpp"

#include "cmd_demo.cpp"
#include "cmd_dpo.cpp"
#include "cmd_ppo.cpp"
#include "cmd_reward.cpp"
#include "cmd_text.cpp"
#include "cmd_train.cpp"
#include "main.cpp"
