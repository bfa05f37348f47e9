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

namespace detail {

void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  if (bytes > 0) COBENCH_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void device_free(void* p) noexcept {
  if (p) cudaFree(p);  // never throws from a destructor; a failing free leaks at worst
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) COBENCH_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) COBENCH_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void device_zero(void* p, std::size_t bytes) {
  if (bytes > 0) COBENCH_CUDA_CHECK(cudaMemset(p, 0, bytes));
}

void device_synchronize() { COBENCH_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace detail
}  // namespace cobench::gemm::cuda
