// Tests for io/safetensors.hpp: bitwise round trips, the exact byte layout, F16/BF16 decoding,
// one error per kind of malformed header, truncated and corrupted files, lookups, atomic writes.
#include <tlcr/io/safetensors.hpp>

#include "support/testing.hpp"

#include <sys/resource.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tlcr;
namespace fs = std::filesystem;

namespace {

const fs::path& safetensors_dir() {
  static const testing::ScratchDir dir("safetensors");
  return dir.path;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The 8-byte little-endian encoding of n, built byte by byte.
std::string le64(uint64_t n) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  return bytes;
}

std::string le16(uint16_t n) {
  return {static_cast<char>(n & 0xFF), static_cast<char>(n >> 8)};
}

// A whole file from header text and byte buffer.
std::string file_bytes(const std::string& header, const std::string& buffer) {
  return le64(header.size()) + header + buffer;
}

// The message of the tlcr::Error thrown by f, or a marker when it throws nothing or something else.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error.what();
  } catch (const std::exception& other) {
    return std::string("(not a tlcr::Error) ") + other.what();
  }
  return "(no error)";
}

// Writes `bytes` to a file, reads it, and checks the error names the file and every expected part.
void check_read_error(const std::string& bytes, const std::vector<std::string>& expected_parts) {
  const fs::path path = safetensors_dir() / "bad.safetensors";
  write_bytes(path, bytes);
  const std::string message = error_of([&] { safetensors::read<float>(path); });
  INFO("message: ", message);
  CHECK(message.find(path.string()) != std::string::npos);
  for (const std::string& part : expected_parts) {
    INFO("expected part: ", part);
    CHECK(message.find(part) != std::string::npos);
  }
}

// A JSON object from its members, e.g. json_object({entry(...), entry(...)}).
std::string json_object(const std::vector<std::string>& members) {
  std::string text = "{";
  for (const std::string& member : members) text += (text.size() > 1 ? "," : "") + member;
  return text + "}";
}

// A header entry for one tensor.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

template <class T>
bool bitwise_equal(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(T)) == 0;
}

// Random named tensors of rank 0–4 (sizes 0–4, so some are empty) with a few special values.
template <class T>
safetensors::NamedTensors<T> random_tensors(Rng& rng) {
  safetensors::NamedTensors<T> named;
  const int64_t count = testing::random_size(rng, 1, 7);
  for (int64_t i = 0; i < count; ++i) {
    Shape shape;
    shape.rank = static_cast<int>(testing::random_size(rng, 0, 4));
    for (int axis = 0; axis < shape.rank; ++axis)
      shape.dims[axis] = testing::random_size(rng, 0, 4);
    Tensor<T> tensor = testing::random_normal<T>(shape, rng);
    const T specials[] = {std::numeric_limits<T>::infinity(), -T(0),
                          std::numeric_limits<T>::quiet_NaN(),
                          std::numeric_limits<T>::denorm_min()};
    for (T special : specials)
      if (tensor.numel() > 0) tensor[testing::random_size(rng, 0, tensor.numel() - 1)] = special;
    named.emplace_back("layer." + std::to_string(count - i) + ".weight", tensor);
  }
  return named;
}

template <class T>
void check_round_trip(uint64_t seed) {
  Rng rng(seed);
  const auto named = random_tensors<T>(rng);
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "quotes \" backslash \\ and non-ASCII: é→"}};
  const fs::path path = safetensors_dir() / "round_trip.safetensors";
  safetensors::write(path, named, metadata);

  const auto loaded = safetensors::read<T>(path);
  CHECK(loaded.metadata == metadata);
  REQUIRE(loaded.tensors.size() == named.size());
  for (const auto& [name, tensor] : named) {
    const auto& stored = loaded.entry(name);
    CHECK(stored.dtype == safetensors::dtype_of<T>());
    CHECK(stored.shape == tensor.shape());
    CHECK(bitwise_equal(stored.tensor, tensor));
  }

  // Layout: the header is padded to 8 bytes, tensors sit back to back in the order given.
  const auto header = safetensors::read_header(path);
  CHECK(header.header_bytes % 8 == 0);
  REQUIRE(header.tensors.size() == named.size());
  std::map<std::string, safetensors::TensorInfo> info_by_name;
  for (const auto& info : header.tensors) info_by_name[info.name] = info;
  int64_t offset = 0;
  for (const auto& [name, tensor] : named) {
    CHECK(info_by_name[name].begin == offset);
    offset += tensor.numel() * static_cast<int64_t>(sizeof(T));
    CHECK(info_by_name[name].end == offset);
  }
  for (size_t i = 1; i < header.tensors.size(); ++i)
    CHECK(header.tensors[i - 1].begin <= header.tensors[i].begin);
  CHECK(header.buffer_bytes == offset);
  CHECK(static_cast<int64_t>(fs::file_size(path)) == 8 + header.header_bytes + offset);
}

}  // namespace

TEST_CASE("write then read round-trips float and double tensors bit for bit, with metadata") {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    CAPTURE(seed);
    check_round_trip<float>(seed);
    check_round_trip<double>(seed);
  }
}

TEST_CASE("reading converts between the stored dtype and the requested type") {
  Rng rng(11);
  const auto as_double = testing::random_normal<double>({3, 5}, rng);
  const auto as_float = testing::random_normal<float>({7}, rng);
  const fs::path f64_path = safetensors_dir() / "f64.safetensors";
  const fs::path f32_path = safetensors_dir() / "f32.safetensors";
  safetensors::write(f64_path, {{"x", as_double}});
  safetensors::write(f32_path, {{"y", as_float}});

  const auto f64_as_float = safetensors::read<float>(f64_path);
  CHECK(f64_as_float.entry("x").dtype == safetensors::Dtype::F64);
  for (int64_t i = 0; i < as_double.numel(); ++i)
    CHECK(f64_as_float.tensor("x")[i] == static_cast<float>(as_double[i]));

  const auto f32_as_double = safetensors::read<double>(f32_path);
  CHECK(f32_as_double.entry("y").dtype == safetensors::Dtype::F32);
  for (int64_t i = 0; i < as_float.numel(); ++i)
    CHECK(f32_as_double.tensor("y")[i] == static_cast<double>(as_float[i]));
}

TEST_CASE("F16 and BF16 decode known bit patterns") {
  using safetensors::bfloat16_to_float;
  using safetensors::half_to_float;
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0xC100) == -2.5f);
  CHECK(half_to_float(0x7BFF) == 65504.0f);                  // largest finite
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));     // smallest subnormal
  CHECK(half_to_float(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));     // smallest normal
  CHECK(half_to_float(0x3555) == std::ldexp(1365.0f, -12));  // 0.333251953125
  CHECK(half_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(half_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(half_to_float(0x7E00)));
  CHECK(std::isnan(half_to_float(0x7C01)));  // signalling-NaN pattern: still NaN, not infinity
  CHECK(std::signbit(half_to_float(0x8000)));
  CHECK(half_to_float(0x8000) == 0.0f);

  CHECK(bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(bfloat16_to_float(0xC020) == -2.5f);
  CHECK(bfloat16_to_float(0x477F) == 65280.0f);                 // 65504 is not representable
  CHECK(bfloat16_to_float(0x7F7F) == std::ldexp(255.0f, 120));  // largest finite
  CHECK(bfloat16_to_float(0x0001) == std::ldexp(1.0f, -133));   // smallest subnormal
  CHECK(bfloat16_to_float(0x7F80) == std::numeric_limits<float>::infinity());
  CHECK(bfloat16_to_float(0xFF80) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(bfloat16_to_float(0x7FC0)));
  CHECK(std::isnan(bfloat16_to_float(0xFFC1)));
}

TEST_CASE("F16 and BF16 decoding agree with the textbook formula on all 65536 patterns") {
  // value = (−1)^sign × 2^(exponent − bias) × (1 + mantissa / 2^m), subnormals without the 1.
  const auto by_formula = [](uint32_t bits, int mantissa_bits, int exponent_bits) {
    const int bias = (1 << (exponent_bits - 1)) - 1;
    const uint32_t mantissa = bits & ((1u << mantissa_bits) - 1);
    const uint32_t exponent = (bits >> mantissa_bits) & ((1u << exponent_bits) - 1);
    const double sign = (bits >> (mantissa_bits + exponent_bits)) ? -1.0 : 1.0;
    const double fraction = std::ldexp(static_cast<double>(mantissa), -mantissa_bits);
    if (exponent == (1u << exponent_bits) - 1)
      return mantissa ? std::nan("") : sign * std::numeric_limits<double>::infinity();
    if (exponent == 0) return sign * std::ldexp(fraction, 1 - bias);
    return sign * std::ldexp(1.0 + fraction, static_cast<int>(exponent) - bias);
  };
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto pattern = static_cast<uint16_t>(bits);
    for (const auto& [decoded, expected] :
         {std::pair{double(safetensors::half_to_float(pattern)), by_formula(bits, 10, 5)},
          std::pair{double(safetensors::bfloat16_to_float(pattern)), by_formula(bits, 7, 8)}}) {
      const bool same = std::isnan(expected) ? std::isnan(decoded)
                                             : decoded == expected &&
                                                   std::signbit(decoded) == std::signbit(expected);
      if (!same) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the written bytes match a layout built by hand") {
  const fs::path path = safetensors_dir() / "layout.safetensors";
  safetensors::write(
      path,
      {{"b", Tensor<float>::from({2}, {1.0f, -2.0f})}, {"a", Tensor<float>::from({}, {0.5f})}},
      {{"k", "v"}});
  // 132 characters of JSON + 4 spaces = 136 = 0x88 header bytes; the buffer starts at byte 144.
  const std::string header =
      R"({"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}    )";
  const std::string length = {'\x88', 0, 0, 0, 0, 0, 0, 0};
  const std::string buffer = {0, 0, '\x80', '\x3F',   // 1.0f
                              0, 0, 0,      '\xC0',   // -2.0f
                              0, 0, 0,      '\x3F'};  // 0.5f
  const std::string expected = length + header + buffer;
  REQUIRE(header.size() == 136);
  const std::string written = testing::read_file(path);
  CHECK(written.size() == 156);
  CHECK(written == expected);
}

TEST_CASE("a file built byte by byte with F16, BF16, F64 and a gap reads as float and double") {
  // Buffer: [0, 12) h: F16 [2, 3]; [12, 16) unused gap; [16, 24) g: BF16 [4]; [24, 32) d: F64 [].
  const std::string header =
      json_object({entry("h", "F16", "[2,3]", "[0,12]"), entry("g", "BF16", "[4]", "[16,24]"),
                   entry("d", "F64", "[]", "[24,32]"), R"("__metadata__":{})"}) +
      "  ";  // padding spaces are allowed after the JSON
  std::string buffer;
  for (uint16_t bits : {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00, 0x7E00}) buffer += le16(bits);
  buffer += std::string("GAP!");
  for (uint16_t bits : {0x3F80, 0xC020, 0x0001, 0xFF80}) buffer += le16(bits);
  buffer += std::string{0, 0, 0, 0, 0, 0, '\x04', '\xC0'};  // -2.5 as little-endian F64
  const fs::path path = safetensors_dir() / "hand_built.safetensors";
  write_bytes(path, file_bytes(header, buffer));

  const auto as_float = safetensors::read<float>(path);
  const auto as_double = safetensors::read<double>(path);
  CHECK(as_float.names() == std::vector<std::string>{"d", "g", "h"});
  CHECK(as_float.metadata.empty());
  CHECK(as_float.entry("h").dtype == safetensors::Dtype::F16);
  CHECK(as_float.entry("g").dtype == safetensors::Dtype::BF16);
  CHECK(as_double.entry("d").dtype == safetensors::Dtype::F64);
  CHECK(as_float.tensor("h").shape() == Shape{2, 3});
  CHECK(as_float.tensor("d").shape() == Shape{});

  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> h = {1.0, -2.5, 65504.0, std::ldexp(1.0, -24), inf};
  const std::vector<double> g = {1.0, -2.5, std::ldexp(1.0, -133), -inf};
  for (size_t i = 0; i < h.size(); ++i) {
    CHECK(as_float.tensor("h")[i] == static_cast<float>(h[i]));
    CHECK(as_double.tensor("h")[i] == h[i]);
  }
  CHECK(std::isnan(as_float.tensor("h")[5]));
  CHECK(std::isnan(as_double.tensor("h")[5]));
  for (size_t i = 0; i < g.size(); ++i) {
    CHECK(as_float.tensor("g")[i] == static_cast<float>(g[i]));
    CHECK(as_double.tensor("g")[i] == g[i]);
  }
  CHECK(as_float.tensor("d")[0] == -2.5f);
  CHECK(as_double.tensor("d")[0] == -2.5);
}

TEST_CASE("lookups name the missing tensor, the file and what it has") {
  const fs::path path = safetensors_dir() / "lookup.safetensors";
  safetensors::write(path, {{"wte", Tensor<float>({4, 2})}, {"ln_f.bias", Tensor<float>({2})}});
  const auto loaded = safetensors::read<float>(path);
  CHECK(loaded.contains("wte"));
  CHECK_FALSE(loaded.contains("wpe"));
  CHECK(error_of([&] { loaded.tensor("wpe"); }) ==
        "tensor 'wpe' not found in " + path.string() + "; it has: ln_f.bias, wte");
  CHECK(error_of([&] {
          loaded.tensor("wte", {2, 4});
        }) == "tensor 'wte' in " + path.string() + " has shape [4, 2], expected [2, 4]");
  CHECK(loaded.tensor("wte", {4, 2}).shape() == Shape{4, 2});
}

TEST_CASE("malformed length prefixes and truncated headers are reported") {
  check_read_error("", {"0 bytes", "8-byte header length"});
  check_read_error("abc", {"3 bytes", "8-byte header length"});
  check_read_error(le64(100) + "{}", {"header length is 100 bytes", "only 2 bytes follow"});
  check_read_error(le64(1ull << 40) + "{}", {"1099511627776", "more than the limit"});
  check_read_error(le64(~0ull) + "{}", {"18446744073709551615", "more than the limit"});
  check_read_error(file_bytes("", ""), {"not valid JSON"});
  check_read_error(file_bytes(R"({"w": )", ""), {"not valid JSON"});
  check_read_error(file_bytes("[1, 2]", ""), {"must be a JSON object", "array"});
}

TEST_CASE("each kind of bad tensor entry gives an error naming the tensor and the problem") {
  const std::string sixteen_bytes(16, '\0');
  const auto with = [&](const auto&... entries) {
    return file_bytes(json_object({std::string(entries)...}), sixteen_bytes);
  };
  SUBCASE("dtype") {
    check_read_error(with(entry("w", "F33", "[4]", "[0,16]")),
                     {"tensor 'w'", "unsupported dtype \"F33\"", "F16"});
    check_read_error(with(entry("w", "I64", "[2]", "[0,16]")),
                     {"tensor 'w'", "unsupported dtype \"I64\""});
  }
  SUBCASE("shape") {
    check_read_error(with(entry("w", "F32", "[1,1,1,1,4]", "[0,16]")),
                     {"tensor 'w'", "rank 5", "rank 0 to 4"});
    check_read_error(with(entry("w", "F32", "[4,-1]", "[0,16]")),
                     {"shape[1] of tensor 'w'", "non-negative integer", "-1"});
    check_read_error(with(entry("w", "F32", "[4.0]", "[0,16]")),
                     {"shape[0] of tensor 'w'", "non-negative integer", "4.0"});
    check_read_error(with(entry("w", "F32", "4", "[0,16]")),
                     {"tensor 'w'", "shape must be an array"});
    check_read_error(with(entry("w", "F32", "[4294967296,4294967296,4294967296]", "[0,16]")),
                     {"tensor 'w'", "too large"});
  }
  SUBCASE("data_offsets") {
    check_read_error(with(entry("w", "F32", "[4]", "[0]")),
                     {"tensor 'w'", "data_offsets must be [begin, end]"});
    check_read_error(with(entry("w", "F32", "[0]", "[8,4]")), {"tensor 'w'", "begin > end"});
    check_read_error(with(entry("w", "F32", "[4]", "[-4,12]")),
                     {"data_offsets[0] of tensor 'w'", "non-negative"});
    check_read_error(with(entry("w", "F32", "[8]", "[0,32]")),
                     {"tensor 'w'", "[0, 32]", "ends past the byte buffer", "16 bytes"});
    check_read_error(with(entry("w", "F32", "[2,2]", "[0,8]")),
                     {"tensor 'w'", "span 8 bytes", "[2, 2] of F32 needs 16"});
    check_read_error(with(entry("w", "F16", "[3]", "[0,8]")),
                     {"tensor 'w'", "span 8 bytes", "[3] of F16 needs 6"});
  }
  SUBCASE("overlap") {
    check_read_error(with(entry("a", "F32", "[2]", "[0,8]"), entry("b", "F32", "[2]", "[4,12]")),
                     {"'a' [0, 8)", "'b' [4, 12)", "overlap"});
    // A long tensor followed by two short ones: the overlap is with the first, not the neighbour.
    check_read_error(with(entry("long", "F32", "[4]", "[0,16]"), entry("x", "F16", "[2]", "[4,8]"),
                          entry("y", "F16", "[2]", "[8,12]")),
                     {"'long' [0, 16)", "'x' [4, 8)", "overlap"});
    // Empty tensors occupy no bytes, so sharing an offset with one is fine.
    const fs::path path = safetensors_dir() / "empty_share.safetensors";
    write_bytes(path,
                with(entry("a", "F32", "[4]", "[0,16]"), entry("e", "F32", "[0,3]", "[4,4]")));
    CHECK(safetensors::read<float>(path).tensor("e").numel() == 0);
  }
  SUBCASE("structure") {
    check_read_error(with(entry("w", "F32", "[4]", "[0,16]"), entry("w", "F32", "[4]", "[0,16]")),
                     {"repeats the key 'w'"});
    check_read_error(with(R"("w":{"dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16]})"),
                     {"repeats the key 'dtype'"});
    check_read_error(with(R"("w":{"dtype":"F32","data_offsets":[0,16]})"),
                     {"tensor 'w'", "missing field \"shape\""});
    check_read_error(with(R"("w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"stride":[1]})"),
                     {"tensor 'w'", "unknown field \"stride\""});
    check_read_error(with(R"("w":[1,2])"), {"tensor 'w'", "expected an object"});
    check_read_error(with(R"("__metadata__":{"step":10})"),
                     {"\"__metadata__\" entry 'step'", "must be a string"});
    check_read_error(with(R"("__metadata__":"x")"), {"\"__metadata__\" must be an object"});
  }
}

TEST_CASE("a file cut short anywhere is an error, never a crash or a partial read") {
  const fs::path good = safetensors_dir() / "whole.safetensors";
  Rng rng(5);
  safetensors::write(good, {{"a", testing::random_normal<float>({3, 2}, rng)},
                            {"b", testing::random_normal<float>({5}, rng)}});
  const std::string bytes = testing::read_file(good);
  const fs::path cut = safetensors_dir() / "cut.safetensors";
  int not_errors = 0;
  for (size_t length = 0; length < bytes.size(); ++length) {
    write_bytes(cut, bytes.substr(0, length));
    if (error_of([&] { safetensors::read<float>(cut); }).rfind("safetensors file", 0) != 0)
      ++not_errors;
  }
  CHECK(not_errors == 0);
  // A cut inside the byte buffer is reported against the first tensor that no longer fits.
  check_read_error(bytes.substr(0, bytes.size() - 4),
                   {"tensor 'b'", "ends past the byte buffer", "truncated"});
}

TEST_CASE("randomly corrupted files either read or throw tlcr::Error") {
  const fs::path good = safetensors_dir() / "pristine.safetensors";
  Rng rng(9);
  safetensors::write(good,
                     {{"w", testing::random_normal<float>({2, 3}, rng)},
                      {"v", testing::random_normal<float>({4}, rng)}},
                     {{"k", "v"}});
  const std::string pristine = testing::read_file(good);
  const auto header_bytes = static_cast<int64_t>(safetensors::read_header(good).header_bytes);
  const fs::path corrupt = safetensors_dir() / "corrupt.safetensors";
  int other_exceptions = 0, errors = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    std::string bytes = pristine;
    const int64_t flips = testing::random_size(rng, 1, 3);
    for (int64_t f = 0; f < flips; ++f) {
      // Mostly the length prefix and the header, where the parsing happens.
      const int64_t at = testing::random_size(rng, 0, 8 + header_bytes - 1);
      bytes[at] = static_cast<char>(rng.uniform_int(256));
    }
    write_bytes(corrupt, bytes);
    const std::string message = error_of([&] { safetensors::read<double>(corrupt); });
    if (message.rfind("(not a tlcr::Error)", 0) == 0) ++other_exceptions;
    if (message != "(no error)") ++errors;
  }
  CHECK(other_exceptions == 0);
  CHECK(errors > 500);  // most corruptions are caught
}

TEST_CASE("write rejects bad names and keeps the old file when it fails") {
  const fs::path path = safetensors_dir() / "keep.safetensors";
  safetensors::write(path, {{"old", Tensor<float>::full({3}, 1.0f)}});
  const std::string before = testing::read_file(path);
  const auto count_entries = [&] {
    int entries = 0;
    for ([[maybe_unused]] const auto& item : fs::directory_iterator(path.parent_path())) ++entries;
    return entries;
  };
  const int entries_before = count_entries();

  CHECK(error_of([&] {
          safetensors::write(path, {{"x", Tensor<float>({1})}, {"x", Tensor<float>({2})}});
        }).find("tensor name 'x' appears twice") != std::string::npos);
  CHECK(error_of([&] {
          safetensors::write(path, {{"__metadata__", Tensor<float>({1})}});
        }).find("'__metadata__' is reserved") != std::string::npos);
  CHECK(error_of([&] {
          safetensors::write(path, {{"", Tensor<float>({1})}});
        }).find("empty name") != std::string::npos);
  CHECK(error_of([&] {
          safetensors::write(path, {{"u", Tensor<float>()}});
        }).find("tensor 'u' is undefined") != std::string::npos);
  CHECK(error_of([&] {
          safetensors::write(path, {{"ok", Tensor<float>({1})}}, {{"bad", std::string("\xFF")}});
        }).find("cannot encode the header") != std::string::npos);
  CHECK(testing::read_file(path) == before);

  // A failure halfway through the data: cap the file size so the stream's writes fail (EFBIG).
  struct FileSizeCap {
    rlimit saved{};
    void (*saved_handler)(int) = nullptr;
    explicit FileSizeCap(rlim_t bytes) {
      getrlimit(RLIMIT_FSIZE, &saved);
      saved_handler = std::signal(SIGXFSZ, SIG_IGN);  // fail the write instead of killing us
      rlimit capped = saved;
      capped.rlim_cur = std::min(bytes, saved.rlim_max);
      setrlimit(RLIMIT_FSIZE, &capped);
    }
    ~FileSizeCap() {
      setrlimit(RLIMIT_FSIZE, &saved);
      std::signal(SIGXFSZ, saved_handler);
    }
  };
  std::string message;
  {
    FileSizeCap cap(4096);
    message = error_of([&] {
      safetensors::write(path, {{"big", Tensor<float>::full({100000}, 2.0f)}});
    });
  }
  INFO("message: ", message);
  CHECK(message.find("writing") != std::string::npos);
  CHECK(testing::read_file(path) == before);
  CHECK(count_entries() == entries_before);  // no temporary left behind
  CHECK(safetensors::read<float>(path).tensor("old")[2] == 1.0f);
}
