// SPDX-License-Identifier: Apache-2.0
// The CPU's FP32 fused multiply-add ceiling, measured: every thread runs independent chains of
// x <- x 1 + 1/16 in the widest vector registers the CPU has (AVX-512F 16 lanes, AVX2+FMA 8 lanes,
// else scalar), enough chains to cover the FMA latency on two pipes, in registers only (no
// memory traffic). Every step is exact (small integers plus sixteenths stay below 2^20), so each
// lane must end at exactly x0 + steps / 16; the lanes start from distinct integers, so a lost step
// or a lane mix-up fails the check. The 1 is not a compile-time constant: the FMA stays an FMA.
// Counting 2 FLOP per lane and FMA (the portable path's multiply and add count the same). The
// benchmarks divide attention and GEMM FLOP/s by it.
#pragma once

#include <cstdint>
#include <string>

namespace cobench::ceilings {

enum class FmaIsa { kAuto, kPortable, kAvx2, kAvx512 };

const char* fma_isa_name(FmaIsa isa);
/// The widest FMA path this CPU runs (kAvx512, kAvx2 or kPortable).
FmaIsa best_fma_isa();

struct FmaPeak {
  double flop_per_s = 0;  ///< all threads together
  double seconds = 0;     ///< wall time of the pass: first thread's start to last thread's end
  int threads = 0;
  FmaIsa isa = FmaIsa::kPortable;
  std::string error;  ///< empty when every lane ended at x0 + steps / 16
};

/// One pass of `steps` (1 .. 2^23) FMA steps per chain on `threads` threads (<= 0: every core);
/// kAuto picks best_fma_isa(); an ISA the CPU lacks is an error (cobench::Error).
FmaPeak measure_fma_peak(std::int64_t steps = std::int64_t{1} << 23, int threads = 0,
                         FmaIsa isa = FmaIsa::kAuto);

}  // namespace cobench::ceilings
