// SPDX-License-Identifier: Apache-2.0
// COBENCH_CUDA_CHECK(call): throws cobench::Error with file:line, the call, the error's name
// (cudaErrorMemoryAllocation) and text. Runtime API only: cobench never links the driver.
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.h"

namespace cobench::detail {
inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw_library_error("CUDA", file, line, call, static_cast<long long>(status),
                      cudaGetErrorName(status), cudaGetErrorString(status));
}
}  // namespace cobench::detail

#define COBENCH_CUDA_CHECK(call) ::cobench::detail::check_cuda((call), #call, __FILE__, __LINE__)
