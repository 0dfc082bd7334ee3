// tlcr/dist/communicator.hpp — what data-parallel training asks of the processes it runs on, and
// the one-process communicator every trainer uses by default.
//
// A Communicator knows this process's rank among `size()` and gathers equal-sized buffers from
// every rank in rank order (all_gather): the only collective the fixed-order gradient sum needs
// (dist/data_parallel.hpp), plus a barrier. SingleProcess is the default: rank 0 of 1, no MPI,
// nothing changes for a program that never heard of ranks. MpiCommunicator (dist/mpi.hpp) runs
// the same code on `mpirun -np N`. all_gather_varying builds buffers of different lengths per rank
// on top of all_gather.
// Not here: MPI itself (dist/mpi.hpp), what is gathered and how it is summed (data_parallel.hpp).
// Shape legend: n = elements one rank sends; the gathered buffer holds size() · n, rank r's at
// [r·n, (r+1)·n).
#pragma once

#include <algorithm>
#include <concepts>
#include <span>
#include <vector>

#include "tlcr/config.hpp"

namespace tlcr {

template <class C>
concept Communicator = requires(C& c, std::span<const float> fs, std::span<float> fr,
                                std::span<const double> ds, std::span<double> dr) {
  { c.rank() } -> std::convertible_to<int>;
  { c.size() } -> std::convertible_to<int>;
  c.all_gather(fs, fr);  // fr (size()·n) ← every rank's fs (n), in rank order
  c.all_gather(ds, dr);
  c.barrier();
};

// One process: rank 0 of 1. all_gather copies; barrier does nothing.
struct SingleProcess {
  int rank() const { return 0; }
  int size() const { return 1; }
  template <class T>
  void all_gather(std::span<const T> send, std::span<T> receive) const {
    TLCR_CHECK(receive.size() == send.size(), "all_gather: expected a receive buffer of ",
               send.size(), " elements (1 rank × ", send.size(), "), got ", receive.size());
    std::copy(send.begin(), send.end(), receive.begin());
  }
  void barrier() const {}
};
static_assert(Communicator<SingleProcess>);

// Every rank's `mine`, of any length, in rank order: the lengths are gathered first, then the
// buffers padded to the longest. For results a rank computed alone (e.g. its share of a rollout).
template <Communicator Comm>
std::vector<std::vector<double>> all_gather_varying(const Comm& comm,
                                                    std::span<const double> mine) {
  const std::size_t ranks = std::size_t(comm.size());
  const double my_length = double(mine.size());
  std::vector<double> lengths(ranks);
  comm.all_gather(std::span<const double>(&my_length, 1), std::span<double>(lengths));
  const std::size_t longest = std::size_t(*std::max_element(lengths.begin(), lengths.end()));
  std::vector<double> padded(longest, 0.0), all(longest * ranks);
  std::copy(mine.begin(), mine.end(), padded.begin());
  comm.all_gather(std::span<const double>(padded), std::span<double>(all));
  std::vector<std::vector<double>> out(ranks);
  for (std::size_t r = 0; r < ranks; ++r)
    out[r].assign(all.begin() + r * longest, all.begin() + r * longest + std::size_t(lengths[r]));
  return out;
}

}  // namespace tlcr
