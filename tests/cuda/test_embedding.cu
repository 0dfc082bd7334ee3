// GPU tests of cuda/embedding.cuh against the CPU kernels: lookups and scatter-adds with repeated
// ids, ids on the host and on the device, a single id, and out-of-range ids reported like the
// CPU's (id, position, vocabulary). Rows are copied and repeated ids add in id order on both sides:
// the same bits. Ids on the device cost one small download (the range check) per call.
#include "cuda_testing.cuh"

#include <tlcr/cuda/embedding.cuh>

using namespace tlcr;
using namespace tlcr::cuda_testing;

TEST_CASE("embedding lookup and scatter-add on the GPU give the CPU's bits") {
  Rng rng(55);
  const int64_t vocab = 37, cols = 129;
  const Tensor<float> table = random_normal<float>(Shape{vocab, cols}, rng);
  const Tensor<float, Cuda> table_gpu = on_gpu(table);
  for (const Shape id_shape : {Shape{1}, Shape{4, 25}, Shape{2, 3, 5}}) {
    CAPTURE(id_shape.str());
    std::vector<int32_t> ids(id_shape.numel());
    for (int32_t& id : ids) id = int32_t(rng.uniform_int(uint64_t(vocab / 3)));  // repeats
    const Shape out_shape = embedding_output_shape(id_shape, table.shape());
    Tensor<float> out(out_shape);
    Tensor<float, Cuda> out_from_span(out_shape), out_from_tensor(out_shape);
    embedding_forward(out, table, std::span<const int32_t>(ids), id_shape);
    embedding_forward(out_from_span, table_gpu, std::span<const int32_t>(ids), id_shape);
    const Tensor<int32_t, Cuda> ids_gpu = Tensor<int32_t, Cuda>::from(id_shape, ids);
    reset_transfer_counts<Cuda>();
    embedding_forward(out_from_tensor, table_gpu, ids_gpu, id_shape);
    CHECK(transfer_counts<Cuda>().to_host == 1);  // the range check's flag
    CHECK(same_bits(out_from_span, out));
    CHECK(same_bits(out_from_tensor, out));

    const Tensor<float> g = random_normal<float>(out_shape, rng);
    Tensor<float> d_table = random_normal<float>(table.shape(), rng);
    Tensor<float, Cuda> d_table_gpu = on_gpu(d_table), d_table_span = on_gpu(d_table);
    embedding_backward(d_table, g, std::span<const int32_t>(ids), id_shape);
    embedding_backward(d_table_gpu, on_gpu(g), ids_gpu, id_shape);
    embedding_backward(d_table_span, on_gpu(g), std::span<const int32_t>(ids), id_shape);
    CHECK(same_bits(d_table_gpu, d_table));
    CHECK(same_bits(d_table_span, d_table));
  }
}

TEST_CASE("an out-of-range id on the device is reported with its position, nothing read") {
  const Tensor<float, Cuda> table(Shape{5, 3});
  std::vector<int32_t> ids{0, 1, 2, 4, 4, 9};
  const Tensor<int32_t, Cuda> ids_gpu = Tensor<int32_t, Cuda>::from(Shape{2, 3}, ids);
  Tensor<float, Cuda> out(Shape{2, 3, 3});
  CHECK_THROWS_WITH_AS(embedding_forward(out, table, ids_gpu, Shape{2, 3}),
                       doctest::Contains("id 9 at position [1, 2] is out of range for a table "
                                         "of 5 rows"),
                       Error);
  ids[1] = -1;
  CHECK_THROWS_WITH_AS(embedding_forward(out, table, std::span<const int32_t>(ids), Shape{2, 3}),
                       doctest::Contains("id -1 at position [0, 1]"), Error);
}
