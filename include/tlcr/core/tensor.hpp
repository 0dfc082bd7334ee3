// tlcr/core/tensor.hpp — Tensor<T, Device>: an owning, contiguous, row-major array of rank 0–4.
//
// Copies of a Tensor share storage (like a shared_ptr); clone() makes a deep copy. Views of a
// leading-axis index (t.at(i)) or range (t.slice(b, e)) and reshapes share storage without copying,
// which is how parameters live inside one flat buffer. matrix() gives an Eigen::Map of the tensor
// seen as (rows = product of leading sizes) × (cols = last size).
// Not here: strides, broadcasting, arithmetic (see ops/), gradients (see autograd/).
// Shape legend: N = numel, R × C = the matrix view.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "tlcr/core/memory.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/shape.hpp"

namespace tlcr {

struct Cpu {};  // device tag: host memory. A Cuda tag lives in tlcr/cuda/ (nvcc builds only).

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

template <class T, class Device = Cpu>
class Tensor;

template <class T>
class Tensor<T, Cpu> {
 public:
  using value_type = T;
  static constexpr std::size_t kAlignment = 64;  // one cache line; enough for AVX-512 loads
  static_assert(std::size_t(detail::LargeBlockCache::kAlignment) == kAlignment);

  Tensor() = default;  // undefined: no storage (defined() == false)
  explicit Tensor(const Shape& shape) : Tensor(shape, Uninitialized{}) {
    // Zeroing a large tensor is a memory-bound pass; two threads move more bytes than one.
    constexpr int64_t kZeroChunk = int64_t(1) << 18;  // elements per thread at least (1 MiB floats)
    const int64_t count = std::max<int64_t>(shape.numel(), 1);
    parallel_for(0, count, kZeroChunk, [&](int64_t begin, int64_t end) {
      std::memset(static_cast<void*>(data_ + begin), 0, (end - begin) * sizeof(T));
    });
  }

  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  // A tensor whose values are unspecified: for an op's output that the op overwrites entirely, so
  // the zeroing pass is not paid for nothing.
  static Tensor uninitialized(const Shape& shape) { return Tensor(shape, Uninitialized{}); }
  static Tensor full(const Shape& shape, T value) {
    Tensor tensor(shape);
    tensor.fill(value);
    return tensor;
  }
  // values.size() must equal shape.numel().
  static Tensor from(const Shape& shape, const std::vector<T>& values) {
    TLCR_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
               "Tensor::from: ", values.size(), " values do not fill shape ", shape.str());
    Tensor tensor(shape);
    std::copy(values.begin(), values.end(), tensor.data());
    return tensor;
  }

  bool defined() const { return data_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank; }
  int64_t dim(int axis) const { return shape_[axis]; }
  int64_t numel() const { return shape_.numel(); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + numel(); }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + numel(); }

  // Flat element access (row-major order), bounds-checked.
  T& operator[](int64_t flat_index) { return data_[checked(flat_index)]; }
  const T& operator[](int64_t flat_index) const { return data_[checked(flat_index)]; }

  // View of index i along the leading axis: shape drops that axis. Shares storage.
  Tensor at(int64_t i) const {
    TLCR_CHECK(rank() > 0 && i >= 0 && i < dim(0), "Tensor::at: index ", i,
               " out of range for shape ", shape_.str());
    const Shape inner = shape_.drop_leading();
    return Tensor(storage_, data_ + i * inner.numel(), inner);
  }
  // View of rows [begin, end) along the leading axis. Shares storage.
  Tensor slice(int64_t begin, int64_t end) const {
    TLCR_CHECK(rank() > 0 && 0 <= begin && begin <= end && end <= dim(0), "Tensor::slice: [", begin,
               ", ", end, ") out of range for shape ", shape_.str());
    const int64_t row_size = dim(0) == 0 ? 0 : numel() / dim(0);
    return Tensor(storage_, data_ + begin * row_size, shape_.with_leading(end - begin));
  }
  // Same storage, new shape with the same number of elements.
  Tensor reshape(const Shape& shape) const {
    TLCR_CHECK(shape.numel() == numel(), "Tensor::reshape: cannot view ", shape_.str(), " as ",
               shape.str());
    return Tensor(storage_, data_, shape);
  }

  Tensor clone() const {
    Tensor copy(shape_);
    std::copy(begin(), end(), copy.data());
    return copy;
  }
  void fill(T value) { std::fill(begin(), end(), value); }
  void copy_from(const Tensor& source) {
    TLCR_CHECK(source.shape() == shape_, "Tensor::copy_from: shape mismatch, destination ",
               shape_.str(), " vs source ", source.shape().str());
    std::copy(source.begin(), source.end(), data_);
  }
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

  // Eigen views: rows = product of leading sizes, cols = last size.
  MatrixMap<T> matrix() { return {data_, shape_.rows(), shape_.cols()}; }
  ConstMatrixMap<T> matrix() const { return {data_, shape_.rows(), shape_.cols()}; }
  VectorMap<T> vector() { return {data_, numel()}; }
  ConstVectorMap<T> vector() const { return {data_, numel()}; }

  // True when both tensors view the same first element (used by tests of views).
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  struct Uninitialized {};
  Tensor(const Shape& shape, Uninitialized) : shape_(shape) {
    const int64_t count = std::max<int64_t>(shape.numel(), 1);
    const std::size_t bytes = count * sizeof(T);
    T* memory = static_cast<T*>(detail::LargeBlockCache::instance().allocate(bytes));
    storage_ = std::shared_ptr<T[]>(
        memory, [bytes](T* p) { detail::LargeBlockCache::instance().release(p, bytes); });
    data_ = memory;
  }
  Tensor(std::shared_ptr<T[]> storage, T* data, const Shape& shape)
      : storage_(std::move(storage)), data_(data), shape_(shape) {}
  int64_t checked(int64_t flat_index) const {
    TLCR_CHECK(flat_index >= 0 && flat_index < numel(), "Tensor: flat index ", flat_index,
               " out of range for shape ", shape_.str());
    return flat_index;
  }

  std::shared_ptr<T[]> storage_;
  T* data_ = nullptr;
  Shape shape_;
};

// Throws "op: shape mismatch: <name_a> [..] vs <name_b> [..]" unless the shapes are equal.
inline void check_same_shape(const char* op, const Shape& a, const Shape& b,
                             const char* name_a = "a", const char* name_b = "b") {
  if (!(a == b))
    detail::fail(op, ": shape mismatch: ", name_a, " ", a.str(), " vs ", name_b, " ", b.str());
}

}  // namespace tlcr
