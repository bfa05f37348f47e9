// SPDX-License-Identifier: Apache-2.0
// The CPU benchmarks' compute ceiling: BM_FmaPeak measures the FP32 FMA peak of every core
// (kernels/ceilings/fma_peak.h, verified), and fma_peak_flop_per_s() hands the best pass to the
// counters that divide by it (measured on first use when the filter left BM_FmaPeak out).
#pragma once

namespace cobench::bench {

/// Registers "BM_FmaPeak/threads:<cores>" (run it first: it sets the denominator).
void register_fma_peak_benchmark();

/// FLOP/s: the best BM_FmaPeak pass of this run, or a fresh measurement (best of 5 passes); 0
/// where only the portable scalar loop runs (no AVX2/AVX-512 path: e.g. aarch64), which is no
/// peak to divide by.
double fma_peak_flop_per_s();

/// "avx2+fma, 2 threads" of the pass fma_peak_flop_per_s() reports.
const char* fma_peak_description();

}  // namespace cobench::bench
