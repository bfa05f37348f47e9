// SPDX-License-Identifier: Apache-2.0
// The PTX instructions cobench's CUDA kernels share, one inline function each (C++17, device
// code only). Each compiles to a trap on architectures without the instruction.
//   cp_async16          cp.async.cg.shared.global, 16 bytes; `in` false: zero-fill, nothing read
//   cp_async_commit     cp.async.commit_group
//   cp_async_wait<N>    cp.async.wait_group N: at most N of this thread's groups still in flight
//   ldmatrix_x4[_trans] ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16 (PTX ISA, "ldmatrix"):
//                       lanes 8i .. 8i+7 give the row addresses (16 bytes each, 16-byte aligned)
//                       of matrix i; register i of lane (g = lane / 4, t = lane % 4) receives
//                       matrix i's row g, b16 elements 2t and 2t+1 (bytes 4t .. 4t+3), the lower
//                       in the lower half; with .trans, rows 2t and 2t+1 of column g instead
//   mma_m16n8k16_bf16   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, D = A B + D
//   mma_m16n8k32_e4m3   mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32, D = A B + D
// MMA fragments (PTX ISA, "Matrix fragments for mma.m16n8k16 / m16n8k32"), g = lane / 4,
// t = lane % 4, the lower index in the lower bits of a register:
//   m16n8k16 BF16   a0 A[g][2t..2t+1]  a1 A[g+8][2t..]  a2 A[g][2t+8..]  a3 A[g+8][2t+8..]
//                   b0 B[2t..2t+1][g]  b1 B[2t+8..2t+9][g]
//   m16n8k32 E4M3   a0 A[g][4t..4t+3]  a1 A[g+8][4t..]  a2 A[g][16+4t..]  a3 A[g+8][16+4t..]
//                   b0 B[4t..4t+3][g]  b1 B[16+4t..16+4t+3][g]
//   C and D, FP32   c0 D[g][2t]  c1 D[g][2t+1]  c2 D[g+8][2t]  c3 D[g+8][2t+1]
// So ldmatrix_x4 of a 16 x 16 BF16 (or 16 x 32 E4M3) tile, matrices (rows 0-7, first half),
// (rows 8-15, first half), (rows 0-7, second half), (rows 8-15, second half), is exactly a0..a3.
#pragma once

#include <cstdint>

namespace cobench::ptx {

__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool in) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto d = static_cast<std::uint32_t>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src),
               "r"(in ? 16 : 0)
               : "memory");
#else
  (void)dst;
  (void)src;
  (void)in;
  __trap();  // no cp.async before sm_80
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

template <int pending>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(pending) : "memory");
#endif
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], const void* row) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
  const auto a = static_cast<std::uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#else
  (void)r;
  (void)row;
  __trap();  // no ldmatrix before sm_75
#endif
}

__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* row) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
  const auto a = static_cast<std::uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#else
  (void)r;
  (void)row;
  __trap();  // no ldmatrix before sm_75
#endif
}

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4],
                                                  const std::uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  (void)d;
  (void)a;
  (void)b;
  __trap();  // no BF16 tensor cores before sm_80
#endif
}

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

}  // namespace cobench::ptx
