// SPDX-License-Identifier: Apache-2.0
// Fine-grained quantization: tile shapes on ragged sizes, error bounds from the formats'
// precision, power-of-two scales that never saturate, and dequantization round trips.
#include "kernels/quant/fine_grained.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

using namespace cobench;
using namespace cobench::quant;

std::vector<float> random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = normal(rng) * std::exp2(static_cast<float>(rng() % 16) - 8.0f);
  return x;
}

TEST(Quant, TileShapesOnRaggedSizes) {
  const auto x = random_matrix(130, 200, 1);
  const QuantizedMatrix tok =
      quantize_per_token(x.data(), 130, 200, num::Fp8Format::kE4M3, ScaleKind::kFp32);
  EXPECT_EQ(tok.scales.size(), 130u * 2);  // ceil(200 / 128) tiles a row
  const QuantizedMatrix blk =
      quantize_per_block(x.data(), 130, 200, num::Fp8Format::kE4M3, ScaleKind::kFp32);
  EXPECT_EQ(blk.scales.size(), 2u * 2);
  EXPECT_EQ(blk.scale_at(129, 199), blk.scales[3]);
}

TEST(Quant, Fp32ScalesMeetTheFormatsPrecision) {
  const auto x = random_matrix(64, 384, 2);
  for (auto format : {num::Fp8Format::kE4M3, num::Fp8Format::kE5M2}) {
    const QuantizedMatrix q = quantize_per_token(x.data(), 64, 384, format, ScaleKind::kFp32);
    const std::vector<float> dq = dequantize(q);
    // Round to nearest: at most half a unit in the last place, 2^-4 (E4M3) or 2^-3 (E5M2)
    // relative, for values in the normal range of the tile (within 2^6 of its maximum for
    // E4M3, 2^14 for E5M2).
    const double bound = format == num::Fp8Format::kE4M3 ? 1.0 / 16 : 1.0 / 8;
    const float normal_range = format == num::Fp8Format::kE4M3 ? 64.0f : 16384.0f;
    for (std::int64_t r = 0; r < 64; ++r) {
      for (std::int64_t c = 0; c < 384; ++c) {
        const float v = x[static_cast<size_t>(r * 384 + c)];
        const float scale = q.scale_at(r, c);
        if (std::fabs(v) / scale <
            (format == num::Fp8Format::kE4M3 ? 448.0f : 57344.0f) / normal_range)
          continue;
        EXPECT_LE(std::fabs(dq[static_cast<size_t>(r * 384 + c)] - v),
                  bound * std::fabs(v) * 1.0001)
            << r << "," << c;
      }
    }
    const QuantizationError e = compare(x.data(), dq.data(), 64 * 384);
    EXPECT_LT(e.calc_diff, format == num::Fp8Format::kE4M3 ? 1e-3 : 4e-3);  // DeepGEMM's bound
    EXPECT_GT(e.rel_l2, 0);
  }
}

TEST(Quant, PowerOfTwoScalesNeverSaturate) {
  const auto x = random_matrix(256, 256, 3);
  const QuantizedMatrix q =
      quantize_per_block(x.data(), 256, 256, num::Fp8Format::kE4M3, ScaleKind::kPowerOfTwo);
  for (float s : q.scales) {
    int e = 0;
    EXPECT_EQ(std::frexp(s, &e), 0.5f);  // a power of two
  }
  for (std::int64_t i = 0; i < 256 * 256; ++i) {
    const float scaled = std::fabs(x[static_cast<size_t>(i)]) / q.scale_at(i / 256, i % 256);
    EXPECT_LE(scaled, 448.0f);
  }
  // A power-of-two scale loses at most one bit of range against the FP32 scale.
  const QuantizedMatrix f =
      quantize_per_block(x.data(), 256, 256, num::Fp8Format::kE4M3, ScaleKind::kFp32);
  for (size_t i = 0; i < q.scales.size(); ++i) {
    EXPECT_GE(q.scales[i], f.scales[i]);
    EXPECT_LT(q.scales[i], 2 * f.scales[i]);
  }
}

TEST(Quant, ZeroTileAndExactValuesRoundTrip) {
  std::vector<float> x(128 * 2, 0.0f);
  for (int i = 128; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 192) / 4;
  const QuantizedMatrix q =
      quantize_per_token(x.data(), 2, 128, num::Fp8Format::kE4M3, ScaleKind::kPowerOfTwo);
  EXPECT_EQ(q.scales[0], 1.0f);  // an all-zero tile keeps scale 1
  const std::vector<float> dq = dequantize(q);
  for (int i = 0; i < 128; ++i) EXPECT_EQ(dq[static_cast<size_t>(i)], 0.0f);
  // Row 2 holds k/4 for k in [-64, 63]: amax 16, scale 2^-4 (16/448 rounded up to 2^-4);
  // k/4 / 2^-4 = 4k, exact in E4M3 for |4k| <= 256 when 4k has at most 4 significant bits.
  EXPECT_EQ(q.scales[1], 0.0625f);
  EXPECT_EQ(dq[128 + 64 + 4], 1.0f);     // k = 4
  EXPECT_EQ(dq[128 + 64 - 64], -16.0f);  // k = -64
}

}  // namespace
