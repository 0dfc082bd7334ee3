// tlcr/models.hpp — the models/ layer in one include:
// the Transformer with its heads, the GPT-2 and Llama presets, configs.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/models/arch.hpp"
#include "tlcr/models/config.hpp"
#include "tlcr/models/token_batch.hpp"
#include "tlcr/models/transformer.hpp"
