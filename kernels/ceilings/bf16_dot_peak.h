// SPDX-License-Identifier: Apache-2.0
// The CPU's AVX512_BF16 dot-product ceiling (VDPBF16PS), measured as fma_peak.h measures the FMA:
// every thread runs independent chains of x <- x + a0 b0 + a1 b1 in registers, a = (1, 1) and
// b = (1/16, 1/16) in BF16, so each step adds exactly 1/8 and each lane must end at exactly
// x0 + steps / 8 (distinct small integers x0; VDPBF16PS adds the two products one at a time, each
// sum rounded, and each product stays at least an ulp of the sum: exact). Counting 4 FLOP per lane
// and instruction (two products, two sums). Where VDPBF16PS runs at the FMA's instruction rate (AMD
// Zen 4) it does twice the FMA's FLOP; where at half (Intel Sapphire Rapids), the same: the CPU
// FP8 GEMM picks its kernel by the ratio (kernels/gemm/fp8_gemm.h).
#pragma once

#include <cstdint>
#include <string>

namespace cobench::ceilings {

/// Whether this CPU runs VDPBF16PS on 512-bit vectors (AVX512_BF16 with AVX-512F).
bool bf16_dot_supported();

struct Bf16DotPeak {
  double flop_per_s = 0;  ///< all threads together
  double seconds = 0;     ///< wall time of the pass
  int threads = 0;
  std::string error;  ///< empty when every lane ended at x0 + steps / 8
};

/// One pass of `steps` (1 .. 2^22) steps per chain on `threads` threads (<= 0: every core); a
/// CPU without AVX512_BF16 is an error (cobench::Error).
Bf16DotPeak measure_bf16_dot_peak(std::int64_t steps = std::int64_t{1} << 22, int threads = 0);

/// VDPBF16PS's FLOP rate over the AVX-512 FMA's, one thread each, the best of three short passes
/// of each (about a millisecond in all), measured once a process; 0 where the CPU lacks
/// AVX512_BF16, or where a pass fails its check.
double bf16_dot_speedup();

}  // namespace cobench::ceilings
