// tlcr/cuda.cuh — the cuda/ layer in one include: every op's Cuda overload, for a unit compiled as
// CUDA (TLCR_WITH_CUDA, linked to tlcr::cuda) that runs models, trainers or generation on Cuda.
// Include it before the layers that call the ops (tlcr/tlcr.hpp or narrower): the overloads are
// then visible where the device-generic templates are instantiated.
// Not here: anything a CPU-only unit may include; the tag `Cuda` itself is in core/device.hpp.
#pragma once

#include "tlcr/cuda/attention.cuh"
#include "tlcr/cuda/blas.cuh"
#include "tlcr/cuda/clamp.cuh"
#include "tlcr/cuda/cross_entropy.cuh"
#include "tlcr/cuda/decode_step.cuh"
#include "tlcr/cuda/dropout.cuh"
#include "tlcr/cuda/elementwise.cuh"
#include "tlcr/cuda/embedding.cuh"
#include "tlcr/cuda/flash_attention.cuh"
#include "tlcr/cuda/heads.cuh"
#include "tlcr/cuda/linear.cuh"
#include "tlcr/cuda/linear_cross_entropy.cuh"
#include "tlcr/cuda/matmul.cuh"
#include "tlcr/cuda/memory.cuh"
#include "tlcr/cuda/norm.cuh"
#include "tlcr/cuda/optimizer_updates.cuh"
#include "tlcr/cuda/reduce.cuh"
#include "tlcr/cuda/rope.cuh"
#include "tlcr/cuda/runtime.cuh"
#include "tlcr/cuda/shape_ops.cuh"
#include "tlcr/cuda/softmax.cuh"
#include "tlcr/cuda/token_stats.cuh"
#include "tlcr/cuda/unary.cuh"
