// tlcr/ops.hpp — the ops/ layer in one include:
// the stateless forward/backward kernels, chosen by device.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/ops/attention.hpp"
#include "tlcr/ops/clamp.hpp"
#include "tlcr/ops/cross_entropy.hpp"
#include "tlcr/ops/dropout.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/embedding.hpp"
#include "tlcr/ops/packed_gemm.hpp"
#include "tlcr/ops/heads.hpp"
#include "tlcr/ops/host_kernels.hpp"
#include "tlcr/ops/linear.hpp"
#include "tlcr/ops/linear_cross_entropy.hpp"
#include "tlcr/ops/matmul.hpp"
#include "tlcr/ops/norm.hpp"
#include "tlcr/ops/optimizer_updates.hpp"
#include "tlcr/ops/reduce.hpp"
#include "tlcr/ops/rope.hpp"
#include "tlcr/ops/shape_ops.hpp"
#include "tlcr/ops/softmax.hpp"
#include "tlcr/ops/token_stats.hpp"
#include "tlcr/ops/unary.hpp"
