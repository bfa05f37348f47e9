// SPDX-License-Identifier: Apache-2.0
// COBENCH_CUBLAS_CHECK / COBENCH_CUBLASLT_CHECK: throw cobench::Error with file:line, the call
// and cuBLAS's status name and text. Link CUDA::cublas / CUDA::cublasLt respectively.
#pragma once

#include <cublasLt.h>
#include <cublas_api.h>

#include "core/error.h"

namespace cobench::detail {
inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw_library_error("cuBLAS", file, line, call, static_cast<long long>(status),
                      cublasGetStatusName(status), cublasGetStatusString(status));
}
inline void check_cublaslt(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw_library_error("cuBLASLt", file, line, call, static_cast<long long>(status),
                      cublasLtGetStatusName(status), cublasLtGetStatusString(status));
}
}  // namespace cobench::detail

#define COBENCH_CUBLAS_CHECK(call) \
  ::cobench::detail::check_cublas((call), #call, __FILE__, __LINE__)
#define COBENCH_CUBLASLT_CHECK(call) \
  ::cobench::detail::check_cublaslt((call), #call, __FILE__, __LINE__)
