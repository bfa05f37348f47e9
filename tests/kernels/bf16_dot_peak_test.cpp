// SPDX-License-Identifier: Apache-2.0
// The AVX512_BF16 dot-product ceiling: every lane ends at exactly x0 + steps / 8 (checked inside
// measure_bf16_dot_peak), the FLOP it counts are 4 x 12 chains x 16 lanes a step and thread, it
// refuses step counts past exact sums and CPUs without AVX512_BF16, and the FP8 GEMM's kAuto
// follows the measured speedup over the FMA.
#include "kernels/ceilings/bf16_dot_peak.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "kernels/gemm/fp8_gemm.h"

namespace cobench::ceilings {
namespace {

TEST(Bf16DotPeak, LanesEndAtTheClosedForm) {
  if (!bf16_dot_supported()) GTEST_SKIP() << "this CPU has no AVX512_BF16";
  const Bf16DotPeak p = measure_bf16_dot_peak(1 << 12, 2);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.threads, 2);
  EXPECT_NEAR(p.flop_per_s * p.seconds, 4.0 * 12 * 16 * 4096 * 2, 1.0);
  // The largest count: the last lane reaches 192 + 2^22 / 8 = 2^19 + 192, still exact.
  EXPECT_EQ(measure_bf16_dot_peak(std::int64_t{1} << 22, 1).error, "");
  EXPECT_EQ(measure_bf16_dot_peak().error, "");  // the default, which BM_Bf16DotPeak runs
}

TEST(Bf16DotPeak, RefusesStepsPastExactSumsAndCpusWithoutBf16) {
  EXPECT_THROW(measure_bf16_dot_peak(0, 1), Error);
  EXPECT_THROW(measure_bf16_dot_peak((std::int64_t{1} << 22) + 1, 1), Error);
  if (!bf16_dot_supported()) {
    EXPECT_THROW(measure_bf16_dot_peak(16, 1), Error);
    EXPECT_EQ(bf16_dot_speedup(), 0.0);
  }
}

// The GEMM's kAuto takes the BF16 kernel exactly where the CPU has it and the measured speedup
// passes the threshold; the speedup is a ratio of two verified rates, so positive where measured.
TEST(Bf16DotPeak, Fp8GemmAutoFollowsTheSpeedup) {
  const char* kernel = gemm::fp8_gemm_cpu_kernel();
  if (!bf16_dot_supported()) {
    EXPECT_STRNE(kernel, "avx512-bf16");
    return;
  }
  const double speedup = bf16_dot_speedup();
  EXPECT_GT(speedup, 0.0);
  EXPECT_EQ(std::strcmp(kernel, "avx512-bf16") == 0, speedup >= gemm::kBf16MinSpeedup)
      << kernel << " at a measured speedup of " << speedup;
}

}  // namespace
}  // namespace cobench::ceilings
