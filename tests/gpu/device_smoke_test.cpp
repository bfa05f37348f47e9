// SPDX-License-Identifier: Apache-2.0
// Runs a kernel compiled for this build's architectures and checks every element it wrote.
// Skips, with the runtime's reason, where there is no CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"
#include "tests/gpu/device_fill.h"

namespace {

TEST(DeviceSmoke, KernelWritesExpectedValues) {
  COBENCH_SKIP_WITHOUT_CUDA_DEVICE();
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
