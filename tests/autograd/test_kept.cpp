// Tests for autograd/kept.hpp: a host span is copied for a backward closure, a device tensor is
// held by handle; kept() gives each back in the form a kernel takes.
#include "support/testing.hpp"

using namespace tlcr;

TEST_CASE("keep copies host spans and holds tensors") {
  std::vector<int32_t> ids{3, 1, 4};
  auto copy = detail::keep(std::span<const int32_t>(ids));
  ids[0] = 9;  // the caller's buffer changes after the call
  const std::span<const int32_t> back = detail::kept(copy);
  CHECK(std::vector<int32_t>(back.begin(), back.end()) == std::vector<int32_t>{3, 1, 4});

  const auto on_device = Tensor<int32_t, SealedCpu>::from({3}, {3, 1, 4});
  reset_transfer_counts<SealedCpu>();
  const Tensor<int32_t, SealedCpu> held = detail::keep(on_device);
  CHECK(held.shares_storage_with(on_device));
  CHECK(&detail::kept(held) == &held);
  CHECK(transfer_counts<SealedCpu>().total() == 0);  // nothing crossed
}

TEST_CASE("embedding's backward uses the ids of the call, not the caller's later buffer") {
  Rng rng(5);
  auto table = parameter(testing::random_normal<double>({4, 2}, rng));
  std::vector<int32_t> ids{2, 2, 0};
  const Var<double> out = embedding(table, std::span<const int32_t>(ids), Shape{3});
  ids = {1, 1, 1};
  backward(sum(out));
  CHECK(table.grad().to_vector() == std::vector<double>{1, 1, 0, 0, 2, 2, 0, 0});
}
