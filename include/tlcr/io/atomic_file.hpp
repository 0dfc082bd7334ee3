// tlcr/io/atomic_file.hpp — write a file so that readers see either the old or the new contents.
//
// write_file_atomically(path, writer) streams into "<path>.tmp.<pid>" next to the target, flushes,
// checks the stream, then renames over the target (rename is atomic within one file system). On any
// failure the temporary is removed and the previous file is left untouched.
// Not here: file formats (see safetensors.hpp, jsonl.hpp).
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <unistd.h>

#include "tlcr/config.hpp"

namespace tlcr {

// writer(stream) writes the whole contents; any exception from it aborts the write.
inline void write_file_atomically(const std::filesystem::path& path,
                                  const std::function<void(std::ostream&)>& writer) {
  namespace fs = std::filesystem;
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path temporary = path.string() + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      TLCR_CHECK(out.good(), "cannot open '", temporary.string(), "' for writing");
      writer(out);
      out.flush();
      TLCR_CHECK(out.good(), "writing '", temporary.string(), "' failed (disk full?)");
    }
    std::error_code error;
    fs::rename(temporary, path, error);
    TLCR_CHECK(!error, "cannot rename '", temporary.string(), "' to '", path.string(),
               "': ", error.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

// Convenience: the whole contents as one string.
inline void write_file_atomically(const std::filesystem::path& path, const std::string& contents) {
  write_file_atomically(path, [&](std::ostream& out) { out.write(contents.data(), contents.size()); });
}

}  // namespace tlcr
