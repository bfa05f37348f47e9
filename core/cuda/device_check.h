// SPDX-License-Identifier: Apache-2.0
// Whether a CUDA device can be used here: "" when one can, else the runtime's reason (no driver,
// no device), for GPU tests that skip and GPU benchmarks that say why they measured nothing.
#pragma once

#include <string>

namespace cobench {

/// "" when at least one CUDA device is usable; else "no CUDA device: <the runtime's reason>".
/// Clears the runtime's sticky error state so later calls start clean.
std::string cuda_device_unavailable();

}  // namespace cobench

/// In a GoogleTest body: skips with the reason when no CUDA device is usable.
#define COBENCH_SKIP_WITHOUT_CUDA_DEVICE()                                          \
  do {                                                                              \
    if (const std::string why = ::cobench::cuda_device_unavailable(); !why.empty()) \
      GTEST_SKIP() << why;                                                          \
  } while (0)
