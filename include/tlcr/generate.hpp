// tlcr/generate.hpp — the generate/ layer in one include:
// sampling and batched KV-cache generation.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/generate/decode_step.hpp"
#include "tlcr/generate/generate.hpp"
#include "tlcr/generate/sampler.hpp"
