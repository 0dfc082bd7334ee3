// tlcr/core.hpp — the core/ layer in one include:
// tensors on a device, shapes, the deterministic Rng, OpenMP helpers, fast math, memory.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/core/device.hpp"
#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/memory.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/rng.hpp"
#include "tlcr/core/shape.hpp"
#include "tlcr/core/tensor.hpp"
