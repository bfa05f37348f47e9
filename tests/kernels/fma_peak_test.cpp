// SPDX-License-Identifier: Apache-2.0
// The FMA ceiling: each path this CPU runs ends every lane at x0 + steps / 16 (checked inside
// measure_fma_peak against that closed form), reports the FLOP it counted over its time, and
// refuses what it cannot do.
#include "kernels/ceilings/fma_peak.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace cobench::ceilings {
namespace {

TEST(FmaPeak, EveryPathThisCpuRunsEndsAtTheClosedForm) {
  for (FmaIsa isa : {FmaIsa::kPortable, FmaIsa::kAvx2, FmaIsa::kAvx512}) {
    if (isa != FmaIsa::kPortable && static_cast<int>(best_fma_isa()) < static_cast<int>(isa))
      continue;  // the CPU lacks it (tested below as an error)
    const FmaPeak p = measure_fma_peak(1 << 16, 2, isa);
    EXPECT_EQ(p.error, "") << fma_isa_name(isa);
    EXPECT_EQ(p.threads, 2);
    EXPECT_EQ(p.isa, isa);
    // FLOP counted: 2 x steps x 12 chains x lanes x threads, over the pass's seconds.
    const int lanes = isa == FmaIsa::kAvx512 ? 16 : isa == FmaIsa::kAvx2 ? 8 : 1;
    EXPECT_NEAR(p.flop_per_s * p.seconds, 2.0 * 65536 * 12 * lanes * 2, 1.0) << fma_isa_name(isa);
  }
}

TEST(FmaPeak, AutoPicksTheWidestPath) {
  const FmaPeak p = measure_fma_peak(1024, 1);
  EXPECT_EQ(p.isa, best_fma_isa());
  EXPECT_EQ(p.error, "");
}

TEST(FmaPeak, RefusesStepsPastExactArithmeticAndMissingIsas) {
  EXPECT_THROW(measure_fma_peak(0, 1), Error);
  EXPECT_THROW(measure_fma_peak((std::int64_t{1} << 23) + 1, 1), Error);
  if (best_fma_isa() != FmaIsa::kAvx512) {
    EXPECT_THROW(measure_fma_peak(1024, 1, FmaIsa::kAvx512), Error);
  }
}

}  // namespace
}  // namespace cobench::ceilings
