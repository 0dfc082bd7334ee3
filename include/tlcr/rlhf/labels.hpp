// tlcr/rlhf/labels.hpp — token labels for the discriminator, made from minimal-edit revisions
// (Yoon et al. 2024, Fig. 2a) with the policy's own tokenizer.
//
// For each revision record (prompt, chosen, rejected, revised) the rejected and the revised
// response are tokenized SEPARATELY, exactly as the policy's responses are tokenized — the
// response separator + the text (ChatFormat::encode_response), without EOS — and aligned with
// edit_labels (rlhf/edit_labels.hpp): rejected tokens get U/S/D, revised tokens U/S/A.
//
// The label file is JSONL, one PromptLabelRecord per line:
//   {"prompt": "...", "chosen": "...",
//    "rejected_ids": [...], "rejected_ops": "UUSDU", "revised_ids": [...], "revised_ops": "UUSAU"}
// It is a LabelRecord (records.hpp) plus the prompt text, which the discriminator reads before
// the response, and the chosen text, which held-out pairwise accuracy needs. A file of these
// records also reads as plain LabelRecords. The ids belong to the tokenizer that made them: train
// the discriminator with the same tokenizer file.
// Not here: the alignment itself (edit_labels.hpp), the loss (discriminator.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tlcr/io/jsonl.hpp"
#include "tlcr/rlhf/edit_labels.hpp"
#include "tlcr/rlhf/records.hpp"
#include "tlcr/text/chat.hpp"

namespace tlcr {

struct PromptLabelRecord {
  std::string prompt;
  std::string chosen;
  LabelRecord labels;
  bool operator==(const PromptLabelRecord&) const = default;
};

template <>
struct JsonlTraits<PromptLabelRecord> {
  static JsonlSchema schema() {
    JsonlSchema schema = {{"prompt", JsonlFieldKind::String}, {"chosen", JsonlFieldKind::String}};
    for (const JsonlField& field : JsonlTraits<LabelRecord>::schema()) schema.push_back(field);
    return schema;
  }
  static PromptLabelRecord from_json(const nlohmann::json& j) {
    return {j.at("prompt").get<std::string>(), j.at("chosen").get<std::string>(),
            JsonlTraits<LabelRecord>::from_json(j)};
  }
  static nlohmann::ordered_json to_json(const PromptLabelRecord& r) {
    nlohmann::ordered_json j = {{"prompt", r.prompt}, {"chosen", r.chosen}};
    const nlohmann::ordered_json labels = JsonlTraits<LabelRecord>::to_json(r.labels);
    for (const auto& [key, value] : labels.items()) j[key] = value;
    return j;
  }
};

// The tokens a label covers: the response as the policy emits it, minus EOS.
inline std::vector<TokenId> label_tokens(const BpeTokenizer& tokenizer, const ChatFormat& format,
                                         std::string_view response) {
  ChatFormat without_eos = format;
  without_eos.add_eos = false;
  return without_eos.encode_response(tokenizer, response);
}

// Aligns one revision: rejected vs revised, token by token.
inline PromptLabelRecord label_revision(const BpeTokenizer& tokenizer, const RevisionRecord& record,
                                        const ChatFormat& format = {}) {
  PromptLabelRecord out{record.prompt, record.chosen, {}};
  out.labels.rejected_ids = label_tokens(tokenizer, format, record.rejected);
  out.labels.revised_ids = label_tokens(tokenizer, format, record.revised);
  const EditLabels aligned = edit_labels(out.labels.rejected_ids, out.labels.revised_ids);
  out.labels.rejected_ops = aligned.rejected_ops;
  out.labels.revised_ops = aligned.revised_ops;
  return out;
}

inline std::vector<PromptLabelRecord> label_revisions(const BpeTokenizer& tokenizer,
                                                      std::span<const RevisionRecord> records,
                                                      const ChatFormat& format = {}) {
  std::vector<PromptLabelRecord> labelled;
  labelled.reserve(records.size());
  for (const RevisionRecord& record : records)
    labelled.push_back(label_revision(tokenizer, record, format));
  return labelled;
}

// Counts of each op letter over a label set, for reports ("how much is edited?").
struct LabelCounts {
  int64_t records = 0, unchanged_records = 0;  // unchanged: no edit at all
  int64_t rejected_kept = 0, rejected_substituted = 0, rejected_deleted = 0;
  int64_t revised_kept = 0, revised_substituted = 0, revised_added = 0;

  int64_t negative() const { return rejected_substituted + rejected_deleted; }
  int64_t positive() const { return revised_substituted + revised_added; }
  int64_t neutral() const { return rejected_kept + revised_kept; }
};

inline LabelCounts count_labels(std::span<const PromptLabelRecord> records) {
  LabelCounts counts;
  for (const PromptLabelRecord& record : records) {
    ++counts.records;
    bool edited = false;
    for (char op : record.labels.rejected_ops) {
      counts.rejected_kept += op == 'U';
      counts.rejected_substituted += op == 'S';
      counts.rejected_deleted += op == 'D';
      edited |= op != 'U';
    }
    for (char op : record.labels.revised_ops) {
      counts.revised_kept += op == 'U';
      counts.revised_substituted += op == 'S';
      counts.revised_added += op == 'A';
      edited |= op != 'U';
    }
    counts.unchanged_records += !edited;
  }
  return counts;
}

inline void write_labels(const std::filesystem::path& path,
                         const std::vector<PromptLabelRecord>& records) {
  write_jsonl(path, records);
}

// Reads and validates a label file; a bad record names file:line:field (and, with
// OnBadRecord::Skip, is left out and listed in the warnings).
inline JsonlReadResult<PromptLabelRecord> read_labels(const std::filesystem::path& path,
                                                      OnBadRecord on_bad = OnBadRecord::Fail) {
  return read_jsonl<PromptLabelRecord>(path, on_bad);
}

}  // namespace tlcr
