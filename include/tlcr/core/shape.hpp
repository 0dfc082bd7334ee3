// tlcr/core/shape.hpp — the shape of a tensor: rank 0 to 4, row-major, sizes as int64.
// Not here: storage or strides (tensors are always contiguous).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "tlcr/config.hpp"

namespace tlcr {

struct Shape {
  static constexpr int kMaxRank = 4;
  std::array<int64_t, kMaxRank> dims{};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes) {
    TLCR_CHECK(sizes.size() <= kMaxRank, "Shape: rank ", sizes.size(), " exceeds the maximum ",
               kMaxRank);
    for (int64_t size : sizes) {
      TLCR_CHECK(size >= 0, "Shape: negative size ", size);
      dims[rank++] = size;
    }
    check_element_count();
  }

  int64_t operator[](int axis) const {
    TLCR_CHECK(axis >= 0 && axis < rank, "Shape: axis ", axis, " out of range for ", str());
    return dims[axis];
  }
  int64_t numel() const {
    int64_t count = 1;
    for (int i = 0; i < rank; ++i) count *= dims[i];
    return count;
  }
  // The shape seen as a matrix: rows = product of all leading sizes, cols = last size.
  int64_t cols() const { return rank == 0 ? 1 : dims[rank - 1]; }
  int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }

  // Shape without the leading axis (the shape of one slice t[i]).
  Shape drop_leading() const {
    TLCR_CHECK(rank > 0, "Shape: cannot drop the leading axis of a rank-0 shape");
    Shape inner;
    inner.rank = rank - 1;
    for (int i = 1; i < rank; ++i) inner.dims[i - 1] = dims[i];
    return inner;
  }
  // Same shape with the leading axis resized.
  Shape with_leading(int64_t size) const {
    TLCR_CHECK(size >= 0, "Shape: negative size ", size);
    Shape resized = *this;
    resized.dims[0] = size;
    resized.check_element_count();
    return resized;
  }
  // A shape of rank+1 with `size` prepended.
  Shape prepend(int64_t size) const {
    TLCR_CHECK(rank < kMaxRank, "Shape: cannot prepend to rank ", rank);
    Shape outer;
    outer.rank = rank + 1;
    outer.dims[0] = size;
    for (int i = 0; i < rank; ++i) outer.dims[i + 1] = dims[i];
    TLCR_CHECK(size >= 0, "Shape: negative size ", size);
    outer.check_element_count();
    return outer;
  }

  bool operator==(const Shape& other) const {
    if (rank != other.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != other.dims[i]) return false;
    return true;
  }

  std::string str() const {
    std::string text = "[";
    for (int i = 0; i < rank; ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
  }

 private:
  // Absurd sizes (a corrupt config, a typo) would overflow numel() and then the byte count; they
  // are refused here, where the shape is made, with the shape in the message.
  void check_element_count() const {
    int64_t count = 1;
    for (int i = 0; i < rank; ++i)
      TLCR_CHECK(!__builtin_mul_overflow(count, dims[i], &count), "Shape: ", str(),
                 " has more elements than an int64 can count");
  }
};

}  // namespace tlcr
