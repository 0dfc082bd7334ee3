// tlcr/rlhf/records.hpp — the JSONL records of preference data and of TLCR's token labels.
//
//   PreferenceRecord  {"prompt", "chosen", "rejected"}             a labelled pair
//   RevisionRecord    {"prompt", "chosen", "rejected", "revised"}  the pair plus a minimal-edit
//                                                                  revision of the rejected one
//   LabelRecord       {"rejected_ids": [int...], "rejected_ops": "UUSDU",
//                      "revised_ids":  [int...], "revised_ops":  "UUSAU"}
//                     ops letters: rejected U/S/D, revised U/S/A; len(ops) == len(ids).
// Revisions and labels are the paper's data (Yoon et al. 2024, §3.1: revisions by a strong model,
// aligned token by token with Levenshtein distance).
// Not here: the JSONL machinery (io/jsonl.hpp), prompts and SFT pairs (train/sft_data.hpp), how
// labels are computed (edit_labels.hpp, labels.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlcr/io/jsonl.hpp"

namespace tlcr {

struct PreferenceRecord {
  std::string prompt, chosen, rejected;
  bool operator==(const PreferenceRecord&) const = default;
};
struct RevisionRecord {
  std::string prompt, chosen, rejected, revised;
  bool operator==(const RevisionRecord&) const = default;
};
struct LabelRecord {
  std::vector<int32_t> rejected_ids;
  std::string rejected_ops;  // U/S/D per rejected token
  std::vector<int32_t> revised_ids;
  std::string revised_ops;  // U/S/A per revised token
  bool operator==(const LabelRecord&) const = default;
};

template <>
struct JsonlTraits<PreferenceRecord> {
  static JsonlSchema schema() {
    return detail::jsonl_string_fields({"prompt", "chosen", "rejected"});
  }
  static PreferenceRecord from_json(const nlohmann::json& j) {
    return {detail::jsonl_string(j, "prompt"), detail::jsonl_string(j, "chosen"),
            detail::jsonl_string(j, "rejected")};
  }
  static nlohmann::ordered_json to_json(const PreferenceRecord& r) {
    return {{"prompt", r.prompt}, {"chosen", r.chosen}, {"rejected", r.rejected}};
  }
};

template <>
struct JsonlTraits<RevisionRecord> {
  static JsonlSchema schema() {
    return detail::jsonl_string_fields({"prompt", "chosen", "rejected", "revised"});
  }
  static RevisionRecord from_json(const nlohmann::json& j) {
    return {detail::jsonl_string(j, "prompt"), detail::jsonl_string(j, "chosen"),
            detail::jsonl_string(j, "rejected"), detail::jsonl_string(j, "revised")};
  }
  static nlohmann::ordered_json to_json(const RevisionRecord& r) {
    return {{"prompt", r.prompt},
            {"chosen", r.chosen},
            {"rejected", r.rejected},
            {"revised", r.revised}};
  }
};

template <>
struct JsonlTraits<LabelRecord> {
  static JsonlSchema schema() {
    return {{"rejected_ids", JsonlFieldKind::IntArray},
            {"rejected_ops", JsonlFieldKind::OpString, "USD", "rejected_ids"},
            {"revised_ids", JsonlFieldKind::IntArray},
            {"revised_ops", JsonlFieldKind::OpString, "USA", "revised_ids"}};
  }
  static LabelRecord from_json(const nlohmann::json& j) {
    return {
        j.at("rejected_ids").get<std::vector<int32_t>>(), detail::jsonl_string(j, "rejected_ops"),
        j.at("revised_ids").get<std::vector<int32_t>>(), detail::jsonl_string(j, "revised_ops")};
  }
  static nlohmann::ordered_json to_json(const LabelRecord& r) {
    return {{"rejected_ids", r.rejected_ids},
            {"rejected_ops", r.rejected_ops},
            {"revised_ids", r.revised_ids},
            {"revised_ops", r.revised_ops}};
  }
};

}  // namespace tlcr
