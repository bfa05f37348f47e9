// SPDX-License-Identifier: Apache-2.0
#include "core/cuda/device_buffer.h"

#include <cuda_runtime_api.h>

#include "core/cuda/cuda_check.h"

namespace cobench {

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
}  // namespace cobench
