// tests/support/testing.hpp — helpers shared by the test suite: random tensors and a gradcheck
// assertion that prints the per-input report when it fails.
#pragma once

#include <doctest/doctest.h>
#include <tlcr/tlcr.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace tlcr::testing {

// A tensor of the given shape filled with N(0, stddev²) (or U[low, high) with uniform_range).
template <class T>
Tensor<T> random_normal(const Shape& shape, Rng& rng, double stddev = 1.0) {
  Tensor<T> t(shape);
  for (T& v : t) v = static_cast<T>(rng.normal() * stddev);
  return t;
}
template <class T>
Tensor<T> random_uniform(const Shape& shape, Rng& rng, double low, double high) {
  Tensor<T> t(shape);
  for (T& v : t) v = static_cast<T>(rng.uniform(low, high));
  return t;
}

// A shape with each size drawn from [low, high].
inline int64_t random_size(Rng& rng, int64_t low, int64_t high) {
  return low + static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(high - low + 1)));
}

// Largest |a − b| over all elements (shapes must match).
template <class T>
double max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
  check_same_shape("max_abs_diff", a.shape(), b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return worst;
}

// The whole file as bytes ("" if it cannot be opened).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh, empty folder under the system temp folder (named after the test and the process),
// removed on destruction.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("tlcr_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  // Writes `contents` to path/name and returns the file's path.
  std::filesystem::path write(const std::string& name, const std::string& contents) const {
    const std::filesystem::path file = path / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }
};

}  // namespace tlcr::testing

// Runs gradcheck and fails the test with the per-input report when any input is off.
#define TLCR_CHECK_GRADIENTS(f, inputs, ...)                                   \
  do {                                                                          \
    const auto tlcr_report = ::tlcr::gradcheck(f, inputs __VA_OPT__(, ) __VA_ARGS__); \
    INFO(tlcr_report.str());                                                    \
    CHECK(tlcr_report.ok);                                                      \
  } while (0)
