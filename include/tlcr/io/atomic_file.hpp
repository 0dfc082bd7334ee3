// tlcr/io/atomic_file.hpp — write a file so that readers see either the old or the new contents.
//
// write_file_atomically(path, writer) streams into "<path>.tmp.<pid>" next to the target, flushes,
// checks the stream, syncs it to disk, then renames over the target (rename is atomic within one
// file system) and syncs the directory, so that after a power cut the file is the old or the new
// one, whole. On any failure the temporary is removed and the previous file is left untouched.
// check_writable_directory finds a read-only output directory before a long run, not after it.
// Not here: file formats (see safetensors.hpp, jsonl.hpp).
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>

#include "tlcr/config.hpp"

namespace tlcr {

// Flushes a file's or a directory's contents and metadata to disk (fsync).
inline void sync_to_disk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  TLCR_CHECK(fd >= 0, "cannot open '", path.string(), "' to sync it to disk");
  const int status = ::fsync(fd);
  ::close(fd);
  TLCR_CHECK(status == 0, "syncing '", path.string(), "' to disk failed");
}

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
    sync_to_disk(temporary);
    std::error_code error;
    fs::rename(temporary, path, error);
    TLCR_CHECK(!error, "cannot rename '", temporary.string(), "' to '", path.string(),
               "': ", error.message());
    sync_to_disk(path.has_parent_path() ? path.parent_path() : fs::path("."));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

// Convenience: the whole contents as one string.
inline void write_file_atomically(const std::filesystem::path& path, const std::string& contents) {
  write_file_atomically(path,
                        [&](std::ostream& out) { out.write(contents.data(), contents.size()); });
}

// Creates `dir` if needed and proves it writable by writing and removing a small file; `what`
// names the directory in the error (e.g. "--out").
inline void check_writable_directory(const std::filesystem::path& dir, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  TLCR_CHECK(!error, what, ": cannot create directory '", dir.string(), "': ", error.message());
  const fs::path probe = dir / (".tlcr_write_probe." + std::to_string(::getpid()));
  const bool writable = std::ofstream(probe).good();
  fs::remove(probe, error);
  TLCR_CHECK(writable, what, ": directory '", dir.string(), "' is not writable");
}

}  // namespace tlcr
