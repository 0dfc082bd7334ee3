// tests/cuda/cuda_main.cu — the doctest main of the GPU tests: without a GPU it prints "skipped:
// no GPU" and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE), never as a failure.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include <tlcr/cuda/runtime.cuh>

int main(int argc, char** argv) {
  if (!tlcr::cuda::gpu_available()) {
    std::printf("skipped: no GPU\n");
    return 77;
  }
  cudaDeviceProp properties{};
  TLCR_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
  std::printf("GPU: %s (sm_%d%d)\n", properties.name, properties.major, properties.minor);
  doctest::Context context(argc, argv);
  return context.run();
}
