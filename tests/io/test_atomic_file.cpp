// Tests for io/atomic_file.hpp: contents land whole, a failing writer leaves the old file intact
// and no temporary behind.
#include "support/testing.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

TEST_CASE("write_file_atomically writes, replaces, and survives a failing writer") {
  const fs::path dir = fs::temp_directory_path() / ("tlcr_atomic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path file = dir / "nested" / "out.txt";
  tlcr::write_file_atomically(file, std::string("first version\n"));
  CHECK(tlcr::testing::read_file(file) == "first version\n");
  tlcr::write_file_atomically(file, std::string("second"));
  CHECK(tlcr::testing::read_file(file) == "second");

  CHECK_THROWS_WITH(tlcr::write_file_atomically(file,
                                                [](std::ostream& out) {
                                                  out << "partial";
                                                  throw std::runtime_error("writer failed midway");
                                                }),
                    "writer failed midway");
  CHECK(tlcr::testing::read_file(file) == "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(file.parent_path())) ++entries;
  CHECK(entries == 1);  // no temporary left behind
  fs::remove_all(dir);
}

TEST_CASE("check_writable_directory creates the directory, or says why it cannot") {
  const tlcr::testing::ScratchDir dir("writable");
  tlcr::check_writable_directory(dir.path / "a" / "b", "--out");
  CHECK(std::filesystem::is_directory(dir.path / "a" / "b"));
  CHECK(std::filesystem::is_empty(dir.path / "a" / "b"));  // the probe file is gone
  const auto file = dir.write("plain_file", "x");
  CHECK_THROWS_WITH_AS(tlcr::check_writable_directory(file / "sub", "--out"),
                       doctest::Contains("--out: cannot create directory"), tlcr::Error);
}
