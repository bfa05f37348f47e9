// SPDX-License-Identifier: Apache-2.0
// Runs a kernel compiled for this build's architectures and checks every element it wrote.
// Skips, with the runtime's reason, where there is no CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/cuda/cuda_check.h"
#include "tests/gpu/device_fill.h"

namespace {

TEST(DeviceSmoke, KernelWritesExpectedValues) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    cudaGetLastError();
    GTEST_SKIP() << "no CUDA device: "
                 << (status != cudaSuccess ? cudaGetErrorString(status) : "0 devices");
  }
  constexpr std::size_t kN = 1000003;  // not a multiple of the block size
  int* d = nullptr;
  COBENCH_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&d), kN * sizeof(int)));
  COBENCH_CUDA_CHECK(cudaMemset(d, 0xff, kN * sizeof(int)));
  cobench::test::device_fill(d, kN);
  std::vector<int> h(kN);
  COBENCH_CUDA_CHECK(cudaMemcpy(h.data(), d, kN * sizeof(int), cudaMemcpyDeviceToHost));
  COBENCH_CUDA_CHECK(cudaFree(d));
  for (std::size_t i = 0; i < kN; ++i) ASSERT_EQ(h[i], static_cast<int>(3 * i + 1)) << "at " << i;
}

}  // namespace
