// SPDX-License-Identifier: Apache-2.0
// BF16 (as uint16 codes) to FP32 on the device, for cuBLASLt outputs that can only be BF16.
#pragma once

#include <cstdint>

namespace cobench::gemm::cuda {

/// out[i] = in[i] for i < n, device pointers, on the default stream (asynchronous).
void bf16_to_float_device(const std::uint16_t* in, float* out, std::int64_t n);

}  // namespace cobench::gemm::cuda
