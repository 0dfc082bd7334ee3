// tlcr/tlcr.hpp — the umbrella header: everything a user needs on the CPU path.
#pragma once

#include "tlcr/config.hpp"

#include "tlcr/core/parallel.hpp"
#include "tlcr/core/rng.hpp"
#include "tlcr/core/shape.hpp"
#include "tlcr/core/tensor.hpp"

#include "tlcr/ops/clamp.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/embedding.hpp"
#include "tlcr/ops/heads.hpp"
#include "tlcr/ops/matmul.hpp"
#include "tlcr/ops/norm.hpp"
#include "tlcr/ops/reduce.hpp"
#include "tlcr/ops/rope.hpp"
#include "tlcr/ops/softmax.hpp"
#include "tlcr/ops/unary.hpp"

#include "tlcr/nn/attention.hpp"
#include "tlcr/nn/block.hpp"
#include "tlcr/nn/kv_cache.hpp"
#include "tlcr/nn/linear.hpp"
#include "tlcr/nn/mlp.hpp"
#include "tlcr/nn/norm.hpp"
#include "tlcr/nn/parameter_store.hpp"

#include "tlcr/optim/adamw.hpp"
#include "tlcr/optim/clip.hpp"
#include "tlcr/optim/schedule.hpp"
#include "tlcr/optim/sgd.hpp"

#include "tlcr/models/arch.hpp"
#include "tlcr/models/config.hpp"
#include "tlcr/models/transformer.hpp"

#include "tlcr/train/batches.hpp"

#include "tlcr/generate/generate.hpp"
#include "tlcr/generate/sampler.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/io/safetensors.hpp"

#include "tlcr/autograd/gradcheck.hpp"
#include "tlcr/autograd/tape.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/autograd/fn/clamp.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/heads.hpp"
#include "tlcr/autograd/fn/matmul.hpp"
#include "tlcr/autograd/fn/norm.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/rope.hpp"
#include "tlcr/autograd/fn/softmax.hpp"
#include "tlcr/autograd/fn/unary.hpp"
