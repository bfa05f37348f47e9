// SPDX-License-Identifier: Apache-2.0
// The AMX tile ceiling: every accumulator ends at exactly 2, 4, 4 and 8 times the rounds (checked
// inside measure_amx_peak), the FLOP it counts are 4 x 16,384 a round and thread, and it refuses
// round counts past exact sums, and CPUs without AMX.
#include "kernels/ceilings/amx_peak.h"

#include <gtest/gtest.h>

#include "core/amx.h"
#include "core/error.h"

namespace cobench::ceilings {
namespace {

TEST(AmxPeak, AccumulatorsEndAtTheClosedForm) {
  if (!amx_bf16_usable()) GTEST_SKIP() << "this CPU or OS has no AMX-BF16";
  const AmxPeak p = measure_amx_peak(1 << 12, 2);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.threads, 2);
  EXPECT_NEAR(p.flop_per_s * p.seconds, 4.0 * 16384 * 4096 * 2, 1.0);
  // The largest count: the last accumulator reaches 8 x 2^21 = 2^24, still exact in FP32.
  EXPECT_EQ(measure_amx_peak(std::int64_t{1} << 21, 1).error, "");
}

TEST(AmxPeak, RefusesRoundsPastExactSumsAndCpusWithoutAmx) {
  EXPECT_THROW(measure_amx_peak(0, 1), Error);
  EXPECT_THROW(measure_amx_peak((std::int64_t{1} << 21) + 1, 1), Error);
  if (!amx_bf16_usable()) {
    EXPECT_THROW(measure_amx_peak(16, 1), Error);
  }
}

}  // namespace
}  // namespace cobench::ceilings
