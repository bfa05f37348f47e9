// SPDX-License-Identifier: Apache-2.0
// The AVX512_BF16 dot-product ceiling for the CPU benchmarks whose kernels run on VDPBF16PS:
// BM_Bf16DotPeak measures it (kernels/ceilings/bf16_dot_peak.h, verified) where the CPU has
// AVX512_BF16, and bf16_dot_peak_flop_per_s() hands the best pass to the counters that divide by
// it.
#pragma once

namespace cobench::bench {

/// Registers "BM_Bf16DotPeak/threads:<cores>" where the CPU has AVX512_BF16 (run it before the
/// benchmarks that divide by it); nothing elsewhere.
void register_bf16_dot_peak_benchmark();

/// FLOP/s: the best BM_Bf16DotPeak pass of this run, or a fresh measurement (best of 5 passes);
/// 0 where the CPU has no AVX512_BF16.
double bf16_dot_peak_flop_per_s();

}  // namespace cobench::bench
