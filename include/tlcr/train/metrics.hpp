// tlcr/train/metrics.hpp — the two ways a run reports itself while it goes:
// MetricsLog appends one JSON object per line to a metrics file (flushed each line, so a crash
// loses nothing already logged); ProgressLine prints "step 120/1000 | loss 2.35 | … | ETA 1m23s"
// to stderr.
// Not here: what is measured (the trainers decide).
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tlcr/config.hpp"
#include "tlcr/io/atomic_file.hpp"

namespace tlcr {

class MetricsLog {
 public:
  MetricsLog() = default;  // disabled: log() does nothing
  // Opens `path` for appending (truncating first unless `append`); empty path disables logging.
  // A resumed run passes the step (`key`: "step", "iteration") its checkpoint was taken at:
  // records logged after it, by the run that stopped, are dropped, since the resumed run logs
  // those steps again.
  explicit MetricsLog(const std::filesystem::path& path, bool append = false,
                      int64_t resumed_at = -1, const char* key = "step") {
    if (path.empty()) return;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    if (append && resumed_at >= 0 && std::filesystem::exists(path))
      drop_records_after(path, resumed_at, key);
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    TLCR_CHECK(out_.good(), "cannot open metrics file '", path.string(), "'");
  }
  void log(const nlohmann::json& record) {
    if (!out_.is_open()) return;
    // Sample text may hold invalid UTF-8 (a sampled partial character): written as U+FFFD.
    out_ << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out_.flush();
  }

 private:
  static void drop_records_after(const std::filesystem::path& path, int64_t resumed_at,
                                 const char* key) {
    std::ifstream in(path);
    std::string kept, line;
    while (std::getline(in, line)) {
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      const bool later = record.is_object() && record.contains(key) &&
                         record[key].is_number_integer() && record[key].get<int64_t>() > resumed_at;
      if (!later) kept += line + '\n';
    }
    in.close();
    write_file_atomically(path, kept);
  }

  std::ofstream out_;
};

// "1h02m", "3m05s", "12s"
inline std::string format_duration(double seconds) {
  const long total = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  else if (total >= 60)
    std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%lds", total);
  return text;
}

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Prints progress lines to stderr: "<label> step s/total | <fields> | ETA …".
class ProgressLine {
 public:
  ProgressLine(std::string label, int64_t total_steps, bool enabled = true)
      : label_(std::move(label)), total_(total_steps), enabled_(enabled) {}
  void print(int64_t step, const std::string& fields, int64_t first_step = 0) const {
    if (!enabled_) return;
    const double elapsed = clock_.seconds();
    const int64_t done = step - first_step;
    const double eta = done > 0 ? elapsed / done * (total_ - step) : 0;
    std::fprintf(stderr, "%s step %lld/%lld | %s | %s elapsed, ETA %s\n", label_.c_str(),
                 static_cast<long long>(step), static_cast<long long>(total_), fields.c_str(),
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
  }

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  Stopwatch clock_;
};

}  // namespace tlcr
