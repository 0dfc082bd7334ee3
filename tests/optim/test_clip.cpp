// Tests for optim/clip.hpp: the global norm against a plain sum, clipping above and not below the
// threshold, bitwise independence of the thread count, and reporting of non-finite gradients.
#include "support/testing.hpp"

#include <cstring>
#include <limits>

#include <tlcr/optim/clip.hpp>

using namespace tlcr;
using testing::random_normal;

namespace {
void build(ParameterStore<float>& store, Rng& rng) {
  store.add("w", {testing::random_size(rng, 3, 30), 7});
  store.add("b", {7}, ParamGroup::NoDecay);
  store.add("h.0.w", {testing::random_size(rng, 3, 30), 5});
  store.finalize();
}
double plain_norm(const Tensor<float>& grads) {
  double sum = 0;
  for (float g : grads) sum += double(g) * double(g);
  return std::sqrt(sum);
}
}  // namespace

TEST_CASE("grad_norm is the Euclidean norm of every gradient together") {
  Rng rng(730);
  ParameterStore<float> store;
  build(store, rng);
  store.grads().copy_from(random_normal<float>({store.numel()}, rng, 2.0));
  CHECK(grad_norm(store) == doctest::Approx(plain_norm(store.grads())).epsilon(1e-12));
  store.zero_grad();
  CHECK(grad_norm(store) == 0.0);
  store.grads()[3] = -3.0f;
  store.grads()[store.numel() - 1] = 4.0f;
  CHECK(grad_norm(store) == 5.0);
}

TEST_CASE("clip_grad_norm scales gradients down to max_norm and returns the norm before") {
  Rng rng(731);
  ParameterStore<float> store;
  build(store, rng);
  store.grads().copy_from(random_normal<float>({store.numel()}, rng));
  const std::vector<float> before = store.grads().to_vector();
  const double norm = plain_norm(store.grads());
  const double max_norm = 0.25 * norm;

  CHECK(clip_grad_norm(store, max_norm) == doctest::Approx(norm).epsilon(1e-12));
  CHECK(grad_norm(store) == doctest::Approx(max_norm).epsilon(1e-6));
  for (int64_t i = 0; i < store.numel(); ++i)  // same direction: every gradient times max/norm
    CHECK(store.grads()[i] == doctest::Approx(before[i] * max_norm / norm).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm leaves gradients alone at or below max_norm") {
  Rng rng(732);
  ParameterStore<float> store;
  build(store, rng);
  store.grads().copy_from(random_normal<float>({store.numel()}, rng));
  const std::vector<float> before = store.grads().to_vector();
  const double norm = grad_norm(store);
  CHECK(clip_grad_norm(store, 2.0 * norm) == norm);
  CHECK(clip_grad_norm(store, norm) == norm);
  CHECK(store.grads().to_vector() == before);  // bitwise
  CHECK_THROWS_WITH_AS(clip_grad_norm(store, 0.0),
                       doctest::Contains("expected a positive finite max_norm, got 0"), Error);
}

TEST_CASE("the norm and the clipped gradients are the same bits for any thread count") {
  auto run = [](int threads) {
    ThreadCountGuard guard(threads);
    Rng rng(733);
    ParameterStore<float> store;
    store.add("big", {300, 1000});  // many fixed-size blocks
    store.add("small", {17}, ParamGroup::NoDecay);
    store.finalize();
    store.grads().copy_from(random_normal<float>({store.numel()}, rng));
    const double norm = clip_grad_norm(store, 1.0);
    return std::make_pair(norm, store.grads().to_vector());
  };
  const auto one = run(1);
  for (int threads : {2, 3}) {
    const auto other = run(threads);
    CHECK(one.first == other.first);
    CHECK(one.second == other.second);
  }
}

TEST_CASE("non-finite gradients are reported with the parameter, element and value") {
  Rng rng(734);
  ParameterStore<float> store;
  build(store, rng);
  store.grads().copy_from(random_normal<float>({store.numel()}, rng));
  CHECK_FALSE(find_non_finite_grad(store).has_value());
  CHECK_NOTHROW(check_finite_grads(store, "step 3"));

  const int64_t b_offset = store.info("b").offset;
  store.grads()[b_offset + 2] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> before = store.grads().to_vector();
  const double norm = clip_grad_norm(store, 1.0);
  CHECK(std::isnan(norm));
  for (int64_t i = 0; i < store.numel(); ++i)  // untouched (NaN compares unequal, so test bits)
    CHECK(std::memcmp(&store.grads().data()[i], &before[i], sizeof(float)) == 0);

  const auto bad = find_non_finite_grad(store);
  REQUIRE(bad.has_value());
  CHECK(bad->parameter == "b");
  CHECK(bad->index == 2);
  CHECK(std::isnan(bad->value));
  CHECK_THROWS_WITH_AS(check_finite_grads(store, "step 3"),
                       doctest::Contains("step 3: non-finite gradient nan in parameter 'b' at "
                                         "element 2"),
                       Error);

  store.grads()[b_offset + 2] = 0.0f;
  const int64_t h_offset = store.info("h.0.w").offset;
  store.grads()[h_offset + 4] = -std::numeric_limits<float>::infinity();
  CHECK(std::isinf(clip_grad_norm(store, 1.0)));
  CHECK_THROWS_WITH_AS(check_finite_grads(store, "update"),
                       doctest::Contains("in parameter 'h.0.w' at element 4"), Error);
}
