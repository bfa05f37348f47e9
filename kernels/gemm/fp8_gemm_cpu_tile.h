// SPDX-License-Identifier: Apache-2.0
// The shape of the CPU FP8 GEMM's register kernels, shared by the driver (fp8_gemm_cpu.cpp), the
// AVX-512 kernel (fp8_gemm_avx512.inc, compiled natively in fp8_gemm_avx512.cpp) and its test:
// each call adds a[kRows][kBlockK] x bt[kBlockK][cols] into acc[kRows][cols] (a's rows kBlockK
// apart, bt's and acc's rows kTileN apart); cols is the kernel's width (16 or 32). The BF16 kernel
// takes the unscaled codes and the block's scales instead.
#pragma once

#include <cstdint>

namespace cobench::gemm::cpu_tile {

constexpr std::int64_t kTileM = 192, kTileN = 64, kBlockK = 128;
constexpr int kRows = 6;

/// The AVX-512F kernel, 6 x 32 outputs in 12 zmm registers (fp8_gemm_avx512.cpp, built for
/// AVX-512F: call it only where the CPU has it).
void kernel_avx512f(const float* a, const float* bt, float* acc);
constexpr int kAvx512Cols = 32;

/// The AVX512_BF16 kernel (fp8_gemm_avx512bf16.cpp; call it only where the CPU has AVX512_BF16):
/// on unscaled BF16 codes, 6 x 32 outputs, acc[r][j] += row_scale[r] x block_scale x
/// sum_k a16[r][k] b[k][j], with a16's rows kBlockK apart and b16 in VDPBF16PS's pairs,
/// b16[(k / 2) x kTileN x 2 + j x 2 + k % 2] = B^T[k][j] (fp8_gemm_avx512bf16.inc).
void kernel_avx512bf16(const std::uint16_t* a16, const std::uint16_t* b16, const float* row_scale,
                       float block_scale, float* acc);
using Bf16Kernel = void (*)(const std::uint16_t*, const std::uint16_t*, const float*, float,
                            float*);

}  // namespace cobench::gemm::cpu_tile
