// SPDX-License-Identifier: Apache-2.0
// Helpers of the GPU GEMM benchmark (gemm_gpu_bench.cpp): synthetic operands (random codes and
// scales, cached between benchmarks that share a shape). Timing and the device's tensor-core
// peak are microbench/gpu_bench_common.h's.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/quant/fine_grained.h"
#include "microbench/gpu_bench_common.h"

namespace cobench::bench {

/// One float of device memory (to check sampled outputs without copying D back).
float read_device(const float* p);

/// Random E4M3 codes (never NaN) with FP32 scales in [1/64, 1/16], tiles tile_rows x 128.
quant::QuantizedMatrix random_fp8(std::int64_t rows, std::int64_t cols, std::int64_t tile_rows,
                                  std::uint64_t seed);

/// A cached random_fp8: the same arguments return the same object until other ones are asked.
const quant::QuantizedMatrix& cached_fp8(int slot, std::int64_t rows, std::int64_t cols,
                                         std::int64_t tile_rows);

}  // namespace cobench::bench
