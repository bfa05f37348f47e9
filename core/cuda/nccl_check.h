// SPDX-License-Identifier: Apache-2.0
// COBENCH_NCCL_CHECK(call): throws cobench::Error with file:line, the call, the ncclResult_t
// name and NCCL's text. Messages carry the host and rank through cobench::set_error_context.
#pragma once

#include <nccl.h>

#include "core/error.h"

namespace cobench::detail {
const char* nccl_result_name(ncclResult_t result);

inline void check_nccl(ncclResult_t result, const char* call, const char* file, int line) {
  if (result == ncclSuccess || result == ncclInProgress) return;
  throw_library_error("NCCL", file, line, call, static_cast<long long>(result),
                      nccl_result_name(result), ncclGetErrorString(result));
}
}  // namespace cobench::detail

#define COBENCH_NCCL_CHECK(call) ::cobench::detail::check_nccl((call), #call, __FILE__, __LINE__)
