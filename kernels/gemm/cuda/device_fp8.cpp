// SPDX-License-Identifier: Apache-2.0
#include "kernels/gemm/cuda/device_fp8.h"

#include <fmt/format.h>

#include <cstring>

#include "core/error.h"

namespace cobench::gemm::cuda {
namespace {

std::int64_t round_up(std::int64_t x, std::int64_t to) { return (x + to - 1) / to * to; }

void check_operand(const quant::QuantizedMatrix& q) {
  COBENCH_CHECK(q.format == num::Fp8Format::kE4M3, "the CUDA GEMMs take E4M3 operands");
  COBENCH_CHECK(
      q.tile_cols == 128 && (q.tile_rows == 1 || q.tile_rows == 128),
      fmt::format("tiles must be 1 x 128 or 128 x 128, not {} x {}", q.tile_rows, q.tile_cols));
}

// Scales [ceil(rows / tile_rows), k_blocks] for `rows` (>= q.rows) rows: padding rows get 1.
std::vector<float> padded_scales(const quant::QuantizedMatrix& q, std::int64_t rows) {
  const std::int64_t kb = q.scale_cols();
  const std::int64_t srows = (rows + q.tile_rows - 1) / q.tile_rows;
  std::vector<float> s(static_cast<size_t>(srows * kb), 1.0f);
  std::memcpy(s.data(), q.scales.data(), q.scales.size() * sizeof(float));
  return s;
}

}  // namespace

std::vector<std::uint8_t> padded_codes(const quant::QuantizedMatrix& q, std::int64_t ld,
                                       std::int64_t rows) {
  std::vector<std::uint8_t> c(static_cast<size_t>(rows * ld), 0);
  for (std::int64_t r = 0; r < q.rows; ++r)
    std::memcpy(c.data() + r * ld, q.codes.data() + r * q.cols, static_cast<size_t>(q.cols));
  return c;
}

DeviceFp8Matrix upload_fp8(const quant::QuantizedMatrix& q, std::int64_t pad_rows_to) {
  check_operand(q);
  DeviceFp8Matrix d;
  d.rows = round_up(q.rows, pad_rows_to);
  d.cols = q.cols;
  d.ld = round_up(q.cols, kPadK);
  d.tile_rows = q.tile_rows;
  d.codes = DeviceBuffer<std::uint8_t>(padded_codes(q, d.ld, d.rows));
  d.scales = DeviceBuffer<float>(padded_scales(q, d.rows));
  return d;
}

DeviceFp8Experts upload_fp8_experts(const std::vector<quant::QuantizedMatrix>& b) {
  COBENCH_CHECK(!b.empty(), "no experts");
  DeviceFp8Experts d;
  d.experts = static_cast<std::int64_t>(b.size());
  d.n = b[0].rows;
  d.cols = b[0].cols;
  d.ld = round_up(d.cols, kPadK);
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
  for (const auto& q : b) {
    check_operand(q);
    COBENCH_CHECK(q.tile_rows == 128 && q.rows == d.n && q.cols == d.cols,
                  "every expert must be N x K per 128 x 128 block, with one N and K");
    const auto c = padded_codes(q, d.ld, q.rows);
    codes.insert(codes.end(), c.begin(), c.end());
    scales.insert(scales.end(), q.scales.begin(), q.scales.end());
  }
  d.codes = DeviceBuffer<std::uint8_t>(codes);
  d.scales = DeviceBuffer<float>(scales);
  return d;
}

}  // namespace cobench::gemm::cuda
