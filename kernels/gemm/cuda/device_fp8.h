// SPDX-License-Identifier: Apache-2.0
// Quantized FP8 operands on the device, as every CUDA GEMM here reads them: codes row-major with
// the row length padded to `ld` = a multiple of 128 bytes (zero codes in the padding, so a ragged
// K needs no bounds checks along K and every row is 16-byte aligned, as cuBLASLt's FP8 kernels
// require) and the scales exactly as quant::QuantizedMatrix holds them ([ceil(rows / tile_rows),
// ceil(cols / 128)] row-major). The grouped form holds one [N, K] weight matrix per expert back
// to back.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/gemm/cuda/device_query.h"
#include "kernels/quant/fine_grained.h"

namespace cobench::gemm::cuda {

constexpr std::int64_t kPadK = 128;

struct DeviceFp8Matrix {
  std::int64_t rows = 0, cols = 0, ld = 0;  ///< ld: padded row length in bytes
  std::int64_t tile_rows = 1;        ///< 1 (per token) or 128 (per block); tiles are 128 wide
  DeviceBuffer<std::uint8_t> codes;  ///< [rows, ld]
  DeviceBuffer<float> scales;        ///< [ceil(rows / tile_rows), ld / 128]
  std::int64_t k_blocks() const { return ld / kPadK; }
};

/// Uploads `q` (E4M3 only; tiles 1 x 128 or 128 x 128), padding rows to `ld` and, with
/// `pad_rows_to` > 1, the row count up to a multiple of it (zero rows; scales of 1).
DeviceFp8Matrix upload_fp8(const quant::QuantizedMatrix& q, std::int64_t pad_rows_to = 1);

/// The codes of `q` padded as above, on the host (for tests and the cuBLASLt paths).
std::vector<std::uint8_t> padded_codes(const quant::QuantizedMatrix& q, std::int64_t ld,
                                       std::int64_t rows);

/// The experts' weights of a grouped GEMM: experts x [N, K] per block, back to back.
struct DeviceFp8Experts {
  std::int64_t experts = 0, n = 0, cols = 0, ld = 0;
  DeviceBuffer<std::uint8_t> codes;  ///< [experts, N, ld]
  DeviceBuffer<float> scales;        ///< [experts, ceil(N / 128), ld / 128]
};

DeviceFp8Experts upload_fp8_experts(const std::vector<quant::QuantizedMatrix>& b);

}  // namespace cobench::gemm::cuda
