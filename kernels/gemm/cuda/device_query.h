// SPDX-License-Identifier: Apache-2.0
// Device queries for the CUDA GEMMs, behind a header that needs no CUDA include:
// cuda_device_unavailable() (why there is no device, the runtime's reason, or "") and the compute
// capability; DeviceBuffer<T> (owned device memory, core/cuda/device_buffer.h) is brought into
// this namespace. Failures throw cobench::Error.
#pragma once

#include <string>

#include "core/cuda/device_buffer.h"

namespace cobench::gemm::cuda {

using ::cobench::DeviceBuffer;

/// "" when a CUDA device is usable, else the reason ("no CUDA device: <runtime's text>").
std::string cuda_device_unavailable();

/// The current device's compute capability as 10 x major + minor (90 for an H100 or H200).
int cuda_compute_capability();

}  // namespace cobench::gemm::cuda
