// SPDX-License-Identifier: Apache-2.0
// The dense tensor-core peak a GPU benchmark's fractions divide by. Datasheets quote the peak at
// a tensor clock below the maximum boost clock the runtime reports (H100/H200 SXM: 1979 TFLOPS
// dense FP8 = 132 SMs x 1830 MHz x 8192 FLOP/clk/SM, while the boost clock is 1980 MHz), so the
// known parts come from a table of datasheet figures, and only unknown parts fall back to SMs x
// the maximum clock x the architecture's FLOP per clock (labelled so). Host-only, no CUDA.
#pragma once

#include <string>

namespace cobench::bench {

struct DevicePeak {
  double fp8 = 0, bf16 = 0;  ///< dense FLOP/s; 0 when the architecture is not known here
  std::string how;           ///< where the numbers come from, e.g. "datasheet: H200 SXM ..."
};

/// The dense FP8 and BF16 tensor-core peaks of a device named `name` (cudaDeviceProp::name),
/// of compute capability major `cc_major`, with `sms` SMs and a maximum SM clock of
/// `max_clock_khz`.
DevicePeak tensor_core_peak(const std::string& name, int cc_major, int sms, int max_clock_khz);

}  // namespace cobench::bench
