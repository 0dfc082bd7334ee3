// tlcr/core/tensor.hpp — Tensor<T, Device>: an owning, contiguous, row-major array of rank 0–4 in
// one device's memory.
//
// Copies of a Tensor share storage (like a shared_ptr); clone() makes a deep copy. Views of a
// leading-axis index (t.at(i)) or range (t.slice(b, e)) and reshapes share storage without copying,
// which is how parameters live inside one flat buffer. These, and fill/copy_from, work on every
// device. Element access — data(), operator[], begin()/end(), and matrix()/vector() (Eigen maps of
// the tensor seen as (rows = product of leading sizes) × (cols = last size)) — exists only where
// the host may read the memory (Cpu); on any other device it does not compile. Values cross
// between host and device only at the named, counted points: from() and to_device() upload,
// to_host(), to_vector() and item() download (core/device.hpp). On Cpu, to_host() and to_device()
// return the tensor itself (shared storage, no copy): treat their results as read-only.
// Not here: strides, broadcasting, arithmetic (see ops/), gradients (see autograd/).
// Shape legend: N = numel, R × C = the matrix view.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "tlcr/core/device.hpp"
#include "tlcr/core/shape.hpp"

namespace tlcr {

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

namespace detail {
struct TensorAccess;  // the kernel layer's way to a tensor's memory (ops/host_kernels.hpp)
}

template <class T, class Device>
class Tensor {
  using Memory = DeviceMemory<Device>;

 public:
  using value_type = T;
  using device_type = Device;
  static constexpr std::size_t kAlignment = 64;  // one cache line; enough for AVX-512 loads
  static_assert(std::size_t(detail::LargeBlockCache::kAlignment) == kAlignment);

  Tensor() = default;  // undefined: no storage (defined() == false)
  explicit Tensor(const Shape& shape) : Tensor(shape, Uninitialized{}) {
    Memory::zero(data_, storage_bytes(shape));
  }

  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  // A tensor whose values are unspecified: for an op's output that the op overwrites entirely, so
  // the zeroing pass is not paid for nothing.
  static Tensor uninitialized(const Shape& shape) { return Tensor(shape, Uninitialized{}); }
  static Tensor full(const Shape& shape, T value) {
    Tensor tensor(shape, Uninitialized{});
    tensor.fill(value);
    return tensor;
  }
  // Host values onto the device (an upload; values.size() must equal shape.numel()).
  static Tensor from(const Shape& shape, const std::vector<T>& values) {
    return from(shape, std::span<const T>(values));
  }
  static Tensor from(const Shape& shape, std::span<const T> values) {
    TLCR_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
               "Tensor::from: ", values.size(), " values do not fill shape ", shape.str());
    Tensor tensor(shape, Uninitialized{});
    if (shape.numel() == 0) return tensor;  // nothing crosses
    detail::count_transfer_to_device<Device>(shape.numel() * sizeof(T));
    Memory::copy(tensor.data_, values.data(), shape.numel() * sizeof(T));
    return tensor;
  }

  bool defined() const { return data_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank; }
  int64_t dim(int axis) const { return shape_[axis]; }
  int64_t numel() const { return shape_.numel(); }

  // ---- element access: host-readable devices only ----
  T* data() requires HostAccessible<Device> { return data_; }
  const T* data() const requires HostAccessible<Device> { return data_; }
  T* begin() requires HostAccessible<Device> { return data_; }
  T* end() requires HostAccessible<Device> { return data_ + numel(); }
  const T* begin() const requires HostAccessible<Device> { return data_; }
  const T* end() const requires HostAccessible<Device> { return data_ + numel(); }
  // Flat element access (row-major order), bounds-checked.
  T& operator[](int64_t flat_index) requires HostAccessible<Device> {
    return data_[checked(flat_index)];
  }
  const T& operator[](int64_t flat_index) const requires HostAccessible<Device> {
    return data_[checked(flat_index)];
  }
  // Eigen views: rows = product of leading sizes, cols = last size.
  MatrixMap<T> matrix() requires HostAccessible<Device> {
    return {data_, shape_.rows(), shape_.cols()};
  }
  ConstMatrixMap<T> matrix() const requires HostAccessible<Device> {
    return {data_, shape_.rows(), shape_.cols()};
  }
  VectorMap<T> vector() requires HostAccessible<Device> { return {data_, numel()}; }
  ConstVectorMap<T> vector() const requires HostAccessible<Device> { return {data_, numel()}; }

  // ---- views: every device ----
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
  // True when both tensors view the same storage (used by tests of views).
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }

  // ---- whole-tensor memory operations on the device: every device ----
  Tensor clone() const {
    Tensor copy(shape_, Uninitialized{});
    Memory::copy(copy.data_, data_, numel() * sizeof(T));
    return copy;
  }
  void fill(T value) { Memory::fill(data_, numel(), value); }
  void copy_from(const Tensor& source) {
    TLCR_CHECK(source.shape() == shape_, "Tensor::copy_from: shape mismatch, destination ",
               shape_.str(), " vs source ", source.shape().str());
    Memory::copy(data_, source.data_, numel() * sizeof(T));
  }

  // ---- the named crossing points ----
  // The values on the host: the tensor itself on Cpu (no copy), else a counted download.
  Tensor<T, Cpu> to_host() const {
    if constexpr (std::same_as<Device, Cpu>) {
      return *this;
    } else {
      Tensor<T, Cpu> host(shape_);
      detail::count_transfer_to_host<Device>(numel() * sizeof(T));
      Memory::copy(host.data(), data_, numel() * sizeof(T));
      return host;
    }
  }
  // The one value of a one-element tensor (a loss, a norm): a counted download off the host.
  T item() const {
    TLCR_CHECK(numel() == 1, "Tensor::item: expected one element, got shape ", shape_.str());
    T value;
    detail::count_transfer_to_host<Device>(sizeof(T));
    Memory::copy(&value, data_, sizeof(T));
    return value;
  }
  std::vector<T> to_vector() const {
    std::vector<T> values(numel());
    detail::count_transfer_to_host<Device>(numel() * sizeof(T));
    Memory::copy(values.data(), data_, numel() * sizeof(T));
    return values;
  }
  // A host tensor's values on this device: the same tensor on Cpu (shared, no copy), else a counted
  // upload into new device memory.
  static Tensor to_device(const Tensor<T, Cpu>& host) {
    if constexpr (std::same_as<Device, Cpu>) {
      return host;
    } else {
      Tensor tensor(host.shape(), Uninitialized{});
      detail::count_transfer_to_device<Device>(host.numel() * sizeof(T));
      Memory::copy(tensor.data_, host.data(), host.numel() * sizeof(T));
      return tensor;
    }
  }

 private:
  template <class, class>
  friend class Tensor;
  friend struct detail::TensorAccess;
  struct Uninitialized {};
  static std::size_t storage_bytes(const Shape& shape) {
    const auto count = static_cast<std::size_t>(std::max<int64_t>(shape.numel(), 1));
    TLCR_CHECK(count <= std::numeric_limits<std::size_t>::max() / sizeof(T), "Tensor: shape ",
               shape.str(), " needs more bytes than a size_t can count");
    return count * sizeof(T);
  }
  Tensor(const Shape& shape, Uninitialized) : shape_(shape) {
    const std::size_t bytes = storage_bytes(shape);
    T* memory = nullptr;
    try {
      memory = static_cast<T*>(Memory::allocate(bytes));
    } catch (const std::bad_alloc&) {  // say which tensor, not just "std::bad_alloc"
      detail::fail("Tensor: cannot allocate ", bytes, " bytes for shape ", shape.str(), " on ",
                   Device::name);
    }
    storage_ = std::shared_ptr<T[]>(memory, [bytes](T* p) { Memory::release(p, bytes); });
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

// A host tensor's values on device D (see Tensor::to_device).
template <class D, class T>
Tensor<T, D> to_device(const Tensor<T, Cpu>& host) {
  return Tensor<T, D>::to_device(host);
}

namespace detail {
// The kernel layer's access to device memory. Only kernels use it: for a host-memory device it
// gives the same storage seen as a Cpu tensor, which is how SealedCpu runs the CPU kernels; for
// any device, the raw address a device kernel works on.
struct TensorAccess {
  template <class T, HostMemory D>
  static Tensor<T, Cpu> host_alias(const Tensor<T, D>& t) {
    return Tensor<T, Cpu>(t.storage_, t.data_, t.shape_);
  }
  template <HostMemory D, class T>
  static Tensor<T, D> from_host_alias(const Tensor<T, Cpu>& t) {
    return Tensor<T, D>(t.storage_, t.data_, t.shape_);
  }
  // The first element's address in the device's own memory: what a device kernel is launched on.
  template <class T, class D>
  static T* device_data(const Tensor<T, D>& t) {
    return t.data_;
  }
};
}  // namespace detail

// Throws "op: shape mismatch: <name_a> [..] vs <name_b> [..]" unless the shapes are equal.
inline void check_same_shape(const char* op, const Shape& a, const Shape& b,
                             const char* name_a = "a", const char* name_b = "b") {
  if (!(a == b))
    detail::fail(op, ": shape mismatch: ", name_a, " ", a.str(), " vs ", name_b, " ", b.str());
}

}  // namespace tlcr
