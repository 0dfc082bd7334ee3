// Tests for ops/host_kernels.hpp (kernels chosen by device) and ops/optimizer_updates.hpp: the
// SealedCpu forwarding overloads hand every kind of argument — tensors, pointers (null or not),
// vectors of tensors and of pointers, spans — to the Cpu kernel and give the same bits; the
// optimizer-update kernels match plain double arithmetic.
#include "support/testing.hpp"

using namespace tlcr;
using testing::random_normal;

namespace {
template <class T>
Tensor<T, SealedCpu> sealed(const Tensor<T>& host) {
  return Tensor<T, SealedCpu>::to_device(host);
}
}  // namespace

TEST_CASE("host kernels: pointer, null and span arguments reach the Cpu kernel on SealedCpu") {
  Rng rng(31);
  const Tensor<float> a = random_normal<float>({5, 7}, rng), b = random_normal<float>({7, 3}, rng);
  const Tensor<float> d_out = random_normal<float>({5, 3}, rng);
  Tensor<float> d_a({5, 7}), out({5, 3});
  matmul_forward(out, a, b);
  Tensor<float>* no_host_grad = nullptr;  // d_b not wanted
  matmul_backward(&d_a, no_host_grad, d_out, a, b);

  auto sa = sealed(a), sb = sealed(b), sd_out = sealed(d_out);
  Tensor<float, SealedCpu> sd_a(Shape{5, 7}), s_out(Shape{5, 3});
  matmul_forward(s_out, sa, sb);
  Tensor<float, SealedCpu>* no_grad = nullptr;
  matmul_backward(&sd_a, no_grad, sd_out, sa, sb);
  CHECK(s_out.to_vector() == out.to_vector());
  CHECK(sd_a.to_vector() == d_a.to_vector());

  // A span argument is host data going to the device: one counted upload; an empty one is none.
  const Tensor<float> table = random_normal<float>({6, 4}, rng);
  const std::vector<int32_t> ids{5, 0, 3};
  Tensor<float, SealedCpu> rows(Shape{3, 4});
  reset_transfer_counts<SealedCpu>();
  embedding_forward(rows, sealed(table), std::span<const int32_t>(ids), Shape{3});
  CHECK(transfer_counts<SealedCpu>().to_device == 2);  // the table, then the ids
  CHECK(transfer_counts<SealedCpu>().bytes_to_device == int64_t(24 * sizeof(float) + 12));
  CHECK(rows.to_vector()[0] == table[20]);  // row 5, column 0
}

TEST_CASE("host kernels: vectors of tensors and of pointers, in and out, on SealedCpu") {
  Rng rng(32);
  const Tensor<double> x = random_normal<double>({2, 3, 12}, rng);  // (B,T,parts·H·D): 3 parts
  std::vector<Tensor<double>> heads;
  for (int p = 0; p < 3; ++p) heads.push_back(Tensor<double>::uninitialized({2, 2, 3, 2}));
  split_heads_forward(heads, x, 2);
  std::vector<Tensor<double, SealedCpu>> sealed_heads;
  for (int p = 0; p < 3; ++p)
    sealed_heads.push_back(Tensor<double, SealedCpu>::uninitialized(Shape{2, 2, 3, 2}));
  split_heads_forward(sealed_heads, sealed(x), 2);
  for (int p = 0; p < 3; ++p) CHECK(sealed_heads[p].to_vector() == heads[p].to_vector());

  // concat's backward takes a vector of gradient pointers, one of them null.
  const Tensor<double> d_out = random_normal<double>({2, 5}, rng);
  Tensor<double> d0({2, 2}), d2({2, 1});
  std::vector<Tensor<double>*> grads{&d0, nullptr, &d2};
  const std::vector<int64_t> sizes{2, 2, 1};
  concat_backward(grads, sizes, d_out, 1);
  Tensor<double, SealedCpu> s0(Shape{2, 2}), s2(Shape{2, 1});
  std::vector<Tensor<double, SealedCpu>*> sealed_grads{&s0, nullptr, &s2};
  concat_backward(sealed_grads, sizes, sealed(d_out), 1);
  CHECK(s0.to_vector() == d0.to_vector());
  CHECK(s2.to_vector() == d2.to_vector());
  CHECK(d0[0] == d_out[0]);
  CHECK(d2[1] == d_out[9]);
}

TEST_CASE("optimizer updates: sum of squares, scaling and SGD against plain arithmetic") {
  Rng rng(33);
  const int64_t n = 40000;  // several fixed blocks
  const Tensor<float> x = random_normal<float>({n}, rng);
  double expected = 0;
  for (int64_t i = 0; i < n; ++i) expected += double(x[i]) * x[i];
  Tensor<double> total(Shape{});
  sum_of_squares(total, x);
  CHECK(total[0] == doctest::Approx(expected).epsilon(1e-12));
  Tensor<double, SealedCpu> sealed_total(Shape{});
  sum_of_squares(sealed_total, sealed(x));
  CHECK(sealed_total.item() == total[0]);

  Tensor<float> scaled = x.clone();
  scale_in_place(scaled, 0.25f);
  for (int64_t i = 0; i < n; i += 997) CHECK(scaled[i] == x[i] * 0.25f);

  // One SGD step with momentum and decay on the even elements.
  const Tensor<float> grads = random_normal<float>({n}, rng);
  std::vector<uint8_t> mask(n);
  for (int64_t i = 0; i < n; ++i) mask[i] = uint8_t(i % 2 == 0);
  Tensor<float> values = x.clone(), velocity = random_normal<float>({n}, rng);
  const Tensor<float> velocity_before = velocity.clone();
  sgd_update(values, grads, Tensor<uint8_t>::from({n}, mask), velocity, 0.1f, 0.9f, 0.01f, true);
  for (int64_t i = 0; i < n; i += 991) {
    const float g = mask[i] ? grads[i] + 0.01f * x[i] : grads[i];
    const float u = 0.9f * velocity_before[i] + g;
    CHECK(velocity[i] == u);
    CHECK(values[i] == x[i] - 0.1f * (g + 0.9f * u));
  }
}
