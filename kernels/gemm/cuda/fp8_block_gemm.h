// SPDX-License-Identifier: Apache-2.0
// cobench's block-scaled FP8 GEMM for sm_90a, DeepSeek-V3's scheme on the tensor cores:
// D [M, N] (FP32, row-major, device) = A [M, K] (per token, 1 x 128) x B [N, K]^T (per block,
// 128 x 128), both E4M3 and K-contiguous ("NT"). Each 128 x 128 output tile is one block of 8
// warps, its 128-wide K blocks in a 4-stage cp.async pipeline in shared memory, fragments
// loaded with ldmatrix; each warp runs mma.sync m16n8k32 E4M3 with FP32 registers as the
// tensor-core accumulator and, every `promote_interval` K elements, adds that partial sum times the
// current A-row scale x B-block scale into a separate FP32 accumulator on the CUDA cores (the
// technical report's promotion, N_C = 128 by default). A promotion interval that is not a multiple
// of 128 still applies each 128-block's scales: at a K-block boundary inside an interval the
// partial sum is rescaled by old scale / new scale. Ragged M and N are bounds-checked; K is padded
// with zero codes to a multiple of 128 (device_fp8.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/gemm/cuda/device_fp8.h"

namespace cobench::gemm::cuda {

struct Fp8GemmOptions {
  int promote_interval = 128;  ///< N_C: a positive multiple of 32; 0 promotes only at the end
};

/// D = A B^T with M = a.rows, N = b.rows (upload both unpadded: upload_fp8(q)).
void fp8_gemm_cuda(const DeviceFp8Matrix& a, const DeviceFp8Matrix& b, float* d,
                   const Fp8GemmOptions& options = {});

/// The output tiles of a grouped GEMM: (expert, first row, end row) per 128-row tile.
struct GroupedTiles {
  DeviceBuffer<int> tiles;  ///< [count, 3]
  int count = 0;
  int experts = 0;        ///< the experts `counts` named; checked against the weights
  std::int64_t rows = 0;  ///< the rows they cover; checked against A
};
GroupedTiles grouped_tiles(const std::vector<std::int64_t>& counts);

/// The MoE grouped GEMM in the contiguous layout (as grouped_fp8_gemm_ref): rows
/// [offset_e, offset_e + counts[e]) of A and D belong to expert e, whose weights are b's e-th.
void grouped_fp8_gemm_cuda(const DeviceFp8Matrix& a, const DeviceFp8Experts& b,
                           const GroupedTiles& tiles, float* d, const Fp8GemmOptions& options = {});

}  // namespace cobench::gemm::cuda
