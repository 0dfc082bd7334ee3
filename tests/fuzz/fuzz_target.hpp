// tests/fuzz/fuzz_target.hpp — what every fuzz target shares.
//
// A target defines LLVMFuzzerTestOneInput(data, size). Built with clang and -fsanitize=fuzzer
// (the `fuzz` preset) it is a libFuzzer binary; built by the test suite it links replay_main.cpp,
// which feeds it each file of a seed corpus, so CI replays the corpora on every change.
// The rule every target checks: hostile input may only end in tlcr::Error. Any other exception
// escapes to libFuzzer (a finding), and so does a crash, a sanitizer report or a failed
// FUZZ_REQUIRE.
// Not here: the corpora (tests/fuzz/seeds/<target>/), the runner (tests/fuzz/run_fuzzers.sh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tlcr/config.hpp>

#define FUZZ_REQUIRE(condition)                                                                 \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "%s:%d: FUZZ_REQUIRE(%s) failed\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

namespace tlcr::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs body(); tlcr::Error is the expected way to reject input.
template <class Body>
void expect_only_tlcr_errors(Body&& body) {
  try {
    body();
  } catch (const tlcr::Error&) {
  }
}

}  // namespace tlcr::fuzz
