// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/cuda/device_buffer.h"

#include <cuda_runtime_api.h>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"

namespace cobench::gemm::cuda {

std::string cuda_device_unavailable() { return ::cobench::cuda_device_unavailable(); }

int cuda_compute_capability() {
  int dev = 0, major = 0, minor = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  return 10 * major + minor;
}

}  // namespace cobench::gemm::cuda
