// SPDX-License-Identifier: Apache-2.0
// The AVX512_BF16 kernel of the CPU FP8 GEMM, natively: this file alone is built with
// -mavx512f -mavx512bf16 (SIMDe then maps to VDPBF16PS). Only the kernel, raw pointers and plain
// loops (see fp8_gemm_avx512.cpp); fp8_gemm_cpu.cpp calls it only where the CPU has AVX512_BF16.
#include <simde/x86/avx512.h>

#include <cstdint>
#include <cstring>

#include "kernels/gemm/fp8_gemm_cpu_tile.h"

#if !defined(SIMDE_X86_AVX512BF16_NATIVE)
#error "fp8_gemm_avx512bf16.cpp must be built with -mavx512bf16 (kernels/CMakeLists.txt)"
#endif

#include "kernels/gemm/fp8_gemm_avx512bf16.inc"

namespace cobench::gemm::cpu_tile {

void kernel_avx512bf16(const std::uint16_t* a16, const std::uint16_t* b16, const float* row_scale,
                       float block_scale, float* acc) {
  fp8_kernel_avx512bf16_simde(a16, b16, row_scale, block_scale, acc);
}

void kernel_avx512bf16_tail(int rows, const std::uint16_t* a16, const std::uint16_t* b16,
                            const float* row_scale, float block_scale, float* acc) {
  fp8_kernel_avx512bf16_tail_simde(rows, a16, b16, row_scale, block_scale, acc);
}

}  // namespace cobench::gemm::cpu_tile
