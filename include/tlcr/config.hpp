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
#define TLCR_CHECK(condition, ...)                                              \
  do {                                                                          \
    if (!(condition)) ::tlcr::detail::fail(__VA_ARGS__, " [", #condition, "]"); \
  } while (0)

// Header-only, or linked to a prebuilt instance library.
//
// By default every template is instantiated where it is used, so each program compiles the
// kernels and differentiable functions it calls. A program that defines TLCR_PREBUILT (CMake:
// tlcr_add_prebuilt) and links the one unit that includes <tlcr/instances.hpp> declares the float
// and double Cpu instances of the differentiable functions, kernels, modules, models and
// optimisers `extern` instead: its own units neither instantiate nor compile them.
// Each header with such instances ends with its list, TLCR_<FAMILY>_INSTANCES(extern_, T), and
// TLCR_DECLARE_INSTANCES(that list), which is empty in a header-only build.
#if defined(TLCR_PREBUILT)
#define TLCR_DECLARE_INSTANCES(list) list(extern, float) list(extern, double)
#else
#define TLCR_DECLARE_INSTANCES(list)
#endif
