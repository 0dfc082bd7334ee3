// tlcr/train.hpp — the train/ layer in one include:
// batches, the train step, the LM / SFT trainer, the example loop, checkpoints, metrics.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/train/batches.hpp"
#include "tlcr/train/checkpoint.hpp"
#include "tlcr/train/example_loop.hpp"
#include "tlcr/train/lm_trainer.hpp"
#include "tlcr/train/metrics.hpp"
#include "tlcr/train/sft_data.hpp"
#include "tlcr/train/train_step.hpp"
