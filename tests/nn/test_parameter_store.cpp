// Tests for nn/parameter_store.hpp: parameters are views into one flat value buffer and one flat
// gradient buffer, registration order, zero_grad, the decay mask, initialisers, copies and errors.
#include "support/testing.hpp"

#include <tlcr/nn/parameter_store.hpp>

using namespace tlcr;
using testing::random_normal;

TEST_CASE("parameters are views into the flat value and gradient buffers") {
  ParameterStore<float> store;
  Var<float> w = store.add("w", {2, 3});
  Var<float> b = store.add("b", {3}, ParamGroup::NoDecay);
  Var<float> s = store.add("s", {});  // a rank-0 parameter takes one element
  store.finalize();

  CHECK(store.numel() == 10);
  CHECK(store.values().shape() == Shape{10});
  CHECK(store.grads().shape() == Shape{10});
  CHECK(store.info("w").offset == 0);
  CHECK(store.info("b").offset == 6);
  CHECK(store.info("s").offset == 9);
  CHECK(w.shape() == Shape{2, 3});
  CHECK(s.shape() == Shape{});

  CHECK(w.value().data() == store.values().data());
  CHECK(b.value().data() == store.values().data() + 6);
  CHECK(s.value().data() == store.values().data() + 9);
  CHECK(w.grad().data() == store.grads().data());
  CHECK(b.grad().data() == store.grads().data() + 6);
  CHECK(w.value().shares_storage_with(store.values()));

  // Writes through either side are seen by the other.
  store.values()[7] = 4.5f;
  CHECK(b.value()[1] == 4.5f);
  w.value()[5] = -2.0f;
  CHECK(store.values()[5] == -2.0f);
  CHECK(store.get("w").value().data() == w.value().data());
  store.get("b").value()[0] = 7.0f;  // get() hands out a handle to the same storage
  CHECK(store.values()[6] == 7.0f);
}

TEST_CASE("names come back in registration order, with groups and shapes") {
  ParameterStore<double> store;
  store.add("wte.weight", {5, 4});
  store.add("h.0.ln_1.weight", {4}, ParamGroup::NoDecay);
  store.add("h.0.attn.c_attn.weight", {4, 12});
  store.add("h.0.attn.c_attn.bias", {12}, ParamGroup::NoDecay);
  store.finalize();
  const std::vector<std::string> expected = {"wte.weight", "h.0.ln_1.weight",
                                             "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias"};
  CHECK(store.names() == expected);
  CHECK(store.size() == 4);
  int64_t offset = 0;
  for (const auto& p : store.parameters()) {
    CHECK(p.offset == offset);
    offset += p.numel();
  }
  CHECK(offset == store.numel());
  CHECK(store.info("h.0.ln_1.weight").group == ParamGroup::NoDecay);
  CHECK(store.info("h.0.attn.c_attn.weight").shape == Shape{4, 12});
  CHECK(std::string(param_group_name(store.info("wte.weight").group)) == "decay");
}

TEST_CASE("the decay mask marks exactly the elements of Decay parameters") {
  Rng rng(700);
  ParameterStore<float> store;
  std::vector<ParamGroup> groups;
  for (int i = 0; i < 6; ++i) {
    groups.push_back(rng.uniform() < 0.5 ? ParamGroup::Decay : ParamGroup::NoDecay);
    const char* names[] = {"p0", "p1", "p2", "p3", "p4", "p5"};
    store.add(names[i], {testing::random_size(rng, 1, 4), 3}, groups.back());
  }
  store.finalize();
  const auto& mask = store.decay_mask();
  REQUIRE(static_cast<int64_t>(mask.size()) == store.numel());
  for (int i = 0; i < 6; ++i) {
    const auto& p = store.parameters()[i];
    for (int64_t j = 0; j < p.numel(); ++j)
      CHECK(mask[p.offset + j] == (groups[i] == ParamGroup::Decay ? 1 : 0));
  }
}

TEST_CASE("gradients of a computation land in the flat gradient buffer; zero_grad clears it") {
  Rng rng(701);
  ParameterStore<double> store;
  Var<double> w = store.add("w", {3, 2});
  Var<double> b = store.add("b", {2}, ParamGroup::NoDecay);
  store.finalize();
  store.init_normal("w", 1.0, rng);
  store.init_normal("b", 1.0, rng);

  // loss = Σ (x·w + b), so d/dw[k][j] = Σ_i x[i][k] and d/db[j] = rows of x.
  Tensor<double> x_value = random_normal<double>({4, 3}, rng);
  auto x = constant(x_value);
  backward(sum(add(matmul(x, w), b)));

  for (int64_t k = 0; k < 3; ++k) {
    double column_sum = 0;
    for (int64_t i = 0; i < 4; ++i) column_sum += x_value[i * 3 + k];
    for (int64_t j = 0; j < 2; ++j)
      CHECK(store.grads()[k * 2 + j] == doctest::Approx(column_sum).epsilon(1e-12));
  }
  CHECK(store.grads()[6] == 4.0);
  CHECK(store.grads()[7] == 4.0);

  // A second backward accumulates into the same buffer.
  backward(sum(b));
  CHECK(store.grads()[6] == 5.0);

  store.zero_grad();
  for (double g : store.grads()) CHECK(g == 0.0);
  CHECK(w.grad().data() == store.grads().data());  // still a view after zeroing
  backward(sum(scale(b, 3.0)));
  CHECK(store.grads()[7] == 3.0);
  CHECK(store.grads()[0] == 0.0);
}

TEST_CASE("initialisers fill one parameter and are deterministic in the Rng") {
  auto make = [](uint64_t seed) {
    auto store = std::make_unique<ParameterStore<float>>();
    store->add("a", {50, 40});
    store->add("g", {40}, ParamGroup::NoDecay);
    store->add("z", {7});
    store->finalize();
    store->values().fill(9.0f);
    Rng rng(seed);
    store->init_normal("a", 0.02, rng);
    store->init_ones("g");
    store->init_zeros("z");
    return store;
  };
  auto first = make(3), second = make(3), other = make(4);
  CHECK(first->values().to_vector() == second->values().to_vector());
  CHECK(first->values().to_vector() != other->values().to_vector());

  const Tensor<float>& a = first->get("a").value();
  double sum = 0, sum_sq = 0;
  for (float v : a) sum += v, sum_sq += double(v) * v;
  const double n = double(a.numel());
  CHECK(std::abs(sum / n) < 0.003);  // mean 0 (± 5 standard errors)
  CHECK(std::sqrt(sum_sq / n) == doctest::Approx(0.02).epsilon(0.05));  // std 0.02
  for (float v : first->get("g").value()) CHECK(v == 1.0f);
  for (float v : first->get("z").value()) CHECK(v == 0.0f);
  first->init_constant("z", 2.5f);
  for (float v : first->get("z").value()) CHECK(v == 2.5f);
}

TEST_CASE("values written before finalize() are kept, and the Var handle stays the same") {
  ParameterStore<double> store;
  Var<double> w = store.add("w", {2, 2});
  CHECK(w.shape() == Shape{2, 2});
  store.init_constant("w", 1.25);
  w.value()[3] = -1.0;
  store.finalize();
  CHECK(w.value().data() == store.values().data());
  CHECK(store.values().to_vector() == std::vector<double>{1.25, 1.25, 1.25, -1.0});
  CHECK(w.requires_grad());
}

TEST_CASE("copy_values_from copies every value and checks names and shapes") {
  Rng rng(702);
  auto build = [](ParameterStore<float>& store, Shape b_shape, std::string b_name = "b") {
    store.add("w", {3, 4});
    store.add(b_name, b_shape, ParamGroup::NoDecay);
    store.finalize();
  };
  ParameterStore<float> source, target, wrong_shape, wrong_name, fewer;
  build(source, {4});
  build(target, {4});
  build(wrong_shape, {5});
  build(wrong_name, {4}, "bias");
  fewer.add("w", {3, 4});
  fewer.finalize();
  source.values().copy_from(random_normal<float>({16}, rng));
  const float* target_data = target.values().data();

  target.copy_values_from(source);
  CHECK(target.values().to_vector() == source.values().to_vector());
  CHECK(target.values().data() == target_data);  // copied into place, views unchanged
  CHECK_FALSE(target.values().shares_storage_with(source.values()));

  CHECK_THROWS_WITH_AS(wrong_shape.copy_values_from(source),
                       "ParameterStore::copy_values_from: parameter 'b' has shape [5] but the "
                       "source has [4]",
                       Error);
  CHECK_THROWS_WITH_AS(wrong_name.copy_values_from(source),
                       doctest::Contains("parameter 'bias' is missing from the source"), Error);
  CHECK_THROWS_WITH_AS(fewer.copy_values_from(source),
                       doctest::Contains("source has 2 parameters, destination has 1"), Error);
}

TEST_CASE("duplicate and unknown names, and use before or after finalize, throw with the name") {
  ParameterStore<float> store;
  store.add("h.0.mlp.c_fc.weight", {2, 2});
  CHECK_THROWS_WITH_AS(store.add("h.0.mlp.c_fc.weight", {3}),
                       doctest::Contains("duplicate parameter name 'h.0.mlp.c_fc.weight'"), Error);
  CHECK_THROWS_WITH_AS(store.add("", {3}), doctest::Contains("empty parameter name"), Error);
  CHECK_THROWS_WITH_AS(store.values(),
                       doctest::Contains("ParameterStore::values: call finalize() first"), Error);
  CHECK_THROWS_WITH_AS(store.zero_grad(), doctest::Contains("call finalize() first"), Error);
  store.finalize();
  CHECK_THROWS_WITH_AS(store.get("h.0.mlp.c_fc.bias"),
                       doctest::Contains("unknown parameter name 'h.0.mlp.c_fc.bias'"), Error);
  CHECK_THROWS_WITH_AS(store.init_zeros("nope"), doctest::Contains("unknown parameter name 'nope'"),
                       Error);
  CHECK_THROWS_WITH_AS(store.add("late", {1}),
                       doctest::Contains("cannot register 'late' after finalize()"), Error);
  CHECK_THROWS_WITH_AS(store.finalize(), doctest::Contains("already finalized"), Error);
  CHECK(store.contains("h.0.mlp.c_fc.weight"));
  CHECK_FALSE(store.contains("late"));
}

TEST_CASE("an empty store finalizes to empty buffers") {
  ParameterStore<float> store;
  store.finalize();
  CHECK(store.numel() == 0);
  CHECK(store.values().numel() == 0);
  CHECK(store.decay_mask().empty());
  store.zero_grad();
}
