// SPDX-License-Identifier: Apache-2.0
// Fine-grained quantization: tile shapes on ragged sizes, error bounds from the formats'
// precision, power-of-two scales that never saturate, dequantization round trips, tiles of
// zeros and of subnormals, rejected arguments, and compare()'s metrics.
#include "kernels/quant/fine_grained.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

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

// An all-zero tile keeps scale 1 with an FP32 scale too, and dequantizes to zeros.
TEST(Quant, AllZeroTileFp32) {
  const std::vector<float> x(3 * 130, 0.0f);
  const QuantizedMatrix q =
      quantize(x.data(), 3, 130, 2, 128, num::Fp8Format::kE4M3, ScaleKind::kFp32);
  ASSERT_EQ(q.scales.size(), 4u);
  for (float s : q.scales) EXPECT_EQ(s, 1.0f);
  for (float v : dequantize(q)) EXPECT_EQ(v, 0.0f);
}

// Tiles of float subnormals. Row 0 holds k x 2^-149 for k = c % 8 (0 to 7 units of the smallest
// subnormal): amax / 448 underflowed to a scale of 0, and 0/0 gave NaN. Row 1 holds
// +-(c % 16) x 2^-130 (subnormal: 15 x 2^-130 < 2^-126). Both scales are now FLT_MIN = 2^-126
// (FP32 and UE8M0). Row 0 / 2^-126 = k x 2^-23, below half E4M3's smallest subnormal (2^-10)
// and E5M2's (2^-17): every value becomes 0, an error below 2^-136. Row 1 / 2^-126 = +-j / 16,
// exact in E4M3 (at most 4 significant bits, 2^-4 >= E4M3's smallest normal 2^-6).
TEST(Quant, SubnormalTilesGetScaleFltMinAndNoNan) {
  std::vector<float> x(2 * 128);
  for (int c = 0; c < 128; ++c) {
    x[static_cast<size_t>(c)] = std::ldexp(static_cast<float>(c % 8), -149);
    x[static_cast<size_t>(128 + c)] =
        std::ldexp(static_cast<float>(c % 2 ? -(c % 16) : c % 16), -130);
  }
  for (auto format : {num::Fp8Format::kE4M3, num::Fp8Format::kE5M2}) {
    for (auto kind : {ScaleKind::kFp32, ScaleKind::kPowerOfTwo}) {
      const QuantizedMatrix q = quantize_per_token(x.data(), 2, 128, format, kind);
      EXPECT_EQ(q.scales[0], FLT_MIN);
      EXPECT_EQ(q.scales[1], FLT_MIN);
      const std::vector<float> dq = dequantize(q);
      // Half the smallest subnormal step times FLT_MIN, plus round to nearest's relative half
      // unit (2^-4 for E4M3, 2^-3 for E5M2) above it.
      const bool e4m3 = format == num::Fp8Format::kE4M3;
      const double floor_abs = std::ldexp(1.0, e4m3 ? -136 : -143);
      const double rel = e4m3 ? 1.0 / 16 : 1.0 / 8;
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_FALSE(std::isnan(dq[i])) << i;
        EXPECT_LE(std::fabs(double(dq[i]) - x[i]), rel * std::fabs(double(x[i])) + floor_abs) << i;
        if (i < 128) {
          EXPECT_EQ(dq[i], 0.0f) << i;
        } else if (e4m3) {
          EXPECT_EQ(dq[i], x[i]) << i;
        }
      }
    }
  }
}

// Runs `quantize` on `x` and expects an Error whose message contains `what`.
void expect_rejected(const std::vector<float>& x, std::int64_t rows, std::int64_t cols,
                     std::int64_t tile_rows, std::int64_t tile_cols, const std::string& what) {
  try {
    quantize(x.data(), rows, cols, tile_rows, tile_cols, num::Fp8Format::kE4M3, ScaleKind::kFp32);
    ADD_FAILURE() << "accepted: " << what;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Quant, RejectsBadTilesAndNonFiniteValues) {
  std::vector<float> x(2 * 128, 1.0f);
  expect_rejected(x, 2, 128, 0, 128, "tile_rows 0, tile_cols 128: expected positive tile sizes");
  expect_rejected(x, 2, 128, 1, -128, "tile_rows 1, tile_cols -128");
  expect_rejected(x, -2, 128, 1, 128, "rows -2, cols 128: expected sizes >= 0");
  x[128 + 5] = std::numeric_limits<float>::infinity();
  expect_rejected(x, 2, 128, 1, 128, "x[1, 5] is inf: quantize needs finite values");
  x[128 + 5] = -std::numeric_limits<float>::infinity();
  expect_rejected(x, 2, 128, 1, 128, "x[1, 5] is -inf");
  x[128 + 5] = 1.0f;
  x[3] = std::numeric_limits<float>::quiet_NaN();
  expect_rejected(x, 2, 128, 128, 128, "x[0, 3] is nan");
}

// compare() on four values worked by hand: x = (1, 2, 0, -4), y = (1, 2.5, 0, -4).
TEST(Quant, CompareMetricsHandWorked) {
  const float x[] = {1.0f, 2.0f, 0.0f, -4.0f}, y[] = {1.0f, 2.5f, 0.0f, -4.0f};
  const QuantizationError e = compare(x, y, 4);
  EXPECT_EQ(e.max_abs, 0.5);
  EXPECT_EQ(e.max_rel, 0.25);                           // 0.5 / 2
  EXPECT_DOUBLE_EQ(e.rel_l2, 0.5 / std::sqrt(21.0));    // sqrt(0.25 / (1 + 4 + 16))
  EXPECT_DOUBLE_EQ(e.calc_diff, 1 - 2 * 22.0 / 44.25);  // 1 - 2 (1 + 5 + 16) / (2 + 10.25 + 32)
  const QuantizationError same = compare(x, x, 4);
  EXPECT_EQ(same.max_abs, 0.0);
  EXPECT_EQ(same.rel_l2, 0.0);
  EXPECT_EQ(same.calc_diff, 0.0);
}

}  // namespace
