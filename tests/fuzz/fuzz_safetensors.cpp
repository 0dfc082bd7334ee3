// Fuzz target: the safetensors reader (io/safetensors.hpp), header and tensors. The input is the
// whole file; it is written to a scratch file because the reader works on paths.
#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <tlcr/io/safetensors.hpp>

#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("tlcr_fuzz_" + std::to_string(::getpid()) + ".safetensors");
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  tlcr::fuzz::expect_only_tlcr_errors([&] {
    const tlcr::safetensors::Header header = tlcr::safetensors::read_header(path);
    const auto file = tlcr::safetensors::read<float>(path);
    FUZZ_REQUIRE(file.names().size() == header.tensors.size());
    for (const auto& info : header.tensors) FUZZ_REQUIRE(file.contains(info.name));
  });
  return 0;
}
