// tlcr/tlcr.hpp — the umbrella header: everything a user needs on the CPU path.
#pragma once

#include "tlcr/config.hpp"

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/rng.hpp"
#include "tlcr/core/shape.hpp"
#include "tlcr/core/tensor.hpp"

#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/matmul.hpp"
#include "tlcr/ops/reduce.hpp"

#include "tlcr/generate/sampler.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/safetensors.hpp"

#include "tlcr/autograd/gradcheck.hpp"
#include "tlcr/autograd/tape.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/matmul.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
