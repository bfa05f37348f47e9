// SPDX-License-Identifier: Apache-2.0
// COBENCH_MPI_CHECK(call): throws cobench::Error with file:line, the call, the MPI error class
// and MPI's error string. Needs MPI (target MPI::MPI_CXX).
#pragma once

#include <mpi.h>

#include <string>

#include "core/error.h"

namespace cobench::detail {
inline void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  // Open MPI aborts MPI_Error_string and MPI_Error_class before MPI_Init: ask only after it.
  char text[MPI_MAX_ERROR_STRING] = "(MPI is not initialized: no error text)";
  int length = static_cast<int>(std::char_traits<char>::length(text));
  int error_class = code;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) {
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
    MPI_Error_class(code, &error_class);
  }
  throw_library_error("MPI", file, line, call, code,
                      "MPI error class " + std::to_string(error_class),
                      std::string_view(text, static_cast<size_t>(length)));
}
}  // namespace cobench::detail

#define COBENCH_MPI_CHECK(call) ::cobench::detail::check_mpi((call), #call, __FILE__, __LINE__)
