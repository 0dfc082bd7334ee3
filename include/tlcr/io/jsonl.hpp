// tlcr/io/jsonl.hpp — JSON Lines records: read with validation, write atomically.
//
// One JSON object per line. Every record is checked against a schema (required fields, their
// types, allowed op letters, lengths that must agree) before it is converted, so a bad record is
// never silently mis-read. A bad record is reported as
//     data/prefs.jsonl:7: field 'chosen': expected a string, found a number (42)
// and, as the caller chooses, either fails the read with tlcr::Error (the default) or is skipped
// and listed in the result's warnings. Blank lines are not records and are passed over; fields not
// in the schema are ignored, so files that carry extra metadata read fine.
//
// A record type plugs in by specialising JsonlTraits<Record> (schema, from_json, to_json).
// Not here: the record types themselves — prompts and SFT pairs (train/sft_data.hpp), preference
// pairs, revisions and token labels (rlhf/records.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tlcr/config.hpp"
#include "tlcr/io/atomic_file.hpp"

namespace tlcr {

// ---- schemas ----------------------------------------------------------------------------------

enum class JsonlFieldKind {
  String,    // any JSON string
  IntArray,  // array of integers that fit in int32
  OpString,  // string whose letters all come from allowed_letters
  Bool,      // true or false
};

struct JsonlField {
  std::string name;
  JsonlFieldKind kind = JsonlFieldKind::String;
  std::string allowed_letters = {};  // OpString only
  std::string same_length_as = {};   // optional: a field whose length this one must equal
  bool optional = false;             // a record may leave the field out
};

using JsonlSchema = std::vector<JsonlField>;

namespace detail {

// A short description of a JSON value for error messages: "a number (42)", "a string ("ab…")".
inline std::string jsonl_describe(const nlohmann::json& value) {
  auto shortened = [](std::string text) {
    return text.size() > 40 ? text.substr(0, 37) + "..." : text;
  };
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean (" + value.dump() + ")";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number (" + value.dump() + ")";
    case nlohmann::json::value_t::string:
      return "a string (" + shortened(value.dump()) + ")";
    case nlohmann::json::value_t::array:
      return "an array of " + std::to_string(value.size());
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "an unsupported JSON value";
  }
}

inline std::size_t jsonl_length(const nlohmann::json& value) {
  return value.is_string() ? value.get_ref<const std::string&>().size() : value.size();
}

}  // namespace detail

// Checks one parsed line against a schema. Returns "" when it conforms, otherwise the message
// "field 'x': expected …, found …" (without the file:line prefix).
inline std::string jsonl_schema_error(const nlohmann::json& record, const JsonlSchema& schema) {
  if (!record.is_object()) return "expected a JSON object, found " + detail::jsonl_describe(record);
  for (const JsonlField& field : schema) {
    const std::string where = "field '" + field.name + "': ";
    const auto it = record.find(field.name);
    const char* expected = field.kind == JsonlFieldKind::String     ? "a string"
                           : field.kind == JsonlFieldKind::IntArray ? "an array of 32-bit integers"
                           : field.kind == JsonlFieldKind::Bool     ? "true or false"
                                                                    : "a string of op letters";
    if (it == record.end()) {
      if (field.optional) continue;
      return where + "expected " + expected + ", found nothing (missing)";
    }
    const nlohmann::json& value = *it;
    switch (field.kind) {
      case JsonlFieldKind::String:
        if (!value.is_string())
          return where + "expected a string, found " + detail::jsonl_describe(value);
        break;
      case JsonlFieldKind::Bool:
        if (!value.is_boolean())
          return where + "expected true or false, found " + detail::jsonl_describe(value);
        break;
      case JsonlFieldKind::IntArray: {
        if (!value.is_array())
          return where + "expected an array of 32-bit integers, found " +
                 detail::jsonl_describe(value);
        for (std::size_t i = 0; i < value.size(); ++i) {
          const nlohmann::json& element = value[i];
          bool fits = false;
          if (element.is_number_unsigned()) {
            fits = element.get<uint64_t>() <= uint64_t(std::numeric_limits<int32_t>::max());
          } else if (element.is_number_integer()) {
            const int64_t v = element.get<int64_t>();
            fits = v >= std::numeric_limits<int32_t>::min() &&
                   v <= std::numeric_limits<int32_t>::max();
          }
          if (!fits)
            return where + "expected an array of 32-bit integers, found " +
                   detail::jsonl_describe(element) + " at index " + std::to_string(i);
        }
        break;
      }
      case JsonlFieldKind::OpString: {
        if (!value.is_string())
          return where + "expected a string of letters from \"" + field.allowed_letters +
                 "\", found " + detail::jsonl_describe(value);
        const std::string& ops = value.get_ref<const std::string&>();
        for (std::size_t i = 0; i < ops.size(); ++i)
          if (field.allowed_letters.find(ops[i]) == std::string::npos)
            return where + "expected letters from \"" + field.allowed_letters + "\", found '" +
                   std::string(1, ops[i]) + "' at position " + std::to_string(i);
        break;
      }
    }
  }
  // Lengths last, so that both fields are known to have the right types.
  for (const JsonlField& field : schema) {
    if (field.same_length_as.empty() || !record.contains(field.name)) continue;
    const auto other = record.find(field.same_length_as);
    TLCR_CHECK(other != record.end(), "JSONL schema: field '", field.name,
               "' must match the length of '", field.same_length_as, "', which the schema lacks");
    const std::size_t expected = detail::jsonl_length(*other);
    const std::size_t found = detail::jsonl_length(record.at(field.name));
    if (expected != found)
      return "field '" + field.name + "': expected length " + std::to_string(expected) +
             " (the length of '" + field.same_length_as + "'), found " + std::to_string(found);
  }
  return "";
}

// JsonlTraits<Record>: schema() lists the required fields in output order; from_json reads a record
// that has passed the schema; to_json writes one (keys in schema order).
template <class Record>
struct JsonlTraits;

namespace detail {
inline std::string jsonl_string(const nlohmann::json& record, const char* name) {
  return record.at(name).get<std::string>();
}
inline JsonlSchema jsonl_string_fields(std::initializer_list<const char*> names) {
  JsonlSchema schema;
  for (const char* name : names) schema.push_back({name, JsonlFieldKind::String});
  return schema;
}
}  // namespace detail

// ---- reading ----------------------------------------------------------------------------------

enum class OnBadRecord {
  Fail,  // throw tlcr::Error at the first bad record (default)
  Skip,  // leave it out, add "file:line: …" to warnings, and go on
};

template <class Record>
struct JsonlReadResult {
  std::vector<Record> records;
  std::vector<int64_t> lines;         // the file line of each record (1-based), for messages
  std::vector<std::string> warnings;  // one per skipped record, "file:line: message"
  int64_t skipped() const { return static_cast<int64_t>(warnings.size()); }
};

// Reads from a stream; `source` names it in messages (usually the file path).
template <class Record>
JsonlReadResult<Record> read_jsonl(std::istream& in, const std::string& source,
                                   OnBadRecord on_bad = OnBadRecord::Fail) {
  const JsonlSchema schema = JsonlTraits<Record>::schema();
  JsonlReadResult<Record> result;
  std::string line;
  for (int64_t line_number = 1; std::getline(in, line); ++line_number) {
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (!line.empty() && line.back() == '\r') line.pop_back();                     // CRLF files
    if (line.find_first_not_of(" \t") == std::string::npos) continue;

    // Every way a line can be bad is a problem of that line: --skip-bad skips it, and the error
    // names the file and line.
    std::string problem;
    std::optional<Record> record;
    try {
      const nlohmann::json parsed = nlohmann::json::parse(line);
      problem = jsonl_schema_error(parsed, schema);
      if (problem.empty()) record = JsonlTraits<Record>::from_json(parsed);
    } catch (const nlohmann::json::parse_error& error) {
      problem = "expected a JSON object, found malformed JSON (error at byte " +
                std::to_string(error.byte) + ")";
    } catch (const nlohmann::json::exception& error) {  // a number such as 1e999, a nested type
      problem = std::string("a value the JSON reader rejects: ") + error.what();
    } catch (const Error& error) {  // a record type's own checks
      problem = error.what();
    }
    if (record) {
      result.records.push_back(std::move(*record));
      result.lines.push_back(line_number);
      continue;
    }
    std::string message = source + ":" + std::to_string(line_number) + ": " + problem;
    if (on_bad == OnBadRecord::Fail) throw Error(message);
    result.warnings.push_back(std::move(message));
  }
  TLCR_CHECK(!in.bad(), source, ": read error");
  return result;
}

template <class Record>
JsonlReadResult<Record> read_jsonl(const std::filesystem::path& path,
                                   OnBadRecord on_bad = OnBadRecord::Fail) {
  std::ifstream in(path, std::ios::binary);
  TLCR_CHECK(in.good(), "cannot open '", path.string(), "' for reading");
  return read_jsonl<Record>(in, path.string(), on_bad);
}

// ---- writing ----------------------------------------------------------------------------------

// One compact JSON object per line, keys in schema order, UTF-8 kept as is. Text a model sampled
// can end inside a multi-byte character (byte-level BPE); invalid bytes are written as U+FFFD.
template <class Record>
std::string to_jsonl_line(const Record& record) {
  return JsonlTraits<Record>::to_json(record).dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
}

// Writes every record, replacing the file atomically (readers see the old or the new file).
template <class Record>
void write_jsonl(const std::filesystem::path& path, const std::vector<Record>& records) {
  write_file_atomically(path, [&](std::ostream& out) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      try {
        out << to_jsonl_line(records[i]) << '\n';
      } catch (const nlohmann::json::exception& error) {
        detail::fail("write_jsonl: record ", i, " of '", path.string(),
                     "' cannot be written as JSON: ", error.what());
      }
    }
  });
}

}  // namespace tlcr
