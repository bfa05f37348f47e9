// SPDX-License-Identifier: Apache-2.0
// The shape of the CPU FP8 GEMM's register kernels, shared by the drivers (fp8_gemm_cpu.cpp), the
// AVX-512 kernels (fp8_gemm_avx512*.inc, compiled natively in fp8_gemm_avx512*.cpp) and their
// test. The FP32 kernels (Fp32Kernel) run over any depth on packed micro-panels; the BF16 kernel
// adds a[kRows][kBlockK] x bt[kBlockK][32] (a's rows kBlockK apart, bt's and acc's rows kTileN
// apart) on the unscaled codes, with the block's scales.
#pragma once

#include <cstdint>

namespace cobench::gemm::cpu_tile {

constexpr std::int64_t kTileM = 192, kTileN = 64, kBlockK = 128;
constexpr int kRows = 6;

/// An FP32 register kernel of mr x nr outputs: c[r][j] (rows ldc floats apart) += a[k][r] x
/// b[k][j] for k = 0 .. kc - 1 in that order, one rounding (FMA) or two per product. `a` is an A
/// micro-panel (the mr rows' values of each k, contiguous), `b` a B micro-panel (nr columns of
/// each k, contiguous, 64-byte aligned).
using Fp32Kernel = void (*)(std::int64_t kc, const float* a, const float* b, float* c,
                            std::int64_t ldc);

/// The AVX-512F kernel, 12 x 32 outputs in 24 zmm registers (fp8_gemm_avx512.cpp, built for
/// AVX-512F: call it only where the CPU has it).
void kernel_avx512f(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc);
constexpr int kAvx512Rows = 12, kAvx512Cols = 32;

/// An FP32 register kernel's first `rows` (1 .. mr) rows alone, the other rows of c untouched, each
/// output the same chain as the whole kernel's: for a micro-panel that holds fewer than mr rows.
using Fp32TailKernel = void (*)(std::int64_t kc, std::int64_t rows, const float* a, const float* b,
                                float* c, std::int64_t ldc);

/// kernel_avx512f's tail (fp8_gemm_avx512.cpp; AVX-512F only).
void kernel_avx512f_tail(std::int64_t kc, std::int64_t rows, const float* a, const float* b,
                         float* c, std::int64_t ldc);

/// The AVX512_BF16 kernel (fp8_gemm_avx512bf16.cpp; call it only where the CPU has AVX512_BF16):
/// on unscaled BF16 codes, 6 x 32 outputs, acc[r][j] += row_scale[r] x block_scale x
/// sum_k a16[r][k] b[k][j], with a16's rows kBlockK apart and b16 in VDPBF16PS's pairs,
/// b16[(k / 2) x kTileN x 2 + j x 2 + k % 2] = B^T[k][j] (fp8_gemm_avx512bf16.inc).
void kernel_avx512bf16(const std::uint16_t* a16, const std::uint16_t* b16, const float* row_scale,
                       float block_scale, float* acc);
using Bf16Kernel = void (*)(const std::uint16_t*, const std::uint16_t*, const float*, float,
                            float*);
/// kernel_avx512bf16's first `rows` (1 .. kRows) rows alone, the rows below untouched, each output
/// the same chain as the whole kernel's: a row group's last rows.
void kernel_avx512bf16_tail(int rows, const std::uint16_t* a16, const std::uint16_t* b16,
                            const float* row_scale, float block_scale, float* acc);
using Bf16TailKernel = void (*)(int, const std::uint16_t*, const std::uint16_t*, const float*,
                                float, float*);

}  // namespace cobench::gemm::cpu_tile
