// GPU tests of cuda/memory.cuh through Tensor<T, Cuda>: uploads and downloads round-trip, zeroing,
// filling, clones, views and copies stay on the device, transfers are counted, and a repeated
// step's allocations come from the pool (its reserved memory stops growing), and the peak-memory
// counter (cuda::peak_memory_bytes) sees the most held at once.
#include "cuda_testing.cuh"

using namespace tlcr;
using namespace tlcr::cuda_testing;

TEST_CASE("Tensor<T, Cuda>: values round-trip through the device, views and copies stay there") {
  Rng rng(1205);
  for (const Shape shape : {Shape{1}, Shape{7, 13}, Shape{3, 5, 11}, Shape{(1 << 20) + 3}}) {
    CAPTURE(shape.str());
    const Tensor<float> host = random_normal<float>(shape, rng);
    reset_transfer_counts<Cuda>();
    const Tensor<float, Cuda> device = on_gpu(host);
    CHECK(transfer_counts<Cuda>().to_device == 1);
    CHECK(same_bits(device, host));
    CHECK(transfer_counts<Cuda>().to_host == 1);

    Tensor<float, Cuda> copy = device.clone();
    copy.fill(2.5f);
    CHECK(same_bits(device, host));  // the clone owns its memory
    const std::vector<float> filled = copy.to_vector();
    CHECK(std::all_of(filled.begin(), filled.end(), [](float v) { return v == 2.5f; }));
    copy.copy_from(device);
    CHECK(same_bits(copy, host));

    const Tensor<float, Cuda> zeros(shape);
    const std::vector<float> zero_values = zeros.to_vector();
    CHECK(std::all_of(zero_values.begin(), zero_values.end(), [](float v) { return v == 0.0f; }));
    if (shape.dims[0] > 1) {  // a leading-axis view reads the right rows
      const Tensor<float, Cuda> rows = device.slice(1, shape.dims[0]);
      CHECK(same_bits(rows, host.slice(1, shape.dims[0]).clone()));
    }
  }
  const Tensor<double, Cuda> one = on_gpu(Tensor<double>::full(Shape{1}, -3.25));
  CHECK(one.item() == -3.25);
}

TEST_CASE("a repeated step's allocations come from the pool: reserved memory stops growing") {
  auto step = [] {
    for (int i = 0; i < 20; ++i) {
      Tensor<float, Cuda> a(Shape{256, 1024}), b = Tensor<float, Cuda>::full(Shape{4096}, 1.0f);
      a.fill(float(i));
    }
    cuda::synchronize();
  };
  step();  // warm-up fills the pool
  int device = 0;
  TLCR_CUDA_CHECK(cudaGetDevice(&device));
  cudaMemPool_t pool = nullptr;
  TLCR_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  uint64_t reserved_before = 0, reserved_after = 0;
  TLCR_CUDA_CHECK(
      cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved_before));
  for (int repeat = 0; repeat < 5; ++repeat) step();
  TLCR_CUDA_CHECK(
      cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved_after));
  CHECK(reserved_before > 0);
  CHECK(reserved_after == reserved_before);
}

TEST_CASE("an impossible allocation names the shape and the device") {
  using GpuTensor = Tensor<float, Cuda>;
  CHECK_THROWS_WITH_AS(GpuTensor(Shape{int64_t(1) << 40, 1024}), doctest::Contains("on cuda"),
                       Error);
}

TEST_CASE("the peak-memory counter sees the most bytes held at once, and resets") {
  cuda::synchronize();
  cuda::reset_peak_memory();
  const uint64_t base = cuda::peak_memory_bytes();  // whatever other live tensors hold
  {
    Tensor<float, Cuda> a(Shape{1 << 20}), b(Shape{1 << 20});  // 8 MiB at once
    cuda::synchronize();
  }
  {
    Tensor<float, Cuda> c(Shape{1 << 20});  // 4 MiB: lower than the peak
    cuda::synchronize();
  }
  const uint64_t peak = cuda::peak_memory_bytes();
  CHECK(peak >= base + (8u << 20));
  CHECK(peak < base + (12u << 20));
  cuda::reset_peak_memory();
  CHECK(cuda::peak_memory_bytes() < peak);
}
