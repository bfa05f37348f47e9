// SPDX-License-Identifier: Apache-2.0
// The CPU's AMX-BF16 tile ceiling, measured: every thread runs `steps` rounds of four tile dot
// products (TDPBF16PS, 16 x 16 FP32 accumulators += 16 x 32 BF16 times 32 x 16 BF16) into four
// independent accumulators, from operands that stay in tile registers (no memory traffic). The
// operands are 1 and 2 against 1/16 and 2/16, so each round adds exactly 2, 4, 4 and 8 to every
// element of the four accumulators: each must end at exactly that times `steps` (below 2^24 for
// steps <= 2^21), so a lost or doubled product fails the check. 2 x 16 x 16 x 32 = 16,384 FLOP a
// product. The CPU MLA benchmark divides the tile work of its AMX kernel by it.
#pragma once

#include <cstdint>
#include <string>

namespace cobench::ceilings {

struct AmxPeak {
  double flop_per_s = 0;  ///< all threads together
  double seconds = 0;     ///< first thread's start to last thread's end (core/pass_clock.h)
  int threads = 0;
  std::string error;  ///< empty when every accumulator ended where it must
};

/// One pass of `steps` (1 .. 2^21) rounds on `threads` threads (<= 0: every core). Throws
/// cobench::Error where amx_bf16_usable() (core/amx.h) is false.
AmxPeak measure_amx_peak(std::int64_t steps = std::int64_t{1} << 21, int threads = 0);

namespace detail {
/// One thread's rounds (amx_peak_tiles.cpp, compiled for AMX): out [4][256], the accumulators.
void amx_peak_rounds(std::int64_t steps, float* out);
}  // namespace detail

}  // namespace cobench::ceilings
