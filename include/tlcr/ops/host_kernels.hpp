// tlcr/ops/host_kernels.hpp — how a kernel is chosen by device: overloads on the tensors' device.
//
// The kernels in ops/ take Tensor<T, Cpu>. Generic code (autograd/, nn/, models/, optim/, …) calls
// them by their plain names with Tensor<T, D>, and overload resolution on D picks the kernel:
//   Cpu        the ops/ kernel itself;
//   SealedCpu  the same ops/ kernel, run on the same storage seen as Cpu tensors, through the
//              forwarding overloads that TLCR_HOST_KERNELS(names…) declares at the end of each ops/
//              family header — that line is the family's list of kernels;
//   a device with its own kernels adds overloads on Tensor<T, ThatDevice> with the same names.
// A forwarding call maps each argument: Tensor<T, SealedCpu> (by value, reference or pointer, or
// in a std::vector) to a Cpu alias of its storage, and counts every std::span argument (host index
// data such as token ids or targets) as one upload, which is what it costs on a real device.
// Not here: the kernels themselves (ops/<family>.hpp) or device memory (core/device.hpp).
#pragma once

#include <concepts>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tlcr/core/tensor.hpp"

namespace tlcr::detail {

template <class A>
struct SealedArg : std::false_type {};
template <class T>
struct SealedArg<Tensor<T, SealedCpu>> : std::true_type {};
template <class T>
struct SealedArg<Tensor<T, SealedCpu>*> : std::true_type {};
template <class T>
struct SealedArg<const Tensor<T, SealedCpu>*> : std::true_type {};
template <class T>
struct SealedArg<std::vector<Tensor<T, SealedCpu>>> : std::true_type {};
template <class T>
struct SealedArg<std::vector<Tensor<T, SealedCpu>*>> : std::true_type {};

// True when some argument is a SealedCpu tensor: the call must go through the forwarding overload.
template <class... Args>
concept AnySealed = (SealedArg<std::remove_cvref_t<Args>>::value || ...);

// One argument as the Cpu kernel sees it. `get()` returns what is passed; `finish()` writes back
// what a kernel may have resized (a vector of output tensors).
template <class A>
struct HostArg {
  A& arg;
  explicit HostArg(A& a) : arg(a) {}
  A& get() { return arg; }
  void finish() {}
};
template <class T>
struct HostArg<Tensor<T, SealedCpu>> {
  Tensor<T, Cpu> alias;
  explicit HostArg(const Tensor<T, SealedCpu>& t) : alias(TensorAccess::host_alias(t)) {}
  Tensor<T, Cpu>& get() { return alias; }
  void finish() {}
};
template <class T>
struct HostArg<const Tensor<T, SealedCpu>> : HostArg<Tensor<T, SealedCpu>> {
  using HostArg<Tensor<T, SealedCpu>>::HostArg;
};
template <class T, class Pointer>
struct HostPointerArg {
  Tensor<T, Cpu> alias;
  bool present;
  explicit HostPointerArg(Pointer p)
      : alias(p ? TensorAccess::host_alias(*p) : Tensor<T, Cpu>()), present(p != nullptr) {}
  Tensor<T, Cpu>* get() { return present ? &alias : nullptr; }
  void finish() {}
};
template <class T>
struct HostArg<Tensor<T, SealedCpu>*> : HostPointerArg<T, Tensor<T, SealedCpu>*> {
  using HostPointerArg<T, Tensor<T, SealedCpu>*>::HostPointerArg;
};
template <class T>
struct HostArg<const Tensor<T, SealedCpu>*> : HostPointerArg<T, const Tensor<T, SealedCpu>*> {
  using HostPointerArg<T, const Tensor<T, SealedCpu>*>::HostPointerArg;
};
template <class T>
struct HostArg<Tensor<T, SealedCpu>* const> : HostArg<Tensor<T, SealedCpu>*> {
  using HostArg<Tensor<T, SealedCpu>*>::HostArg;
};
template <class T>
struct HostArg<const Tensor<T, SealedCpu>* const> : HostArg<const Tensor<T, SealedCpu>*> {
  using HostArg<const Tensor<T, SealedCpu>*>::HostArg;
};
template <class V, class T>
struct HostVectorArg {
  V& original;
  std::vector<Tensor<T, Cpu>> aliases;
  explicit HostVectorArg(V& v) : original(v) {
    for (const auto& t : v) aliases.push_back(TensorAccess::host_alias(t));
  }
  std::vector<Tensor<T, Cpu>>& get() { return aliases; }
  // Output vectors may be filled by the kernel: hand the new tensors back as SealedCpu tensors.
  void finish() {
    if constexpr (!std::is_const_v<V>) {
      original.clear();
      for (const auto& t : aliases) original.push_back(TensorAccess::from_host_alias<SealedCpu>(t));
    }
  }
};
template <class T>
struct HostArg<std::vector<Tensor<T, SealedCpu>>>
    : HostVectorArg<std::vector<Tensor<T, SealedCpu>>, T> {
  using HostVectorArg<std::vector<Tensor<T, SealedCpu>>, T>::HostVectorArg;
};
template <class T>
struct HostArg<const std::vector<Tensor<T, SealedCpu>>>
    : HostVectorArg<const std::vector<Tensor<T, SealedCpu>>, T> {
  using HostVectorArg<const std::vector<Tensor<T, SealedCpu>>, T>::HostVectorArg;
};
template <class V, class T>
struct HostPointerVectorArg {
  std::vector<Tensor<T, Cpu>> aliases;
  std::vector<Tensor<T, Cpu>*> pointers;
  explicit HostPointerVectorArg(V& v) {
    aliases.reserve(v.size());  // pointers into it must stay valid
    for (auto* p : v) {
      aliases.push_back(p ? TensorAccess::host_alias(*p) : Tensor<T, Cpu>());
      pointers.push_back(p ? &aliases.back() : nullptr);
    }
  }
  std::vector<Tensor<T, Cpu>*>& get() { return pointers; }
  void finish() {}
};
template <class T>
struct HostArg<std::vector<Tensor<T, SealedCpu>*>>
    : HostPointerVectorArg<std::vector<Tensor<T, SealedCpu>*>, T> {
  using HostPointerVectorArg<std::vector<Tensor<T, SealedCpu>*>, T>::HostPointerVectorArg;
};
template <class T>
struct HostArg<const std::vector<Tensor<T, SealedCpu>*>>
    : HostPointerVectorArg<const std::vector<Tensor<T, SealedCpu>*>, T> {
  using HostPointerVectorArg<const std::vector<Tensor<T, SealedCpu>*>, T>::HostPointerVectorArg;
};
// Host index data handed to a device kernel: one upload each (free on the host, counted so that
// tests see what a real device would move).
template <class E>
struct HostArg<std::span<E>> {
  std::span<E>& arg;
  explicit HostArg(std::span<E>& s) : arg(s) {
    if (!s.empty()) count_transfer_to_device<SealedCpu>(int64_t(s.size_bytes()));
  }
  std::span<E>& get() { return arg; }
  void finish() {}
};
template <class E>
struct HostArg<const std::span<E>> : HostArg<std::span<E>> {
  explicit HostArg(const std::span<E>& s) : HostArg<std::span<E>>(const_cast<std::span<E>&>(s)) {}
};

// Runs `kernel` (a callable over Cpu tensors) with every argument mapped to the host.
template <class Kernel, class... Args>
decltype(auto) run_on_host(Kernel&& kernel, Args&... args) {
  std::tuple<HostArg<Args>...> host_args{HostArg<Args>(args)...};
  auto call = [&] {
    return std::apply([&](auto&... host) { return kernel(host.get()...); }, host_args);
  };
  auto finish = [&] { std::apply([](auto&... host) { (host.finish(), ...); }, host_args); };
  using Result = decltype(call());
  if constexpr (std::is_void_v<Result>) {
    call();
    finish();
  } else if constexpr (requires { typename Result::device_type; }) {
    auto result = TensorAccess::from_host_alias<SealedCpu>(call());
    finish();
    return result;
  } else {
    auto result = call();
    finish();
    return result;
  }
}

}  // namespace tlcr::detail

// Declares, for each named kernel, the overload that runs it on SealedCpu tensors (see above).
#define TLCR_HOST_KERNEL_ONE(name)                             \
  template <class... Args>                                     \
  requires ::tlcr::detail::AnySealed<Args...>                  \
  decltype(auto) name(Args&&... args) {                        \
    return ::tlcr::detail::run_on_host(                        \
        [](auto&&... host) -> decltype(auto) {                 \
          return name(static_cast<decltype(host)&&>(host)...); \
        },                                                     \
        args...);                                              \
  }
#define TLCR_HOST_KERNELS_1(a) TLCR_HOST_KERNEL_ONE(a)
#define TLCR_HOST_KERNELS_2(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_1(__VA_ARGS__)
#define TLCR_HOST_KERNELS_3(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_2(__VA_ARGS__)
#define TLCR_HOST_KERNELS_4(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_3(__VA_ARGS__)
#define TLCR_HOST_KERNELS_5(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_4(__VA_ARGS__)
#define TLCR_HOST_KERNELS_6(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_5(__VA_ARGS__)
#define TLCR_HOST_KERNELS_7(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_6(__VA_ARGS__)
#define TLCR_HOST_KERNELS_8(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_7(__VA_ARGS__)
#define TLCR_HOST_KERNELS_9(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_8(__VA_ARGS__)
#define TLCR_HOST_KERNELS_10(a, ...) TLCR_HOST_KERNEL_ONE(a) TLCR_HOST_KERNELS_9(__VA_ARGS__)
#define TLCR_HOST_KERNELS_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, name, ...) name
#define TLCR_HOST_KERNELS(...)                                                          \
  TLCR_HOST_KERNELS_PICK(__VA_ARGS__, TLCR_HOST_KERNELS_10, TLCR_HOST_KERNELS_9,        \
                         TLCR_HOST_KERNELS_8, TLCR_HOST_KERNELS_7, TLCR_HOST_KERNELS_6, \
                         TLCR_HOST_KERNELS_5, TLCR_HOST_KERNELS_4, TLCR_HOST_KERNELS_3, \
                         TLCR_HOST_KERNELS_2, TLCR_HOST_KERNELS_1)                      \
  (__VA_ARGS__)
