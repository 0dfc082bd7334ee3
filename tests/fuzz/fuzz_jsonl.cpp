// Fuzz target: every JSONL record type (io/jsonl.hpp with the schemas of train/sft_data.hpp,
// rlhf/records.hpp, rlhf/labels.hpp). The first byte picks the record type, the rest is the file.
// Whatever is read must write back as lines that read again as the same records.
#include <sstream>

#include <tlcr/io/jsonl.hpp>
#include <tlcr/rlhf/labels.hpp>
#include <tlcr/rlhf/records.hpp>
#include <tlcr/train/sft_data.hpp>

#include "fuzz_target.hpp"

namespace {

template <class Record>
void read_as(std::string_view text) {
  using namespace tlcr;
  std::istringstream skip_in{std::string(text)};
  const JsonlReadResult<Record> read = read_jsonl<Record>(skip_in, "fuzz.jsonl", OnBadRecord::Skip);
  FUZZ_REQUIRE(read.records.size() == read.lines.size());
  std::string written;
  for (const Record& record : read.records) written += to_jsonl_line(record) + "\n";
  std::istringstream again_in(written);
  const JsonlReadResult<Record> again = read_jsonl<Record>(again_in, "again.jsonl");
  // Invalid UTF-8 is written as U+FFFD, so only the count is compared in general.
  FUZZ_REQUIRE(again.records.size() == read.records.size());
  tlcr::fuzz::expect_only_tlcr_errors([&] {
    std::istringstream fail_in{std::string(text)};
    read_jsonl<Record>(fail_in, "fuzz.jsonl", OnBadRecord::Fail);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text = tlcr::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      read_as<tlcr::PromptRecord>(text);
      break;
    case 1:
      read_as<tlcr::SftRecord>(text);
      break;
    case 2:
      read_as<tlcr::PreferenceRecord>(text);
      break;
    case 3:
      read_as<tlcr::RevisionRecord>(text);
      break;
    case 4:
      read_as<tlcr::LabelRecord>(text);
      break;
    case 5:
      read_as<tlcr::PromptLabelRecord>(text);
      break;
  }
  return 0;
}
