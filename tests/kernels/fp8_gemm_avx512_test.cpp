// SPDX-License-Identifier: Apache-2.0
// The CPU FP8 GEMM's AVX-512F register kernel on every CPU: fp8_gemm_avx512.inc compiled here
// without -mavx512f runs SIMDe's portable code for the same source, checked against an FP64 sum;
// where the CPU has AVX-512F, the native build of the kernel (the one fp8_gemm_cpu dispatches to)
// is checked the same way.
#include <simde/x86/avx512.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/random.h"
#include "kernels/gemm/fp8_gemm.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

#include "kernels/gemm/fp8_gemm_avx512.inc"

namespace {

using namespace cobench;
using namespace cobench::gemm::cpu_tile;

using KernelFn = void (*)(const float*, const float*, float*);

// Runs `kernel` on one register block (6 rows x 32 of a 64-wide tile, at column offset `col`)
// and checks every output against acc + sum_k a b in FP64 within FP32 accumulation's bound
// (kBlockK + 1 roundings of at most 2^-24 relative each, on the magnitudes), and that the other
// columns of the tile are untouched.
void check_kernel(KernelFn kernel, std::int64_t col) {
  const auto a = random_normal_matrix(kRows, kBlockK, 7);
  const auto bt = random_normal_matrix(kBlockK, kTileN, 8);
  const auto acc0 = random_normal_matrix(kRows, kTileN, 9);
  std::vector<float> acc = acc0;
  kernel(a.data(), bt.data() + col, acc.data() + col);
  for (int r = 0; r < kRows; ++r)
    for (std::int64_t j = 0; j < kTileN; ++j) {
      const float got = acc[static_cast<size_t>(r * kTileN + j)];
      const double start = acc0[static_cast<size_t>(r * kTileN + j)];
      if (j < col || j >= col + kAvx512Cols) {
        ASSERT_EQ(got, static_cast<float>(start)) << "column " << j << " outside the block";
        continue;
      }
      double want = start, magnitude = std::fabs(start);
      for (std::int64_t k = 0; k < kBlockK; ++k) {
        const double p = double(a[static_cast<size_t>(r * kBlockK + k)]) *
                         bt[static_cast<size_t>(k * kTileN + j)];
        want += p;
        magnitude += std::fabs(p);
      }
      ASSERT_NEAR(got, want, double(kBlockK + 1) * std::ldexp(1.0, -24) * magnitude)
          << "row " << r << ", column " << j;
    }
}

TEST(Fp8GemmAvx512, KernelThroughSimdePortableMeetsFp64) {
  for (std::int64_t col : {0, 32}) check_kernel(fp8_kernel_avx512f_simde, col);
}

TEST(Fp8GemmAvx512, NativeKernelMeetsFp64WhereTheCpuHasAvx512f) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512F";
  for (std::int64_t col : {0, 32}) check_kernel(kernel_avx512f, col);
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), "avx512f");
#else
  GTEST_SKIP() << "not an x86-64 CPU";
#endif
}

TEST(Fp8GemmAvx512, DispatchNamesTheKernelThisCpuRuns) {
#if defined(__x86_64__)
  const char* want = __builtin_cpu_supports("avx512f")                                 ? "avx512f"
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2-fma"
                                                                                       : "portable";
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), want);
#else
  EXPECT_STREQ(gemm::fp8_gemm_cpu_kernel(), "portable");
#endif
}

}  // namespace
