// tlcr/dist/data_parallel.hpp — one optimizer step's gradient over the ranks of a Communicator,
// summed in a fixed order so that the result is bitwise the same on any number of ranks.
//
// A step is `micro_batches` micro-batches in a global order that every rank knows (each rank's
// batcher is a copy of the same one and is advanced past every micro-batch). Micro-batch i belongs
// to rank i mod size. Each rank computes the gradient of each of its micro-batches alone (zeroed
// buffer, backward), the ranks gather them all, and every rank folds them in global order,
//   g = (((g₀ + g₁) + g₂) + …),
// the same additions in the same order as one process doing the micro-batches one after another.
// MPI's own reductions are not used: the order of their additions changes with the algorithm and
// the rank count. The cost: each rank receives every micro-batch's gradient, ⌈G/size⌉ · size
// buffers of N floats per step, where a ring all-reduce moves about 2N.
// Not here: the communicator (communicator.hpp, mpi.hpp), the optimizer step (train/train_step.hpp).
// Shape legend: N = params.numel(), G = micro_batches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tlcr/dist/communicator.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

// Leaves the fixed-order sum of the G micro-batches' gradients in params.grads() and returns
// their losses in global order (on every rank). micro(i, mine) is called for i = 0 … G−1 in order
// on every rank; when `mine` it runs forward and backward of micro-batch i into params.grads()
// (zeroed just before) and returns its loss, otherwise it only advances past it (return ignored).
template <class T, class D, Communicator Comm, class Micro>
std::vector<double> sum_gradients_in_order(ParameterStore<T, D>& params, const Comm& comm,
                                           int64_t micro_batches, Micro&& micro) {
  const int64_t ranks = comm.size(), rank = comm.rank(), n = params.numel();
  std::vector<double> losses(micro_batches, 0.0);
  if (ranks == 1) {  // the same fold, kept as it goes: g ← g₀, then g ← g + gᵢ
    Tensor<T> sum;
    for (int64_t i = 0; i < micro_batches; ++i) {
      params.zero_grad();
      losses[i] = micro(i, true);
      if (micro_batches == 1) return losses;
      if (i == 0)
        sum = params.grads().to_host().clone();
      else
        sum.vector() += params.grads().to_host().vector();
    }
    params.grads().copy_from(to_device<D>(sum));
    return losses;
  }
  // Slot s of rank r holds the N gradients of micro-batch s·ranks + r (its loss: my_losses[s]).
  const int64_t slots = (micro_batches + ranks - 1) / ranks;
  std::vector<T> mine(slots * n, T(0));
  std::vector<double> my_losses(slots, 0.0);
  for (int64_t i = 0; i < micro_batches; ++i) {
    if (i % ranks != rank) {
      micro(i, false);
      continue;
    }
    params.zero_grad();
    const int64_t slot = i / ranks;
    my_losses[slot] = micro(i, true);
    const Tensor<T> grads = params.grads().to_host();
    std::copy(grads.data(), grads.data() + n, mine.begin() + slot * n);
  }
  std::vector<T> all(mine.size() * ranks);
  comm.all_gather(std::span<const T>(mine), std::span<T>(all));
  std::vector<double> all_losses(slots * ranks);
  comm.all_gather(std::span<const double>(my_losses), std::span<double>(all_losses));
  // Fold in global order: micro-batch i is slot i / ranks of rank i mod ranks.
  std::vector<T> sum(n);
  for (int64_t i = 0; i < micro_batches; ++i) {
    const int64_t owner = i % ranks, slot = i / ranks;
    const T* g = all.data() + (owner * slots + slot) * n;
    if (i == 0)
      std::copy(g, g + n, sum.begin());
    else
      for (int64_t j = 0; j < n; ++j) sum[j] += g[j];
    losses[i] = all_losses[owner * slots + slot];
  }
  params.grads().copy_from(Tensor<T, D>::from(Shape{n}, std::span<const T>(sum)));
  return losses;
}

}  // namespace tlcr
