// tlcr/tlcr.hpp — the umbrella header: every layer of the library (each also has its own umbrella,
// tlcr/<layer>.hpp, for programs that want to compile less). The built-in task is an application
// of the method, not a layer: include tlcr/rlhf/task.hpp where you use it.
#pragma once

#include "tlcr/config.hpp"

#include "tlcr/core.hpp"
#include "tlcr/ops.hpp"
#include "tlcr/autograd.hpp"
#include "tlcr/nn.hpp"
#include "tlcr/dist.hpp"
#include "tlcr/models.hpp"
#include "tlcr/optim.hpp"
#include "tlcr/text.hpp"
#include "tlcr/io.hpp"
#include "tlcr/train.hpp"
#include "tlcr/generate.hpp"
#include "tlcr/rlhf.hpp"
