// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/device_check.h"

#include <cuda_runtime_api.h>

namespace cobench {

std::string cuda_device_unavailable() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no CUDA device: ") + cudaGetErrorString(status);
  }
  return count == 0 ? "no CUDA device: 0 devices" : "";
}

}  // namespace cobench
