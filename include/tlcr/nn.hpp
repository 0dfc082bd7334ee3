// tlcr/nn.hpp — the nn/ layer in one include:
// ParameterStore, Linear, norms, MLPs, attention with its KV cache, the transformer block.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/nn/attention.hpp"
#include "tlcr/nn/block.hpp"
#include "tlcr/nn/dropout.hpp"
#include "tlcr/nn/kv_cache.hpp"
#include "tlcr/nn/linear.hpp"
#include "tlcr/nn/mlp.hpp"
#include "tlcr/nn/norm.hpp"
#include "tlcr/nn/parameter_store.hpp"
