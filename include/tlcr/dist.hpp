// tlcr/dist.hpp — the dist/ layer in one include: the Communicator concept with its one-process
// default, and the fixed-order gradient sum of data-parallel training.
// dist/mpi.hpp, the communicator over MPI, is not included: it needs <mpi.h> and the tlcr::mpi
// target; include it where you start ranks.
// Each layer's headers include what they need from the layers below, so a program that includes
// only the layers it uses compiles less than one that includes tlcr/tlcr.hpp.
#pragma once

#include "tlcr/dist/communicator.hpp"
#include "tlcr/dist/data_parallel.hpp"
