// SPDX-License-Identifier: Apache-2.0
// The CUDA GEMMs' device queries (device_query.h): whether there is a device, and the current
// device's compute capability, cached per thread.
#include "kernels/gemm/cuda/device_query.h"

#include <cuda_runtime_api.h>

#include "core/cuda/cuda_check.h"
#include "core/cuda/device_check.h"

namespace cobench::gemm::cuda {

std::string cuda_device_unavailable() { return ::cobench::cuda_device_unavailable(); }

// Every GEMM call asks (to pick its tile code), inside timed loops: the answer for a device never
// changes, so each thread keeps the last device's.
int cuda_compute_capability() {
  thread_local int cached_dev = -1, cached_cc = 0;
  int dev = 0;
  COBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev != cached_dev) {
    int major = 0, minor = 0;
    COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    COBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    cached_dev = dev;
    cached_cc = 10 * major + minor;
  }
  return cached_cc;
}

}  // namespace cobench::gemm::cuda
