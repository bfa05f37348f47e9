// SPDX-License-Identifier: Apache-2.0
// The index maps of the WGMMA tile of the block-scaled FP8 GEMM (fp8_gemm_tile_wgmma.cuh), as
// functions the kernel and a CPU test (tests/gpu/wgmma_layout_test.cpp) both call, so the layout
// is checked in CI without a GPU.
//
// A stage holds 128 rows x 128 K bytes of one operand without swizzling: 16 groups of 8 rows; a
// group holds its 8 core matrices (8 rows x 16 bytes, 128 contiguous bytes) in K order. For
// K-major operands the PTX ISA's canonical layout is ((8,m),(T,2k)):((1T,SBO),(1,LBO)): rows of a
// core matrix 16 bytes apart, groups of 8 rows SBO apart, the two core matrices of a 32-byte
// k-step LBO apart. Here LBO = 128 and SBO = 1024.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace cobench::gemm::cuda::wgmma_layout {

inline constexpr int kCoreBytes = 128;              ///< 8 rows x 16 bytes
inline constexpr int kGroupBytes = 8 * kCoreBytes;  ///< 8 rows x 128 K bytes
inline constexpr int kLeadingBytes = kCoreBytes;    ///< LBO: next core matrix along K
inline constexpr int kStrideBytes = kGroupBytes;    ///< SBO: next 8 rows
inline constexpr int kChunks = 128 * 128 / 16;      ///< 16-byte copies that fill a stage

/// Where row r, K bytes [16c, 16c + 16) of the stage live (bytes from its start).
COBENCH_HD constexpr int stage_offset(int r, int c) {
  return (r / 8) * kGroupBytes + c * kCoreBytes + (r % 8) * 16;
}

/// Copy i of a stage load (0 <= i < kChunks) reads row load_row(i), chunk load_chunk(i) and writes
/// bytes [16i, 16i + 16): consecutive threads write consecutive shared memory.
COBENCH_HD constexpr int load_row(int i) { return (i / 64) * 8 + i % 8; }
COBENCH_HD constexpr int load_chunk(int i) { return (i / 8) % 8; }

/// Start (bytes into the stage) of k-step ks (0..3) of the 64 A rows of warpgroup wg, and of B.
COBENCH_HD constexpr int a_start(int wg, int ks) {
  return wg * 8 * kGroupBytes + 2 * kCoreBytes * ks;
}
COBENCH_HD constexpr int b_start(int ks) { return 2 * kCoreBytes * ks; }

/// Accumulator register j (0..63) of m64n128 of lane `lane` in warp wq (0..3) of its warpgroup:
/// its row (0..63 within the warpgroup's rows) and column (0..127).
COBENCH_HD constexpr int d_row(int wq, int lane, int j) {
  return 16 * wq + lane / 4 + 8 * ((j / 2) % 2);
}
COBENCH_HD constexpr int d_col(int lane, int j) { return 8 * (j / 4) + 2 * (lane % 4) + j % 2; }

/// A WGMMA matrix descriptor (PTX ISA, "Matrix Descriptor Format"): (address & 0x3FFFF) >> 4 in
/// bits 0-13, leading byte offset >> 4 in 16-29, stride byte offset >> 4 in 32-45, swizzle 0.
COBENCH_HD constexpr std::uint64_t descriptor(std::uint32_t smem_address, std::uint32_t lbo,
                                              std::uint32_t sbo) {
  return static_cast<std::uint64_t>((smem_address & 0x3FFFF) >> 4) |
         (static_cast<std::uint64_t>((lbo & 0x3FFFF) >> 4) << 16) |
         (static_cast<std::uint64_t>((sbo & 0x3FFFF) >> 4) << 32);
}

}  // namespace cobench::gemm::cuda::wgmma_layout
