// Tests of ops/optimizer_updates.hpp's per-element bodies: adamw_element and sgd_element (the CUDA
// kernels' bodies) give what the CPU loops give, element by element, on random buffers with a
// mixed weight-decay mask. The CPU AdamW loop is vectorised by Eigen and the scalar body may fuse a
// multiply-add, so they agree to a few roundings (1e-6 relative in float, 1e-14 in double); SGD's
// loop is the body itself, so it agrees bit for bit.
#include "support/testing.hpp"

using namespace tlcr;
using namespace tlcr::testing;

namespace optimizer_updates_test {
template <class T>
void check_adamw(double tolerance) {
  Rng rng(31);
  const int64_t n = 3001;  // not a multiple of the vector width or of the update block
  Tensor<T> values = random_normal<T>(Shape{n}, rng), grads = random_normal<T>(Shape{n}, rng);
  Tensor<T> m = random_normal<T>(Shape{n}, rng, 0.1), v = random_uniform<T>(Shape{n}, rng, 0, 0.1);
  Tensor<uint8_t> mask(Shape{n});
  for (uint8_t& b : mask) b = rng.uniform() < 0.7;
  const AdamWCoefficients<T> c{T(0.9),  T(0.95), T(0.1),  T(0.05),
                               T(0.01), T(1.3),  T(1e-8), T(0.999)};
  Tensor<T> values_1 = values.clone(), m_1 = m.clone(), v_1 = v.clone();
  adamw_update(values_1, grads, mask, m_1, v_1, c);
  for (int64_t i = 0; i < n; ++i) {
    T value = values[i], first = m[i], second = v[i];
    adamw_element(value, grads[i], mask[i] != 0, first, second, c);
    const auto close = [&](T a, T b) {
      return std::abs(double(a) - double(b)) <= tolerance * std::max(1.0, std::abs(double(b)));
    };
    if (!(close(value, values_1[i]) && close(first, m_1[i]) && close(second, v_1[i]))) {
      FAIL_CHECK("element " << i << ": body " << value << ", " << first << ", " << second
                            << " vs loop " << values_1[i] << ", " << m_1[i] << ", " << v_1[i]);
      break;
    }
  }
}
}  // namespace optimizer_updates_test

TEST_CASE("adamw_element is adamw_update's arithmetic, element by element") {
  optimizer_updates_test::check_adamw<float>(1e-6);
  optimizer_updates_test::check_adamw<double>(1e-14);
}

TEST_CASE("sgd_element is sgd_update's body: the same bits") {
  Rng rng(32);
  const int64_t n = 517;
  for (const bool nesterov : {false, true}) {
    Tensor<float> values = random_normal<float>(Shape{n}, rng),
                  grads = random_normal<float>(Shape{n}, rng),
                  velocity = random_normal<float>(Shape{n}, rng);
    Tensor<uint8_t> mask(Shape{n});
    for (uint8_t& b : mask) b = rng.uniform() < 0.5;
    Tensor<float> values_1 = values.clone(), velocity_1 = velocity.clone();
    sgd_update(values_1, grads, mask, velocity_1, 0.05f, 0.9f, 0.01f, nesterov);
    for (int64_t i = 0; i < n; ++i) {
      float value = values[i], u = velocity[i];
      sgd_element(value, grads[i], mask[i] != 0, u, 0.05f, 0.9f, 0.01f, nesterov);
      REQUIRE(value == values_1[i]);
      REQUIRE(u == velocity_1[i]);
    }
  }
}
