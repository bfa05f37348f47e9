// SPDX-License-Identifier: Apache-2.0
// cobench's block-scaled FP8 GEMM for sm_90a, DeepSeek-V3's scheme on the tensor cores:
// D [M, N] (FP32, row-major, device) = A [M, K] (per token, 1 x 128) x B [N, K]^T (per block,
// 128 x 128), both E4M3 and K-contiguous ("NT"). Each 128 x 128 output tile is one block of 8
// warps, its 128-wide K blocks in a cp.async pipeline in shared memory. On sm_90a two warpgroups
// run wgmma.mma_async m64n128k32 E4M3 on operands in shared memory; elsewhere (or when asked)
// eight warps run mma.sync m16n8k32 E4M3 on fragments loaded with ldmatrix. Either keeps the
// tensor-core partial sums in FP32 registers and, every `promote_interval` K elements, adds them
// times the current A-row scale x B-block scale into a separate FP32 accumulator on the CUDA
// cores (the technical report's promotion, N_C = 128 by default). A promotion interval that is not
// a multiple of 128 still applies each 128-block's scales: at a K-block boundary inside an interval
// the partial sum is rescaled by old scale / new scale. Ragged M and N are bounds-checked; K is
// padded with zero codes to a multiple of 128 (device_fp8.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/gemm/cuda/device_fp8.h"

namespace cobench::gemm::cuda {

/// Which tile code runs (fp8_gemm_tile_wgmma.cuh, fp8_gemm_tile_mma.cuh).
enum class Fp8GemmKernel {
  kAuto,     ///< WGMMA on sm_90, mma.sync elsewhere
  kWgmma,    ///< warpgroup wgmma.mma_async m64n128k32, operands from shared memory (sm_90a only)
  kMmaSync,  ///< warp-level mma.sync m16n8k32, fragments through ldmatrix (sm_90a and sm_100a)
};

struct Fp8GemmOptions {
  /// N_C: a positive multiple of 32; 0 promotes only at the end. An interval that is not a
  /// multiple of 128 (or 0) carries a partial sum across K blocks, rescaled by the ratio of the
  /// blocks' scales: where that ratio leaves FP32's range (a block of values near FLT_MIN beside
  /// a normal one, scales 2^-126 against 2^0) the partial overflows. That path serves the
  /// accumulator study on normally scaled data; DeepGEMM's 128 never takes it.
  int promote_interval = 128;
  Fp8GemmKernel kernel = Fp8GemmKernel::kAuto;
};

/// The kernel `requested` runs as on the current device (kAuto resolved); throws when kWgmma is
/// asked of a device other than sm_90.
Fp8GemmKernel resolve_fp8_gemm_kernel(Fp8GemmKernel requested);
/// "wgmma m64n128k32", "mma.sync m16n8k32" or "auto".
const char* fp8_gemm_kernel_name(Fp8GemmKernel kernel);

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
