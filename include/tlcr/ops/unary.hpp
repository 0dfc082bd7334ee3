// tlcr/ops/unary.hpp — pointwise functions y = f(x): exp, log, tanh, sigmoid, relu, GELU, SiLU,
// neg, square, sqrt, forward and backward on raw tensors (no autograd).
//
// Each function is a small policy struct in tlcr::pointwise with two static members, generic in
// the scalar type (float or double; integer literals in them adopt that type):
//   value(x)         y = f(x)
//   derivative(x, y) f'(x), given y = f(x) as well (exp, tanh, sigmoid and sqrt reuse y).
// One forward and one backward loop serve every policy: unary_forward<pointwise::Gelu>(out, x).
// The policies are host-and-device functions: the CUDA loops (cuda/unary.cuh) run the same code.
// The loops are branch-free per element, split into chunks across threads.
// log and sqrt follow std::log/std::sqrt outside their domain (−inf or NaN); nothing is checked.
// Not here: functions of two tensors (ops/elementwise.hpp, ops/clamp.hpp), anything across a row
// (ops/softmax.hpp, ops/norm.hpp).
// Shape legend: x, out, d_x, d_out all share one shape of any rank; N = numel.
#pragma once

#include <cmath>

#include "tlcr/core/fast_math.hpp"
#include "tlcr/core/parallel.hpp"
#include "tlcr/core/tensor.hpp"
#include "tlcr/ops/elementwise.hpp"
#include "tlcr/ops/host_kernels.hpp"

namespace tlcr {

namespace pointwise {

struct Exp {
  static constexpr const char* name = "exp";
  TLCR_HOST_DEVICE static auto value(auto x) { return std::exp(x); }
  TLCR_HOST_DEVICE static auto derivative(auto, auto y) { return y; }  // d/dx eˣ = eˣ
};

struct Log {
  static constexpr const char* name = "log";
  TLCR_HOST_DEVICE static auto value(auto x) { return std::log(x); }
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) { return 1 / x; }
};

struct Tanh {
  static constexpr const char* name = "tanh";
  TLCR_HOST_DEVICE static auto value(auto x) { return std::tanh(x); }
  TLCR_HOST_DEVICE static auto derivative(auto, auto y) { return 1 - y * y; }
};

// σ(x) = 1 / (1 + e⁻ˣ). For very negative x, e⁻ˣ saturates (fast_exp) and σ correctly becomes ≈ 0.
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  TLCR_HOST_DEVICE static auto value(auto x) { return 1 / (1 + fast_exp(-x)); }
  TLCR_HOST_DEVICE static auto derivative(auto, auto y) { return y * (1 - y); }
};

// The derivative at 0 is taken as 0.
struct Relu {
  static constexpr const char* name = "relu";
  TLCR_HOST_DEVICE static auto value(auto x) { return x > 0 ? x : 0; }
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) { return decltype(x)(x > 0 ? 1 : 0); }
};

// GELU, tanh approximation (as in GPT-2): ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
struct Gelu {
  static constexpr const char* name = "gelu";
  static constexpr double kSqrt2OverPi = 0.7978845608028654;
  static constexpr double kCubic = 0.044715;

  TLCR_HOST_DEVICE static auto value(auto x) {
    using T = decltype(x);
    const T u = T(kSqrt2OverPi) * (x + T(kCubic) * x * x * x);
    return T(0.5) * x * (1 + fast_tanh(u));
  }
  // y' = ½(1 + tanh u) + ½·x·(1 − tanh² u)·du/dx, with du/dx = √(2/π)·(1 + 3·0.044715·x²).
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) {
    using T = decltype(x);
    const T u = T(kSqrt2OverPi) * (x + T(kCubic) * x * x * x);
    const T t = fast_tanh(u);
    const T du_dx = T(kSqrt2OverPi) * (1 + T(3 * kCubic) * x * x);
    return T(0.5) * (1 + t) + T(0.5) * x * (1 - t * t) * du_dx;
  }
};

// SiLU (swish): x·σ(x). y' = σ + x·σ·(1 − σ) = σ·(1 + x·(1 − σ)).
struct Silu {
  static constexpr const char* name = "silu";
  TLCR_HOST_DEVICE static auto value(auto x) { return x * Sigmoid::value(x); }
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) {
    const auto s = Sigmoid::value(x);
    return s * (1 + x * (1 - s));
  }
};

struct Neg {
  static constexpr const char* name = "neg";
  TLCR_HOST_DEVICE static auto value(auto x) { return -x; }
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) { return decltype(x)(-1); }
};

struct Square {
  static constexpr const char* name = "square";
  TLCR_HOST_DEVICE static auto value(auto x) { return x * x; }
  TLCR_HOST_DEVICE static auto derivative(auto x, auto) { return 2 * x; }
};

struct Sqrt {
  static constexpr const char* name = "sqrt";
  TLCR_HOST_DEVICE static auto value(auto x) { return std::sqrt(x); }
  TLCR_HOST_DEVICE static auto derivative(auto, auto y) { return 1 / (2 * y); }
};

}  // namespace pointwise

// out (N) = Fn::value(x) elementwise.
template <class Fn, class T>
void unary_forward(Tensor<T>& out, const Tensor<T>& x) {
  check_same_shape(Fn::name, out.shape(), x.shape(), "out", "x");
  const T* px = x.data();
  T* po = out.data();
  parallel_for(0, x.numel(), detail::kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) po[i] = Fn::value(px[i]);
  });
}

// forward: out = f(x) → d x += f'(x) · d out. `out` is the forward result (some f' reuse it).
template <class Fn, class T>
void unary_backward(Tensor<T>& d_x, const Tensor<T>& d_out, const Tensor<T>& x,
                    const Tensor<T>& out) {
  check_same_shape(Fn::name, d_x.shape(), x.shape(), "d_x", "x");
  check_same_shape(Fn::name, d_out.shape(), x.shape(), "d_out", "x");
  check_same_shape(Fn::name, out.shape(), x.shape(), "out", "x");
  const T* px = x.data();
  const T* py = out.data();
  const T* g = d_out.data();
  T* dx = d_x.data();
  parallel_for(0, x.numel(), detail::kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] += Fn::derivative(px[i], py[i]) * g[i];
  });
}

// The kernels of this family, chosen by device (ops/host_kernels.hpp). Written out because the
// policy Fn is an explicit template argument, which the TLCR_HOST_KERNELS overloads cannot take.
template <class Fn, class T>
void unary_forward(Tensor<T, SealedCpu>& out, const Tensor<T, SealedCpu>& x) {
  detail::run_on_host([](auto&&... host) { unary_forward<Fn>(host...); }, out, x);
}
template <class Fn, class T>
void unary_backward(Tensor<T, SealedCpu>& d_x, const Tensor<T, SealedCpu>& d_out,
                    const Tensor<T, SealedCpu>& x, const Tensor<T, SealedCpu>& out) {
  detail::run_on_host([](auto&&... host) { unary_backward<Fn>(host...); }, d_x, d_out, x, out);
}

}  // namespace tlcr
