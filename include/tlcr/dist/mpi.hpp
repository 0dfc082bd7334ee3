// tlcr/dist/mpi.hpp — the Communicator (dist/communicator.hpp) over MPI, for `mpirun -np N`.
//
// MpiSession initialises MPI for the life of the program (MPI_Init_thread, funneled: only the main
// thread calls MPI; OpenMP threads never do) and finalises it; MpiCommunicator is MPI_COMM_WORLD.
// A rank that fails must not leave the others waiting in a collective: abort_job() prints the
// message with the rank and ends every rank with MPI_Abort (non-zero exit, no hang). Only compiled
// where MPI is (the tlcr::mpi CMake target defines TLCR_WITH_MPI and links MPI::MPI_CXX).
// Not here: what is communicated (dist/data_parallel.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

#include <mpi.h>

#include "tlcr/dist/communicator.hpp"

namespace tlcr {

// Whether this process was started by an MPI launcher (mpirun / mpiexec): Open MPI, MPICH and
// PMIx set these. A plain start stays a single process and never initialises MPI.
inline bool launched_by_mpirun() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    TLCR_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI: the library does not support the main ",
               "thread making MPI calls while OpenMP threads run (MPI_THREAD_FUNNELED)");
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const { return rank_; }
  int size() const { return size_; }

  template <class T>
  void all_gather(std::span<const T> send, std::span<T> receive) const {
    TLCR_CHECK(receive.size() == send.size() * std::size_t(size_), "all_gather: expected a ",
               "receive buffer of ", send.size() * std::size_t(size_), " elements (", size_,
               " ranks × ", send.size(), "), got ", receive.size());
    TLCR_CHECK(send.size() <= std::size_t(std::numeric_limits<int>::max()),
               "all_gather: ", send.size(), " elements per rank; MPI counts stop at 2^31 − 1");
    const int count = int(send.size());
    MPI_Allgather(send.data(), count, type<T>(), receive.data(), count, type<T>(), MPI_COMM_WORLD);
  }
  void barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

  // Prints "tlcr: error (rank r of N): message" and ends the whole job with exit status `code`.
  [[noreturn]] void abort_job(const std::string& message, int code = 1) const {
    std::fprintf(stderr, "tlcr: error (rank %d of %d): %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; should it, this rank still ends
  }

 private:
  template <class T>
  static MPI_Datatype type() {
    if constexpr (std::is_same_v<T, float>)
      return MPI_FLOAT;
    else
      return MPI_DOUBLE;
  }
  int rank_ = 0, size_ = 1;
};
static_assert(Communicator<MpiCommunicator>);

}  // namespace tlcr
