// SPDX-License-Identifier: Apache-2.0
// The AMX-BF16 tile ceiling for the CPU benchmarks whose kernels run on tiles: BM_AmxPeak
// measures it (kernels/ceilings/amx_peak.h, verified) where amx_bf16_usable(), and
// amx_peak_flop_per_s() hands the best pass to the counters that divide by it.
#pragma once

namespace cobench::bench {

/// Registers "BM_AmxPeak/threads:<cores>" where the CPU and OS run AMX-BF16 (run it before the
/// benchmarks that divide by it); nothing elsewhere.
void register_amx_peak_benchmark();

/// FLOP/s: the best BM_AmxPeak pass of this run, or a fresh measurement (best of 5 passes); 0
/// where AMX-BF16 cannot run.
double amx_peak_flop_per_s();

}  // namespace cobench::bench
