// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/cuda_check.h"
#include "tests/gpu/device_fill.h"

namespace cobench::test {
namespace {
__global__ void fill_kernel(int* out, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = static_cast<int>(3 * i + 1);
}
}  // namespace

void device_fill(int* out_device, std::size_t n) {
  constexpr unsigned kBlock = 256;
  const unsigned blocks = static_cast<unsigned>((n + kBlock - 1) / kBlock);
  fill_kernel<<<blocks, kBlock>>>(out_device, n);
  COBENCH_CUDA_CHECK(cudaGetLastError());
  COBENCH_CUDA_CHECK(cudaDeviceSynchronize());
}
}  // namespace cobench::test
