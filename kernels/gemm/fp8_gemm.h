// SPDX-License-Identifier: Apache-2.0
// Block-scaled FP8 GEMM in DeepSeek-V3's scheme: D[m, n] = sum_k A[m, k] B[n, k] with A
// quantized per token (1 x 128 tiles, one scale per row and 128 columns) and B per block
// (128 x 128), both K-contiguous ("NT", as DeepGEMM). Shapes need not be multiples of 128.
//   fp8_gemm_ref   FP64 over the dequantized operands: the reference every version meets
//   fp8_gemm_cpu   dequantizes once into packed operands (A for all rows, B one N panel at a
//                  time) and accumulates in FP32 with a register-blocked kernel (AVX-512F or
//                  AVX2+FMA where the CPU has it, portable otherwise), over `threads` threads
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quant/fine_grained.h"

namespace cobench::gemm {

/// D [M, N] in double; `a` is M x K per-token, `b` is N x K per-block.
void fp8_gemm_ref(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, double* d);

/// One output of the reference (to spot-check large products cheaply).
double fp8_gemm_ref_at(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b,
                       std::int64_t m, std::int64_t n);

/// The CPU GEMM's register kernel: kAuto picks the fastest this CPU has; the others force one
/// (for tests and benchmarks), and throw cobench::Error where the CPU lacks it.
enum class CpuKernel {
  kAuto,
  kPortable,    ///< plain C++, anywhere
  kAvx2Fma,     ///< scaled FP32 tiles, 6 x 16 (AVX2 + FMA)
  kAvx512f,     ///< scaled FP32 tiles, 6 x 32 (AVX-512F)
  kAvx512Bf16,  ///< unscaled BF16 codes, VDPBF16PS, 6 x 32 (AVX512_BF16)
};

/// kAuto runs the AVX512_BF16 kernel only where VDPBF16PS does at least this many times the FP32
/// FMA's FLOP (kernels/ceilings/bf16_dot_peak.h): 2 on AMD Zen 4, 1 on Intel Sapphire Rapids,
/// where the FP32 kernel is faster (fp8_gemm_cpu.cpp).
inline constexpr double kBf16MinSpeedup = 1.5;

/// D [M, N] in float; threads <= 0 uses every hardware thread. kAuto picks AVX512_BF16 where the
/// CPU has it and it passes kBf16MinSpeedup, else AVX-512F, else AVX2+FMA, else portable code.
void fp8_gemm_cpu(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                  int threads = 0, CpuKernel which = CpuKernel::kAuto);

/// Which kernel kAuto runs on this CPU: "avx512-bf16", "avx512f", "avx2-fma" or "portable".
const char* fp8_gemm_cpu_kernel();
/// Whether this CPU can run `which` (kAuto and kPortable: always).
bool fp8_gemm_cpu_supports(CpuKernel which);
/// "auto", "portable", "avx2-fma", "avx512f" or "avx512-bf16".
const char* fp8_gemm_cpu_kernel_name(CpuKernel which);

/// fp8_gemm_cpu through a BF16 register kernel (fp8_gemm_cpu_tile.h): what kAvx512Bf16 runs, and
/// how the tests run the same driver with that kernel's portable (SIMDe) build on any CPU; `tail`
/// (optional) runs a row group's last rows where they are fewer than the kernel's.
void fp8_gemm_cpu_bf16(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                       int threads,
                       void (*kernel)(const std::uint16_t*, const std::uint16_t*, const float*,
                                      float, float*),
                       void (*tail)(int, const std::uint16_t*, const std::uint16_t*, const float*,
                                    float, float*) = nullptr);

// The MoE grouped GEMM in the contiguous layout (DeepGEMM's "m-grouped contiguous"): the tokens
// routed to expert e are rows [sum of counts before e, + counts[e]) of A, D has the same rows,
// and B holds one [N, K] weight matrix per expert. Counts may be uneven or zero.

/// Throws cobench::Error unless the shapes agree (counts non-negative and summing to A's rows,
/// same K and N, A per token, every expert per block and in the same FP8 format).
void check_grouped(const quant::QuantizedMatrix& a, const std::vector<quant::QuantizedMatrix>& b,
                   const std::vector<std::int64_t>& counts);
void grouped_fp8_gemm_ref(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, double* d);
/// Every (expert, N panel) is one task for the thread pool (an expert's tokens split further where
/// there are few panels; an expert of at most 192 tokens takes a run of consecutive panels, and
/// prefetches the next one's codes, where there are many); `which` as for fp8_gemm_cpu.
void grouped_fp8_gemm_cpu(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, float* d, int threads = 0,
                          CpuKernel which = CpuKernel::kAuto);

}  // namespace cobench::gemm
