// SPDX-License-Identifier: Apache-2.0
// What the two tile codes of the block-scaled FP8 GEMM share (fp8_gemm_tile_mma.cuh,
// fp8_gemm_tile_wgmma.cuh): the operands, the 128 x 128 x 128 block shape and the scale reads.
// D [M, N] = A [M, K] (per token, 1 x 128 scales) x B [N, K]^T (128 x 128 scales), E4M3,
// K-contiguous and zero-padded to a multiple of 128 (device_fp8.h).
#pragma once

#include <cstdint>

namespace cobench::gemm::cuda::tile {

constexpr int kBm = 128, kBn = 128, kBk = 128, kThreads = 256;

struct Operands {
  const std::uint8_t* a;
  const float* sa;  // [rows, k_blocks]
  const std::uint8_t* b;
  const float* sb;  // [ceil(N / 128), k_blocks]
  float* d;
  int n, k_blocks, promote;
  long long ld;  // padded K of both operands, in bytes
};

/// A's scale of `row` in K block `kb`; 1 for rows past the end (their codes are zero).
__device__ __forceinline__ float a_scale(const Operands& p, int row, int m_end, int kb) {
  return row < m_end ? p.sa[static_cast<long long>(row) * p.k_blocks + kb] : 1.0f;
}

/// B's scale of the 128-column block starting at n0 in K block `kb`.
__device__ __forceinline__ float b_scale(const Operands& p, int n0, int kb) {
  return p.sb[(n0 / kBn) * p.k_blocks + kb];
}

/// Global source of 16 bytes of row `row` (chunk `c` of K block `kblk`) and whether it is inside
/// the operand: rows at or beyond `end` read nothing (cp.async source size 0 zero-fills).
__device__ __forceinline__ const std::uint8_t* chunk_source(const std::uint8_t* g, long long ld,
                                                            int row, int end, int kblk, int c,
                                                            bool& in) {
  in = row < end;
  return in ? g + row * ld + kblk * kBk + 16 * c : g;
}

}  // namespace cobench::gemm::cuda::tile
