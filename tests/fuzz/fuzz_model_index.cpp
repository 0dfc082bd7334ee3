// Fuzz target: a sharded model's model.safetensors.index.json (io/model_dir.hpp:
// read_model_tensors). The input is the index; beside it lie two small shards, so the weight map
// can name real files, missing ones, paths that leave the directory, or tensors a shard lacks.
#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <tlcr/io/model_dir.hpp>

#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  using namespace tlcr;
  static const fs::path dir = [] {
    const fs::path path =
        fs::temp_directory_path() / ("tlcr_fuzz_index_" + std::to_string(::getpid()));
    fs::create_directories(path);
    safetensors::write(path / "a.safetensors",
                       safetensors::NamedTensors<float>{{"w", Tensor<float>::full({2, 3}, 0.5f)}});
    safetensors::write(path / "b.safetensors",
                       safetensors::NamedTensors<float>{{"v", Tensor<float>::full({4}, 1.5f)},
                                                        {"w", Tensor<float>::full({1}, 2.0f)}});
    return path;
  }();
  std::ofstream(dir / "model.safetensors.index.json", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  tlcr::fuzz::expect_only_tlcr_errors([&] {
    const SafetensorsFile<float> tensors = read_model_tensors<float>(dir);
    // Whatever loads is a subset of the two shards, each tensor from one of them.
    for (const std::string& name : tensors.names()) FUZZ_REQUIRE(name == "w" || name == "v");
  });
  return 0;
}
