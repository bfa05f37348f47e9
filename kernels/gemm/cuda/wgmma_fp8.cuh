// SPDX-License-Identifier: Apache-2.0
// One warpgroup-wide FP8 WGMMA for the accumulation probe (sm_90a only; a trap elsewhere):
// D [64 x 8] (FP32, 4 registers a thread) = A [64 x 32] B [32 x 8] (+ D when `accumulate`), both
// operands E4M3 and K-major in shared memory without swizzling: PTX wgmma.mma_async.sync.aligned.
// m64n8k32.f32.e4m3.e4m3 with matrix descriptors (PTX ISA, "Matrix Descriptor Format": start
// address >> 4 in bits 0-13, leading byte offset >> 4 in 16-29, stride byte offset >> 4 in 32-45,
// swizzle mode in 62-63, 0 = none). Without swizzling an operand is made of "core matrices" of 8
// rows x 16 bytes stored contiguously (128 bytes). D's layout per warp w matches mma.m16n8:
// thread 32w + 4g + t holds D[16w + g][2t, 2t + 1] and D[16w + g + 8][2t, 2t + 1].
#pragma once

#include <cstdint>

namespace cobench::gemm::cuda {

__device__ __forceinline__ std::uint64_t wgmma_descriptor(const void* smem, std::uint32_t lbo,
                                                          std::uint32_t sbo) {
  const auto addr = static_cast<std::uint32_t>(__cvta_generic_to_shared(smem));
  return static_cast<std::uint64_t>((addr & 0x3FFFF) >> 4) |
         (static_cast<std::uint64_t>((lbo & 0x3FFFF) >> 4) << 16) |
         (static_cast<std::uint64_t>((sbo & 0x3FFFF) >> 4) << 32);
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

/// wgmma.fence, before the first WGMMA that reads registers or shared memory written before.
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

/// Makes this thread's generic-proxy shared-memory writes visible to WGMMA (the async proxy).
__device__ __forceinline__ void fence_proxy_async_shared() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

}  // namespace cobench::gemm::cuda
