// tlcr/io/safetensors.hpp — read and write tensors in the safetensors format.
//
// File layout (all integers little-endian):
//   bytes [0, 8)          N, the length of the JSON header, as an unsigned 64-bit integer
//   bytes [8, 8 + N)      the JSON header: an object {name: {"dtype", "shape", "data_offsets"}}
//                         plus an optional "__metadata__": {string: string}
//   bytes [8 + N, end)    the byte buffer; data_offsets [begin, end) are relative to its start
//
// Writing: F32 from Tensor<float>, F64 from Tensor<double>. Tensors are laid out in the order given
// (the header lists "__metadata__" first, then the tensors in that same order), back to back with
// no gaps, and the header is padded with spaces so the byte buffer starts at a multiple of 8. The
// file is replaced atomically (see atomic_file.hpp): readers see the old file or the new one.
//
// Reading: F32, F64, F16 and BF16, converted to the Tensor<float> or Tensor<double> asked for
// (F64 → float rounds to nearest; every other conversion is exact). The header is validated in
// full before any tensor is read: header length, JSON syntax, duplicate keys, dtype, shape (rank
// 0–4, the ranks Tensor supports), data_offsets, byte span = numel × dtype size, no overlaps.
// Unlike the reference implementation, gaps in the byte buffer (bytes no tensor uses) are
// accepted; this writer never leaves any.
//
// Not here: integer, bool or 8-bit float dtypes; memory mapping; model directories (config.json,
// weights and tokenizer together) and other file formats, which live elsewhere in io/.
// Shape legend: numel = product of the shape's sizes; a rank-0 shape [] holds one element.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tlcr/core/tensor.hpp"
#include "tlcr/io/atomic_file.hpp"
#include "tlcr/text/json_describe.hpp"

namespace tlcr {

namespace safetensors {

// Tensor bytes are copied to and from memory as they are, which is correct on little-endian hosts
// only (x86-64, AArch64, RISC-V). A big-endian port would need to swap bytes in read() and write().
static_assert(std::endian::native == std::endian::little,
              "tlcr's safetensors reader and writer assume a little-endian host");

// The largest JSON header accepted (the same bound as the reference implementation).
inline constexpr int64_t kMaxHeaderBytes = 100'000'000;

// The element types tlcr can read. F16 = IEEE 754 binary16, BF16 = the upper half of a float.
enum class Dtype { F16, BF16, F32, F64 };

inline const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::F16:
      return "F16";
    case Dtype::BF16:
      return "BF16";
    case Dtype::F32:
      return "F32";
    case Dtype::F64:
      return "F64";
  }
  return "?";
}

inline int64_t dtype_size(Dtype dtype) {
  switch (dtype) {
    case Dtype::F16:
    case Dtype::BF16:
      return 2;
    case Dtype::F32:
      return 4;
    case Dtype::F64:
      return 8;
  }
  return 0;
}

// The dtype written for a Tensor<T>.
template <class T>
constexpr Dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "safetensors: only Tensor<float> and Tensor<double> can be written");
  return std::is_same_v<T, float> ? Dtype::F32 : Dtype::F64;
}

// IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits; bias 15) → float, exactly.
inline float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits >> 15) << 31;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  const uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0) {
    // Zero or subnormal: mantissa × 2^-24 (float represents every such value exactly).
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1F) {
    // Infinity (mantissa 0) or NaN (mantissa ≠ 0; the payload moves to the top of float's).
    return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  }
  // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
  return std::bit_cast<float>(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

// bfloat16 is the upper 16 bits of a float, so the conversion is a shift (zeros, subnormals,
// infinities and NaNs all come out right).
inline float bfloat16_to_float(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// One entry of the header. begin and end are byte offsets into the byte buffer.
struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  Shape shape;
  int64_t begin = 0;
  int64_t end = 0;
};

// The validated header of a file.
struct Header {
  std::vector<TensorInfo> tensors;  // in byte-buffer order: by begin, end, then name
  std::map<std::string, std::string> metadata;
  int64_t header_bytes = 0;  // N
  int64_t buffer_bytes = 0;  // size of the byte buffer: file size − 8 − N
  int64_t data_start() const { return 8 + header_bytes; }
};

// One tensor as read: the dtype it had on disk, its shape, and its values converted to T.
template <class T>
struct StoredTensor {
  Dtype dtype = Dtype::F32;
  Shape shape;
  Tensor<T> tensor;
};

}  // namespace safetensors

// The contents of a safetensors file, tensors sorted by name.
template <class T>
struct SafetensorsFile {
  std::filesystem::path path;
  std::map<std::string, safetensors::StoredTensor<T>> tensors;
  std::map<std::string, std::string> metadata;

  bool contains(const std::string& name) const { return tensors.count(name) > 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> all;
    for (const auto& [name, stored] : tensors) all.push_back(name);
    return all;
  }

  // Throws "tensor 'x' not found in <file>; it has: a, b, ..." when absent.
  const safetensors::StoredTensor<T>& entry(const std::string& name) const {
    const auto found = tensors.find(name);
    if (found == tensors.end()) {
      std::string listing;
      for (const auto& [other, stored] : tensors) listing += (listing.empty() ? "" : ", ") + other;
      detail::fail("tensor '", name, "' not found in ", path.string(),
                   "; it has: ", listing.empty() ? "(no tensors)" : listing);
    }
    return found->second;
  }

  const Tensor<T>& tensor(const std::string& name) const { return entry(name).tensor; }

  // The tensor, after checking it has the expected shape (the usual step when loading weights).
  const Tensor<T>& tensor(const std::string& name, const Shape& expected) const {
    const Tensor<T>& found = tensor(name);
    if (!(found.shape() == expected))
      detail::fail("tensor '", name, "' in ", path.string(), " has shape ", found.shape().str(),
                   ", expected ", expected.str());
    return found;
  }
};

namespace safetensors {

template <class T>
using NamedTensors = std::vector<std::pair<std::string, Tensor<T>>>;

namespace detail {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Throws "safetensors file '<path>': <parts...>".
template <class... Parts>
[[noreturn]] void fail_in(const std::string& file, const Parts&... parts) {
  tlcr::detail::fail("safetensors file '", file, "': ", parts...);
}

// A JSON value described for an error message (never dumped whole: it may be nested deeply).
inline std::string brief(const Json& value) {
  return describe_json(value);
}

// A JSON value as a non-negative int64, or an error naming `what` (e.g. "shape[1] of tensor 'x'").
inline int64_t non_negative_integer(const Json& value, const std::string& file,
                                    const std::string& what) {
  if (!value.is_number_integer())
    fail_in(file, what, " must be a non-negative integer, found ", brief(value));
  if (value.is_number_unsigned()) {
    const uint64_t unsigned_value = value.get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail_in(file, what, " is too large: ", unsigned_value);
    return static_cast<int64_t>(unsigned_value);
  }
  const int64_t signed_value = value.get<int64_t>();
  if (signed_value < 0)
    fail_in(file, what, " must be a non-negative integer, found ", signed_value);
  return signed_value;
}

inline Dtype parse_dtype(const Json& value, const std::string& file, const std::string& tensor) {
  for (Dtype dtype : {Dtype::F16, Dtype::BF16, Dtype::F32, Dtype::F64})
    if (value.is_string() && value.get<std::string>() == dtype_name(dtype)) return dtype;
  fail_in(file, "tensor '", tensor, "': unsupported dtype ", brief(value),
          "; expected one of \"F16\", \"BF16\", \"F32\", \"F64\"");
}

inline Shape parse_shape(const Json& value, const std::string& file, const std::string& tensor) {
  if (!value.is_array())
    fail_in(file, "tensor '", tensor, "': shape must be an array, found ", brief(value));
  if (value.size() > Shape::kMaxRank)
    fail_in(file, "tensor '", tensor, "': shape ", brief(value), " has rank ", value.size(),
            "; tlcr tensors have rank 0 to ", Shape::kMaxRank);
  Shape shape;
  for (const Json& size : value) {
    const std::string what = "shape[" + std::to_string(shape.rank) + "] of tensor '" + tensor + "'";
    shape.dims[shape.rank++] = non_negative_integer(size, file, what);
  }
  return shape;
}

// numel × dtype size, refusing shapes whose byte count does not fit in 63 bits.
inline int64_t byte_count(const Shape& shape, Dtype dtype, const std::string& file,
                          const std::string& tensor) {
  for (int axis = 0; axis < shape.rank; ++axis)
    if (shape.dims[axis] == 0) return 0;
  int64_t bytes = dtype_size(dtype);
  for (int axis = 0; axis < shape.rank; ++axis) {
    if (bytes > std::numeric_limits<int64_t>::max() / shape.dims[axis])
      fail_in(file, "tensor '", tensor, "': shape ", shape.str(), " is too large");
    bytes *= shape.dims[axis];
  }
  return bytes;
}

// Parses JSON and rejects duplicate keys in any object (the JSON library would keep the last).
inline Json parse_json_without_duplicates(const std::string& text, const std::string& file) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const auto watch_keys = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == Json::parse_event_t::object_end) open_objects.pop_back();
    if (event == Json::parse_event_t::key &&
        !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, watch_keys);
  } catch (const Json::exception& error) {  // malformed, or a number such as 1e999
    fail_in(file, "the header is not valid JSON: ", error.what());
  }
  if (!duplicate.empty()) fail_in(file, "the header repeats the key '", duplicate, "'");
  return header;
}

inline std::map<std::string, std::string> parse_metadata(const Json& value,
                                                         const std::string& file) {
  if (!value.is_object())
    fail_in(file, "\"__metadata__\" must be an object of strings, found ", brief(value));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string())
      fail_in(file, "\"__metadata__\" entry '", key, "' must be a string, found ", brief(text));
    metadata[key] = text.get<std::string>();
  }
  return metadata;
}

inline TensorInfo parse_tensor_entry(const std::string& name, const Json& entry,
                                     int64_t buffer_bytes, const std::string& file) {
  if (!entry.is_object())
    fail_in(file, "tensor '", name, "': expected an object, found ", brief(entry));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(field)) fail_in(file, "tensor '", name, "': missing field \"", field, "\"");
  for (const auto& [field, value] : entry.items())
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      fail_in(file, "tensor '", name, "': unknown field \"", field, "\"");

  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(entry["dtype"], file, name);
  info.shape = parse_shape(entry["shape"], file, name);

  const Json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    fail_in(file, "tensor '", name, "': data_offsets must be [begin, end], found ", brief(offsets));
  info.begin = non_negative_integer(offsets[0], file, "data_offsets[0] of tensor '" + name + "'");
  info.end = non_negative_integer(offsets[1], file, "data_offsets[1] of tensor '" + name + "'");
  if (info.begin > info.end)
    fail_in(file, "tensor '", name, "': data_offsets [", info.begin, ", ", info.end,
            "] has begin > end");
  if (info.end > buffer_bytes)
    fail_in(file, "tensor '", name, "': data_offsets [", info.begin, ", ", info.end,
            "] ends past the byte buffer, which holds ", buffer_bytes,
            " bytes (is the file truncated?)");
  const int64_t expected = byte_count(info.shape, info.dtype, file, name);
  if (info.end - info.begin != expected)
    fail_in(file, "tensor '", name, "': data_offsets [", info.begin, ", ", info.end, "] span ",
            info.end - info.begin, " bytes, but shape ", info.shape.str(), " of ",
            dtype_name(info.dtype), " needs ", expected);
  return info;
}

// Sorts by begin and rejects two non-empty tensors sharing a byte.
inline void sort_and_check_overlaps(std::vector<TensorInfo>& tensors, const std::string& file) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const TensorInfo* furthest = nullptr;  // the non-empty tensor seen so far that ends last
  for (const TensorInfo& info : tensors) {
    if (info.begin == info.end) continue;  // empty tensors occupy no bytes
    if (furthest && info.begin < furthest->end)
      fail_in(file, "tensors '", furthest->name, "' [", furthest->begin, ", ", furthest->end,
              ") and '", info.name, "' [", info.begin, ", ", info.end, ") overlap");
    if (!furthest || info.end > furthest->end) furthest = &info;
  }
}

// Validates a header's JSON text. buffer_bytes = the number of bytes after the header.
inline Header parse_header(const std::string& text, int64_t buffer_bytes, const std::string& file) {
  const Json json = parse_json_without_duplicates(text, file);
  if (!json.is_object())
    fail_in(file, "the header must be a JSON object, found ", json.type_name());
  Header header;
  header.header_bytes = static_cast<int64_t>(text.size());
  header.buffer_bytes = buffer_bytes;
  for (const auto& [key, value] : json.items()) {
    if (key == "__metadata__")
      header.metadata = parse_metadata(value, file);
    else
      header.tensors.push_back(parse_tensor_entry(key, value, buffer_bytes, file));
  }
  sort_and_check_overlaps(header.tensors, file);
  return header;
}

// Reads exactly `count` bytes at `offset`, or fails naming what was being read.
inline void read_exactly(std::istream& in, int64_t offset, char* destination, int64_t count,
                         const std::string& file, const std::string& what) {
  in.seekg(offset);
  in.read(destination, count);
  if (!in || in.gcount() != count)
    fail_in(file, "could not read ", what, " (", count, " bytes at offset ", offset,
            "); the file may be truncated");
}

// Converts `count` little-endian elements of `dtype` at `bytes` into `out`.
template <class T>
void convert_elements(const char* bytes, Dtype dtype, int64_t count, T* out) {
  for (int64_t i = 0; i < count; ++i) {
    switch (dtype) {
      case Dtype::F16:
      case Dtype::BF16: {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);
        out[i] =
            static_cast<T>(dtype == Dtype::F16 ? half_to_float(bits) : bfloat16_to_float(bits));
        break;
      }
      case Dtype::F32: {
        float value;
        std::memcpy(&value, bytes + 4 * i, 4);
        out[i] = static_cast<T>(value);
        break;
      }
      case Dtype::F64: {
        double value;
        std::memcpy(&value, bytes + 8 * i, 8);
        out[i] = static_cast<T>(value);
        break;
      }
    }
  }
}

// Opens the file, validates its length prefix and header; leaves `in` open for the tensor reads.
inline Header open_and_read_header(const std::filesystem::path& path, std::ifstream& in) {
  const std::string file = path.string();
  in.open(path, std::ios::binary);
  if (!in) fail_in(file, "cannot open for reading");
  std::error_code error;
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path, error));
  if (error) fail_in(file, "cannot get the file size: ", error.message());
  if (file_size < 8)
    fail_in(file, "the file has ", file_size,
            " bytes, fewer than the 8-byte header length that starts every safetensors file");

  unsigned char length_bytes[8];
  read_exactly(in, 0, reinterpret_cast<char*>(length_bytes), 8, file, "the header length");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  if (header_length > static_cast<uint64_t>(kMaxHeaderBytes))
    fail_in(file, "the header length is ", header_length, " bytes, more than the limit of ",
            kMaxHeaderBytes, " (is this a safetensors file?)");
  const auto header_bytes = static_cast<int64_t>(header_length);
  if (header_bytes > file_size - 8)
    fail_in(file, "the header length is ", header_bytes, " bytes but only ", file_size - 8,
            " bytes follow the length (truncated file?)");

  std::string text(static_cast<size_t>(header_bytes), '\0');
  read_exactly(in, 8, text.data(), header_bytes, file, "the header");
  return parse_header(text, file_size - 8 - header_bytes, file);
}

template <class T>
void check_writable(const NamedTensors<T>& tensors) {
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    TLCR_CHECK(!name.empty(), "safetensors::write: a tensor has an empty name");
    TLCR_CHECK(name != "__metadata__",
               "safetensors::write: '__metadata__' is reserved and cannot name a tensor");
    TLCR_CHECK(seen.insert(name).second, "safetensors::write: tensor name '", name,
               "' appears twice");
    TLCR_CHECK(tensor.defined(), "safetensors::write: tensor '", name, "' is undefined");
  }
}

// The header text, padded with spaces to a multiple of 8 bytes.
template <class T>
std::string build_header(const NamedTensors<T>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson entries = OrderedJson::object();
    for (const auto& [key, value] : metadata) entries[key] = value;
    header["__metadata__"] = entries;
  }
  int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const int64_t bytes = tensor.numel() * static_cast<int64_t>(sizeof(T));
    OrderedJson shape = OrderedJson::array();
    for (int axis = 0; axis < tensor.rank(); ++axis) shape.push_back(tensor.dim(axis));
    header[name] = {{"dtype", dtype_name(dtype_of<T>())},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const OrderedJson::exception& error) {  // e.g. a name or metadata value not in UTF-8
    tlcr::detail::fail("safetensors::write: cannot encode the header: ", error.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

template <class T>
void write_file(const std::filesystem::path& path, const NamedTensors<T>& tensors,
                const std::map<std::string, std::string>& metadata) {
  check_writable(tensors);
  const std::string header = build_header(tensors, metadata);
  write_file_atomically(path, [&](std::ostream& out) {
    unsigned char length_bytes[8];
    for (int i = 0; i < 8; ++i)
      length_bytes[i] = static_cast<unsigned char>(header.size() >> (8 * i));
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& [name, tensor] : tensors)
      out.write(reinterpret_cast<const char*>(tensor.data()),
                static_cast<std::streamsize>(tensor.numel() * sizeof(T)));
  });
}

}  // namespace detail

// The validated header alone: names, dtypes, shapes and offsets, without reading any tensor.
inline Header read_header(const std::filesystem::path& path) {
  std::ifstream in;
  return detail::open_and_read_header(path, in);
}

// Every tensor of the file, converted to T (float or double), plus the metadata.
template <class T = float>
SafetensorsFile<T> read(const std::filesystem::path& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "safetensors::read: T must be float or double");
  std::ifstream in;
  const Header header = detail::open_and_read_header(path, in);
  SafetensorsFile<T> result;
  result.path = path;
  result.metadata = header.metadata;
  std::vector<char> raw;
  for (const TensorInfo& info : header.tensors) {
    StoredTensor<T> stored{info.dtype, info.shape, Tensor<T>(info.shape)};
    const int64_t offset = header.data_start() + info.begin;
    const int64_t bytes = info.end - info.begin;
    const std::string what = "tensor '" + info.name + "'";
    if (info.dtype == dtype_of<T>()) {  // same type on disk and in memory: read straight in
      detail::read_exactly(in, offset, reinterpret_cast<char*>(stored.tensor.data()), bytes,
                           path.string(), what);
    } else {
      raw.resize(static_cast<size_t>(bytes));
      detail::read_exactly(in, offset, raw.data(), bytes, path.string(), what);
      detail::convert_elements(raw.data(), info.dtype, info.shape.numel(), stored.tensor.data());
    }
    result.tensors.emplace(info.name, std::move(stored));
  }
  return result;
}

// Writes the tensors (F32) in the order given, with optional metadata, replacing `path`
// atomically. Names must be unique, non-empty and not "__metadata__".
inline void write(const std::filesystem::path& path, const NamedTensors<float>& tensors,
                  const std::map<std::string, std::string>& metadata = {}) {
  detail::write_file(path, tensors, metadata);
}
// The same for Tensor<double>, stored as F64.
inline void write(const std::filesystem::path& path, const NamedTensors<double>& tensors,
                  const std::map<std::string, std::string>& metadata = {}) {
  detail::write_file(path, tensors, metadata);
}

}  // namespace safetensors

}  // namespace tlcr
