// SPDX-License-Identifier: Apache-2.0
// Warpgroup-wide FP8 WGMMA (sm_90a only; a trap elsewhere), both operands E4M3 and K-major in
// shared memory without swizzling: PTX wgmma.mma_async.sync.aligned.m64nNk32.f32.e4m3.e4m3 with
// matrix descriptors (PTX ISA, "Matrix Descriptor Format": start address >> 4 in bits 0-13,
// leading byte offset >> 4 in 16-29, stride byte offset >> 4 in 32-45, swizzle mode in 62-63,
// 0 = none). Without swizzling an operand is made of "core matrices" of 8 rows x 16 bytes stored
// contiguously (128 bytes); for K-major operands the leading byte offset is the distance between
// the two core matrices a 32-byte k-step spans along K, the stride byte offset the distance
// between consecutive groups of 8 rows (PTX ISA, canonical layout ((8,m),(T,2k)):((1T,SBO),
// (1,LBO))). D's layout per warp w of the warpgroup matches mma.m16n8, repeated every 8 columns:
// thread 32w + 4g + t holds D[16w + g][8i + 2t, 8i + 2t + 1] in d[4i], d[4i + 1] and
// D[16w + g + 8][8i + 2t, 8i + 2t + 1] in d[4i + 2], d[4i + 3].
// Used by the accumulator probe (m64n8k32) and the block-scaled GEMM (m64n128k32).
#pragma once

#include <cstdint>

#include "kernels/gemm/cuda/wgmma_layout.h"

namespace cobench::gemm::cuda {

__device__ __forceinline__ std::uint64_t wgmma_descriptor(const void* smem, std::uint32_t lbo,
                                                          std::uint32_t sbo) {
  return wgmma_layout::descriptor(static_cast<std::uint32_t>(__cvta_generic_to_shared(smem)), lbo,
                                  sbo);
}

__device__ __forceinline__ void wgmma_m64n8k32_e4m3(float (&d)[4], std::uint64_t desc_a,
                                                    std::uint64_t desc_b, bool accumulate) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %6, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n8k32.f32.e4m3.e4m3 "
      "{%0, %1, %2, %3}, %4, %5, p, 1, 1;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "l"(desc_a), "l"(desc_b), "r"(static_cast<int>(accumulate)));
#else
  (void)d;
  (void)desc_a;
  (void)desc_b;
  (void)accumulate;
  __trap();  // WGMMA exists on sm_90a only
#endif
}

/// D [64 x 128] (64 FP32 registers a thread) = A [64 x 32] B [128 x 32]^T (+ D when `accumulate`).
__device__ __forceinline__ void wgmma_m64n128k32_e4m3(float (&d)[64], std::uint64_t desc_a,
                                                      std::uint64_t desc_b, bool accumulate) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
        "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
        "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
        "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),
        "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
        "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]),
        "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]),
        "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(static_cast<int>(accumulate)));
#else
  (void)d;
  (void)desc_a;
  (void)desc_b;
  (void)accumulate;
  __trap();  // WGMMA exists on sm_90a only
#endif
}

/// wgmma.fence: orders this warpgroup's earlier register accesses (accumulators, A fragments)
/// before the WGMMAs that follow. Shared memory written through the generic proxy needs
/// fence_proxy_async_shared() as well.
__device__ __forceinline__ void wgmma_fence() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}

/// Commits the WGMMAs issued so far and waits for all of them.
__device__ __forceinline__ void wgmma_commit_and_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
#endif
}

/// Tells the compiler that `d` may change until here: WGMMA writes its accumulator
/// asynchronously, so reads of `d` must not move above the wait that completes it (CUTLASS's
/// warpgroup_fence_operand).
template <int N>
__device__ __forceinline__ void wgmma_fence_operands(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

/// Makes this thread's generic-proxy shared-memory writes visible to WGMMA (the async proxy).
__device__ __forceinline__ void fence_proxy_async_shared() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

}  // namespace cobench::gemm::cuda
