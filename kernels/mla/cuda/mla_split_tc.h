// SPDX-License-Identifier: Apache-2.0
// The tensor-core split kernel of the MLA decode (sm_80 and later; built for sm_90a): scores and
// P V on BF16 mma.sync with FP32 accumulation, 32 heads x 32-token tiles a step, the next tiles
// loading through a 3- or 4-stage cp.async pipeline while one computes. q and P are rounded to BF16
// (FlashMLA takes BF16 queries and rounds P the same way); the FP8 cache's codes enter the MMA
// exactly and its scales multiply FP32 partial sums (scores) or P (output). Writes one partial
// (output, lse) per split in the layout of the combine step (mla_decode_cuda.h). Split boundaries
// are multiples of 32 tokens; the pages must hold a multiple of 32 tokens. C++17 (the CUDA
// translation units include it).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/mla/cuda/mla_decode_cuda.h"

namespace cobench::mla::cuda {

/// Launches the split kernel on `stream`; part_out [batch, splits, heads, 512] and part_lse
/// [batch, splits, heads] in device memory. Throws cobench::Error on a launch failure.
void launch_split_tc(const DeviceMlaCache& c, const float* q, int heads, float scale, int splits,
                     float* part_out, float* part_lse, cudaStream_t stream);

/// Blocks of the split kernel an SM holds at once for a cache in `precision` (the occupancy API,
/// with the kernel's dynamic shared memory).
int split_tc_blocks_per_sm(KvPrecision precision);

}  // namespace cobench::mla::cuda
