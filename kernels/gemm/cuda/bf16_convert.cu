// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/cuda_check.h"
#include "kernels/gemm/cuda/bf16_convert.h"

namespace cobench::gemm::cuda {
namespace {
__global__ void bf16_to_float_kernel(const std::uint16_t* in, float* out, std::int64_t n) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = __uint_as_float(static_cast<unsigned>(in[i]) << 16);
}
}  // namespace

void bf16_to_float_device(const std::uint16_t* in, float* out, std::int64_t n) {
  if (n <= 0) return;
  constexpr unsigned kBlock = 256;
  bf16_to_float_kernel<<<static_cast<unsigned>((n + kBlock - 1) / kBlock), kBlock>>>(in, out, n);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cobench::gemm::cuda
