// SPDX-License-Identifier: Apache-2.0
// Helpers of the GPU GEMM benchmark (gemm_gpu_bench.cpp): the device's dense tensor-core peak and
// synthetic operands (random codes and scales, cached between benchmarks that share a shape).
// Timing is microbench/gpu_bench_common.h's.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/quant/fine_grained.h"

namespace cobench::bench {

struct DevicePeak {
  double fp8 = 0, bf16 = 0;  ///< dense FLOP/s; 0 when the architecture is not known here
  std::string how;           ///< "132 SMs x 1980 MHz x 8192 FP8 FLOP/clk/SM (sm_90)"
};

/// SM count x the SM clock x the dense tensor-core FLOP per clock and SM of the architecture
/// (sm_90: 8192 FP8, 4096 BF16, the H100/H200 datasheets' 1979 / 989 TFLOPS at 1830 MHz; sm_100:
/// twice that).
DevicePeak device_peak();

/// One float of device memory (to check sampled outputs without copying D back).
float read_device(const float* p);

/// Random E4M3 codes (never NaN) with FP32 scales in [1/64, 1/16], tiles tile_rows x 128.
quant::QuantizedMatrix random_fp8(std::int64_t rows, std::int64_t cols, std::int64_t tile_rows,
                                  std::uint64_t seed);

/// A cached random_fp8: the same arguments return the same object until other ones are asked.
const quant::QuantizedMatrix& cached_fp8(int slot, std::int64_t rows, std::int64_t cols,
                                         std::int64_t tile_rows);

}  // namespace cobench::bench
