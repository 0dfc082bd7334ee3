// tlcr/text/json_describe.hpp — a JSON value described for an error message, safely.
//
// Error messages name what a file held where something else was expected. nlohmann-json's dump()
// recurses once per nesting level, so dumping an untrusted value nested 100k deep overflows the
// stack; describe_json never recurses into a container: scalars are shown (strings cut short),
// arrays and objects by their size. Every parser in tlcr describes untrusted values with it.
// It sits in text/ because that is the lowest layer that reads JSON files (tokenizer files).
// Not here: parsing or writing JSON (nlohmann-json), the JSONL schemas (io/jsonl.hpp).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tlcr {

// A scalar as its JSON text ("7", "\"soft\"", strings cut at 40 characters); a container of
// scalars the same way when that text is short ("[1, 2]"); any other container by its size ("an
// array of 3", "an object of 2 fields"), without looking inside its elements.
template <class Json>
std::string describe_json(const Json& value) {
  constexpr std::size_t kMaxChars = 40;
  auto shortened = [](std::string text) {
    return text.size() > kMaxChars ? text.substr(0, kMaxChars - 3) + "..." : text;
  };
  if (value.is_primitive()) return shortened(value.dump());  // dump() of a scalar does not recurse
  bool flat = value.size() <= 8;
  for (const auto& element : value)
    if (!flat || !element.is_primitive()) flat = false;
  if (flat) {
    std::string text = value.dump();  // one level deep: safe
    if (text.size() <= kMaxChars) return text;
  }
  return value.is_array() ? "an array of " + std::to_string(value.size())
                          : "an object of " + std::to_string(value.size()) + " fields";
}

}  // namespace tlcr
