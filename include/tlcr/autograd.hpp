// tlcr/autograd.hpp — the autograd/ layer in one include:
// the tape, Var, NoGrad, gradcheck and every differentiable function.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/autograd/gradcheck.hpp"
#include "tlcr/autograd/kept.hpp"
#include "tlcr/autograd/tape.hpp"
#include "tlcr/autograd/var.hpp"
#include "tlcr/autograd/fn/attention.hpp"
#include "tlcr/autograd/fn/clamp.hpp"
#include "tlcr/autograd/fn/cross_entropy.hpp"
#include "tlcr/autograd/fn/dropout.hpp"
#include "tlcr/autograd/fn/elementwise.hpp"
#include "tlcr/autograd/fn/embedding.hpp"
#include "tlcr/autograd/fn/heads.hpp"
#include "tlcr/autograd/fn/linear.hpp"
#include "tlcr/autograd/fn/linear_cross_entropy.hpp"
#include "tlcr/autograd/fn/matmul.hpp"
#include "tlcr/autograd/fn/norm.hpp"
#include "tlcr/autograd/fn/reduce.hpp"
#include "tlcr/autograd/fn/rope.hpp"
#include "tlcr/autograd/fn/shape_ops.hpp"
#include "tlcr/autograd/fn/softmax.hpp"
#include "tlcr/autograd/fn/unary.hpp"
