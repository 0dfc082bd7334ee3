// tlcr/config.hpp — version, assertion macro and feature flags shared by every header.
// Not here: anything that needs Eigen, OpenMP or CUDA headers.
#pragma once

#define TLCR_VERSION_MAJOR 0
#define TLCR_VERSION_MINOR 1
#define TLCR_VERSION_PATCH 0
#define TLCR_VERSION_STRING "0.1.0"

// Functions that may one day run on a CUDA device carry this; on the CPU it is empty.
#if defined(__CUDACC__)
#define TLCR_HOST_DEVICE __host__ __device__
#else
#define TLCR_HOST_DEVICE
#endif

#include <sstream>
#include <stdexcept>
#include <string>

namespace tlcr {

// Thrown for every violated precondition at the library boundary: wrong shapes, bad files, bad options.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
[[noreturn]] inline void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}
}  // namespace detail

}  // namespace tlcr

// TLCR_CHECK(condition, message parts...): throws tlcr::Error naming the failed condition.
#define TLCR_CHECK(condition, ...)                                            \
  do {                                                                        \
    if (!(condition)) ::tlcr::detail::fail(__VA_ARGS__, " [", #condition, "]"); \
  } while (0)
