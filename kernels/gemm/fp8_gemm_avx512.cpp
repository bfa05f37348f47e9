// SPDX-License-Identifier: Apache-2.0
// The AVX-512F kernel of the CPU FP8 GEMM, natively: this file alone is built with -mavx512f (so
// SIMDe maps to the AVX-512 instructions). It holds only the kernel, raw pointers and plain loops:
// no template of another file is instantiated here with AVX-512 code the linker could pick for a
// CPU without it. fp8_gemm_cpu.cpp calls it only where the CPU has AVX-512F.
#include <simde/x86/avx512.h>

#include <cstdint>

#include "kernels/gemm/fp8_gemm_cpu_tile.h"

#if !defined(SIMDE_X86_AVX512F_NATIVE)
#error "fp8_gemm_avx512.cpp must be built with -mavx512f (kernels/CMakeLists.txt)"
#endif

#include "kernels/gemm/fp8_gemm_avx512.inc"

namespace cobench::gemm::cpu_tile {

void kernel_avx512f(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc) {
  fp8_kernel_avx512f_simde(kc, a, b, c, ldc);
}

void kernel_avx512f_tail(std::int64_t kc, std::int64_t rows, const float* a, const float* b,
                         float* c, std::int64_t ldc) {
  fp8_kernel_avx512f_tail_simde(kc, rows, a, b, c, ldc);
}

}  // namespace cobench::gemm::cpu_tile
