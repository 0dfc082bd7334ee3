// tlcr/optim.hpp — the optim/ layer in one include:
// AdamW, SGD, global-norm clipping, learning-rate schedules.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/optim/adamw.hpp"
#include "tlcr/optim/clip.hpp"
#include "tlcr/optim/schedule.hpp"
#include "tlcr/optim/sgd.hpp"
