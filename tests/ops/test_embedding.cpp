// Tests for ops/embedding.hpp and autograd/fn/embedding.hpp: lookup picks the right rows, the
// scatter-add sums repeated ids, gradient check in double, thread-count independence, errors for
// bad ids and shapes.
#include "support/testing.hpp"

#include <tlcr/autograd/fn/embedding.hpp>

using namespace tlcr;
using testing::random_normal;
using testing::random_size;

namespace {
std::vector<int32_t> random_ids(int64_t count, int64_t vocab, Rng& rng) {
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.uniform_int(vocab));
  return ids;
}
}  // namespace

TEST_CASE("embedding_forward copies table row ids[n] into out row n") {
  Rng rng(600);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t vocab = random_size(rng, 1, 50), cols = random_size(rng, 1, 20);
    const Shape id_shape{random_size(rng, 1, 4), random_size(rng, 1, 700)};
    const Tensor<float> table = random_normal<float>({vocab, cols}, rng);
    const std::vector<int32_t> ids = random_ids(id_shape.numel(), vocab, rng);
    Tensor<float> out(embedding_output_shape(id_shape, table.shape()));
    CHECK(out.shape() == Shape{id_shape[0], id_shape[1], cols});
    embedding_forward(out, table, ids, id_shape);
    bool all_equal = true;
    for (int64_t n = 0; n < id_shape.numel(); ++n)
      for (int64_t c = 0; c < cols; ++c)
        all_equal = all_equal && out.data()[n * cols + c] == table.data()[ids[n] * cols + c];
    CHECK(all_equal);
  }
}

TEST_CASE("embedding_backward sums the rows of repeated ids and leaves unused rows at zero") {
  const Tensor<double> d_out =
      Tensor<double>::from({2, 2, 2}, {1, 2, 10, 20, 100, 200, 1000, 2000});
  const std::vector<int32_t> ids = {3, 0, 3, 3};
  Tensor<double> d_table({5, 2});
  embedding_backward(d_table, d_out, ids, Shape{2, 2});
  CHECK(d_table.to_vector() == std::vector<double>{10, 20, 0, 0, 0, 0, 1101, 2202, 0, 0});
  embedding_backward(d_table, d_out, ids, Shape{2, 2});  // adds, does not overwrite
  CHECK(d_table[6] == 2202);
}

TEST_CASE("embedding gradient passes gradcheck, with repeated ids") {
  Rng rng(601);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t vocab = random_size(rng, 2, 6), cols = random_size(rng, 1, 4);
    const Shape id_shape{random_size(rng, 1, 3), random_size(rng, 1, 5)};
    auto table = parameter(random_normal<double>({vocab, cols}, rng));
    const std::vector<int32_t> ids = random_ids(id_shape.numel(), vocab, rng);
    INFO("V = ", vocab, ", C = ", cols, ", ids ", id_shape.str());
    TLCR_CHECK_GRADIENTS([&] { return embedding(table, ids, id_shape); }, {table});
  }
  auto table = parameter(random_normal<double>({4, 3}, rng));
  const std::vector<int32_t> flat = {1, 1, 2};
  CHECK(embedding(table, flat).shape() == Shape{3, 3});
  TLCR_CHECK_GRADIENTS([&] { return embedding(table, flat); }, {table});
}

TEST_CASE("embedding keeps its own copy of the ids for backward") {
  auto table = parameter(Tensor<double>::from({3, 1}, {1, 2, 3}));
  std::vector<int32_t> ids = {2, 0};
  auto out = embedding(table, ids, Shape{2});
  ids = {1, 1};  // the caller reuses its buffer before backward
  backward(sum(out));
  CHECK(table.grad().to_vector() == std::vector<double>{1, 0, 1});
}

TEST_CASE("embedding_backward is bitwise the same for 1 and 2 threads") {
  Rng rng(602);
  const int64_t vocab = 37, cols = 96, count = 3000;
  const std::vector<int32_t> ids = random_ids(count, vocab, rng);
  const Tensor<float> d_out = random_normal<float>({count, cols}, rng);
  auto run = [&](int threads) {
    ThreadCountGuard guard(threads);
    Tensor<float> d_table({vocab, cols});
    embedding_backward(d_table, d_out, ids, Shape{count});
    return d_table.to_vector();
  };
  CHECK(run(1) == run(2));
}

TEST_CASE("embedding rejects out-of-range ids and inconsistent shapes") {
  const Tensor<float> table({5, 3});
  Tensor<float> out({2, 3, 3});
  std::vector<int32_t> ids = {0, 1, 2, 3, 4, 7};
  CHECK_THROWS_WITH_AS(
      embedding_forward(out, table, ids, Shape{2, 3}),
      doctest::Contains("embedding: id 7 at position [1, 2] is out of range for a table of 5 rows"),
      Error);
  ids[5] = -1;
  CHECK_THROWS_WITH_AS(embedding_forward(out, table, ids, Shape{2, 3}),
                       doctest::Contains("id -1 at position [1, 2]"), Error);
  ids[5] = 4;
  CHECK_THROWS_WITH_AS(
      embedding_forward(out, table, ids, Shape{2, 2}),
      doctest::Contains("embedding: shape mismatch: out [2, 3, 3] vs ids + [C] [2, 2, 3]"), Error);
  Tensor<float> out_flat({4, 3});
  CHECK_THROWS_WITH_AS(embedding_forward(out_flat, table, ids, Shape{4}),
                       doctest::Contains("embedding: 6 ids do not fill the id shape [4]"), Error);
  CHECK_THROWS_WITH_AS(embedding_output_shape(Shape{2}, Shape{5}),
                       doctest::Contains("embedding: expected a table of rank 2 (V, C), got [5]"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding_output_shape(Shape{1, 2, 3, 4}, Shape{5, 3}),
                       doctest::Contains("leave no room for the embedding axis"), Error);
  auto table_var = parameter(Tensor<double>({5, 3}));
  const std::vector<int32_t> bad = {5};
  CHECK_THROWS_WITH_AS(
      embedding(table_var, bad),
      doctest::Contains("id 5 at position [0] is out of range for a table of 5 rows"), Error);
}
