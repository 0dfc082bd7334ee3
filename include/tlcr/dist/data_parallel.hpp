// tlcr/dist/data_parallel.hpp — one optimizer step's gradient over the ranks of a Communicator,
// summed in a fixed order so that the result is bitwise the same on any number of ranks.
//
// A step is `micro_batches` micro-batches in a global order that every rank knows (each rank's
// batcher is a copy of the same one and is advanced past every micro-batch). Micro-batch i belongs
// to rank i mod size. Each rank computes the gradient of each of its micro-batches alone (zeroed
// buffers, backward), the ranks gather them all, and every rank folds them in global order,
//   g = (((g₀ + g₁) + g₂) + …),
// the same additions in the same order as one process doing the micro-batches one after another.
// MPI's own reductions are not used: the order of their additions changes with the algorithm and
// the rank count. The cost: each rank receives every micro-batch's gradient, ⌈G/size⌉ · size
// buffers of N floats per step, where a ring all-reduce moves about 2N.
// One backward may fill several parameter stores (PPO's policy and its separate critic): their
// gradients travel and are summed as one buffer, store after store. Each micro-batch also returns
// a few numbers of its own (its loss, diagnostics), gathered the same way.
// Not here: the communicator (communicator.hpp, mpi.hpp), the optimizer step (train/train_step.hpp).
// Shape legend: N = the stores' numel() together, G = micro_batches, K = numbers per micro-batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "tlcr/dist/communicator.hpp"
#include "tlcr/nn/parameter_store.hpp"

namespace tlcr {

// Part p of n items cut into `parts` contiguous parts as evenly as possible: [begin, end) with
// begin = p·n/parts. Every trainer cuts its batches into micro-batches this way.
struct PartRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
inline PartRange part_range(int64_t p, int64_t n, int64_t parts) {
  TLCR_CHECK(parts >= 1 && p >= 0 && p < parts, "part_range: part ", p, " of ", parts);
  return {p * n / parts, (p + 1) * n / parts};
}

// Leaves the fixed-order sum of the G micro-batches' gradients in every store's grads() and
// returns each micro-batch's K numbers, (G) × (K) in global order, on every rank.
// micro(i, mine) is called for i = 0 … G−1 in order on every rank; when `mine` it runs forward and
// backward of micro-batch i into the stores' grads() (zeroed just before) and returns its K
// numbers, otherwise it only advances past it (its return value is ignored).
template <class T, class D, Communicator Comm, class Micro>
std::vector<std::vector<double>> sum_gradients_in_order(
    std::span<ParameterStore<T, D>* const> stores, const Comm& comm, int64_t micro_batches,
    int64_t numbers, Micro&& micro) {
  const int64_t ranks = comm.size(), rank = comm.rank();
  int64_t n = 0;
  for (const ParameterStore<T, D>* store : stores) n += store->numel();
  auto run = [&](int64_t i) {
    for (ParameterStore<T, D>* store : stores) store->zero_grad();
    std::vector<double> out = micro(i, true);
    TLCR_CHECK(int64_t(out.size()) == numbers, "sum_gradients_in_order: micro-batch ", i,
               " returned ", out.size(), " numbers, expected ", numbers);
    return out;
  };
  auto read_grads = [&](T* out) {  // the stores' gradients, one after another
    for (const ParameterStore<T, D>* store : stores) {
      const Tensor<T> grads = store->grads().to_host();
      out = std::copy(grads.data(), grads.data() + store->numel(), out);
    }
  };
  auto add_grads = [](T* sum, const T* g, int64_t count) {
    for (int64_t j = 0; j < count; ++j) sum[j] += g[j];
  };
  auto write_grads = [&](const T* in) {
    for (ParameterStore<T, D>* store : stores) {
      const int64_t count = store->numel();
      store->grads().copy_from(Tensor<T, D>::from(Shape{count}, std::span<const T>(in, count)));
      in += count;
    }
  };

  std::vector<std::vector<double>> results(micro_batches);
  if (ranks == 1) {  // the same fold, kept as it goes: g ← g₀, then g ← g + gᵢ
    std::vector<T> sum, grads;
    for (int64_t i = 0; i < micro_batches; ++i) {
      results[i] = run(i);
      if (micro_batches == 1) return results;  // the gradient is already in place
      if (i == 0) {
        sum.resize(n);
        read_grads(sum.data());
      } else {
        grads.resize(n);
        read_grads(grads.data());
        add_grads(sum.data(), grads.data(), n);
      }
    }
    write_grads(sum.data());
    return results;
  }
  // Slot s of rank r holds the N gradients (and K numbers) of micro-batch s·ranks + r.
  const int64_t slots = (micro_batches + ranks - 1) / ranks;
  std::vector<T> mine(slots * n, T(0));
  std::vector<double> my_numbers(slots * numbers, 0.0);
  for (int64_t i = 0; i < micro_batches; ++i) {
    if (i % ranks != rank) {
      micro(i, false);
      continue;
    }
    const int64_t slot = i / ranks;
    const std::vector<double> out = run(i);
    std::copy(out.begin(), out.end(), my_numbers.begin() + slot * numbers);
    read_grads(mine.data() + slot * n);
  }
  std::vector<T> all(mine.size() * ranks);
  comm.all_gather(std::span<const T>(mine), std::span<T>(all));
  std::vector<double> all_numbers(my_numbers.size() * ranks);
  comm.all_gather(std::span<const double>(my_numbers), std::span<double>(all_numbers));
  // Fold in global order: micro-batch i is slot i / ranks of rank i mod ranks.
  std::vector<T> sum(n);
  for (int64_t i = 0; i < micro_batches; ++i) {
    const int64_t at = (i % ranks) * slots + i / ranks;
    const T* g = all.data() + at * n;
    if (i == 0)
      std::copy(g, g + n, sum.begin());
    else
      add_grads(sum.data(), g, n);
    results[i].assign(all_numbers.begin() + at * numbers, all_numbers.begin() + (at + 1) * numbers);
  }
  write_grads(sum.data());
  return results;
}

// One store, one number (the loss) per micro-batch: micro(i, mine) returns a double.
template <class T, class D, Communicator Comm, class Micro>
std::vector<double> sum_gradients_in_order(ParameterStore<T, D>& params, const Comm& comm,
                                           int64_t micro_batches, Micro&& micro) {
  ParameterStore<T, D>* const stores[] = {&params};
  const std::vector<std::vector<double>> results = sum_gradients_in_order(
      std::span<ParameterStore<T, D>* const>(stores), comm, micro_batches, 1,
      [&](int64_t i, bool mine) { return std::vector<double>{double(micro(i, mine))}; });
  std::vector<double> losses;
  for (const std::vector<double>& r : results) losses.push_back(r[0]);
  return losses;
}

}  // namespace tlcr
