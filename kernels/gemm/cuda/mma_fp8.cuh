// SPDX-License-Identifier: Apache-2.0
// One warp-wide FP8 tensor-core MMA, D = A B + C with m16n8k32, A row-major (E4M3), B
// column-major (E4M3), C and D in FP32 registers: PTX mma.sync.aligned.m16n8k32.row.col.f32.
// e4m3.e4m3.f32 (sm_89 and later; compiled only where __CUDA_ARCH__ >= 890, a trap elsewhere).
// Fragments (PTX ISA, "Matrix fragments for mma.m16n8k32", 8-bit types), with g = lane / 4 and
// t = lane % 4:
//   a[0]: A[g][4t .. 4t+3]      a[1]: A[g+8][4t .. 4t+3]
//   a[2]: A[g][16+4t .. +3]     a[3]: A[g+8][16+4t .. +3]      (4 codes per 32-bit register)
//   b[0]: B[k = 4t .. 4t+3][n = g]   b[1]: B[k = 16+4t .. +3][n = g]
//   c[0], c[1]: D[g][2t], D[g][2t+1]   c[2], c[3]: D[g+8][2t], D[g+8][2t+1]
#pragma once

#include <cstdint>

namespace cobench::gemm::cuda {

__device__ __forceinline__ void mma_m16n8k32_e4m3(float (&d)[4], const std::uint32_t (&a)[4],
                                                  const std::uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  (void)d;
  (void)a;
  (void)b;
  __trap();  // no FP8 tensor cores before sm_89
#endif
}

}  // namespace cobench::gemm::cuda
