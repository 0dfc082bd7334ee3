// tlcr/io.hpp — the io/ layer in one include:
// safetensors, model directories, tokenizer files, JSONL, atomic files, SVG plots, running a
// user's program.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/jsonl.hpp"
#include "tlcr/io/model_config.hpp"
#include "tlcr/io/model_dir.hpp"
#include "tlcr/io/run_command.hpp"
#include "tlcr/io/safetensors.hpp"
#include "tlcr/io/svg_plot.hpp"
#include "tlcr/io/tokenizer_file.hpp"
