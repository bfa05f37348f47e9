// SPDX-License-Identifier: Apache-2.0
// Whether a CUDA device can be used here: "" when one can, else the runtime's reason (no driver,
// no device), for GPU tests that skip and GPU benchmarks that say why they measured nothing.
#pragma once

#include <string>
#include <string_view>

namespace cobench {

/// "" when at least one CUDA device is usable; else "no CUDA device: <the runtime's reason>".
/// Clears the runtime's sticky error state so later calls start clean.
std::string cuda_device_unavailable();

/// "" when code built for the CMAKE_CUDA_ARCHITECTURES list `built` ("90a,100a" or "90a;100a")
/// runs on a device of compute capability `cc` (90 for 9.0); else why not. An arch-specific entry
/// ("90a") runs on that capability only; a family ("100f") or real one ("89-real") on its major
/// version from its minor up; a plain or virtual one ("89", "89-virtual") carries PTX that the
/// driver compiles for any capability from it up; "native", "all" and "all-major" count as
/// supported (CMake picked them for the machine).
std::string cuda_arch_unsupported(int cc, std::string_view built);

/// cuda_device_unavailable(), else whether the current device runs the architectures this build
/// compiled its kernels for (CMAKE_CUDA_ARCHITECTURES): "" or the reason.
std::string cuda_device_unsupported();

}  // namespace cobench

/// In a GoogleTest body: skips with the reason when no CUDA device is usable, or when the
/// device is not one this build compiled kernels for (e.g. an sm_89 card with a 90a;100a build).
#define COBENCH_SKIP_WITHOUT_CUDA_DEVICE()                                          \
  do {                                                                              \
    if (const std::string why = ::cobench::cuda_device_unsupported(); !why.empty()) \
      GTEST_SKIP() << why;                                                          \
  } while (0)
