// SPDX-License-Identifier: Apache-2.0
// The combine payload formats (kernels/codec/combine_codecs.h): sizes and error bounds worked
// from the formats' definitions, exact round trips, and the paper's accuracy ordering (section
// 3.2: LogFMT-8 beats E4M3 and E5M2, LogFMT-10 comes close to BF16) on a fixed seed.
#include "kernels/codec/combine_codecs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"

namespace cobench::codec {
namespace {

TEST(CombineCodecs, BytesPerTokenByHand) {
  // Hidden 7168 = 56 tiles of 128.
  EXPECT_EQ(payload_bytes(CombineCodec::kBf16, 7168), 14336);          // 2 B a value
  EXPECT_EQ(payload_bytes(CombineCodec::kE4M3, 7168), 7168 + 56 * 4);  // DeepEP's 7392
  EXPECT_EQ(payload_bytes(CombineCodec::kE5M2, 7168), 7392);
  EXPECT_EQ(payload_bytes(CombineCodec::kE5M6, 7168), 10752 + 224);        // 12 bits a value
  EXPECT_EQ(payload_bytes(CombineCodec::kLogFmt8, 7168), 7168 + 56 * 8);   // min and step
  EXPECT_EQ(payload_bytes(CombineCodec::kLogFmt10, 7168), 8960 + 56 * 8);  // 10 bits a value
  EXPECT_EQ(payload_bytes(CombineCodec::kLogFmt10, 100), 125 + 8);         // one partial tile
}

TEST(CombineCodecs, ErrorBoundsFromTheFormats) {
  EXPECT_EQ(max_tile_error_bound(CombineCodec::kBf16), 1.0 / 256);
  EXPECT_EQ(max_tile_error_bound(CombineCodec::kE4M3), 1.0 / 16);
  EXPECT_EQ(max_tile_error_bound(CombineCodec::kE5M2), 1.0 / 8);
  EXPECT_EQ(max_tile_error_bound(CombineCodec::kE5M6), 1.0 / 128);
  // LogFMT-n: Step <= 32 / (2^(n-1) - 2) binades; half the widest gap, (2^Step - 1) / 2.
  EXPECT_NEAR(max_tile_error_bound(CombineCodec::kLogFmt8), (std::pow(2.0, 32.0 / 126) - 1) / 2,
              1e-15);
  EXPECT_NEAR(max_tile_error_bound(CombineCodec::kLogFmt10), 0.0222256, 1e-7);  // 2^(32/510)
}

TEST(CombineCodecs, ValuesOnEveryGridComeBackExactly) {
  // Powers of two 1 ... 8: on the scaled minifloat grids (scale 2^ceil(log2(8 / max finite)))
  // and on LogFMT's (min 0, max 3 binades: Step 3/126 or 3/510, so 1 and 2 binades are codes
  // 43 and 85, or 171 and 341).
  const std::vector<float> x = {1, -2, 4, 8, 0, -1};
  for (CombineCodec c : kAllCombineCodecs) {
    std::vector<float> y(x.size());
    round_trip(c, x.data(), static_cast<std::int64_t>(x.size()), y.data());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]) << to_string(c) << " " << i;
  }
}

TEST(CombineCodecs, SubnormalTileStaysFinite) {
  // A tile whose largest magnitude is 100 x 2^-149 (a float subnormal): amax / 448 underflows to
  // 0 and 2^ceil(log2 0) would be a zero scale (every value NaN); the scale is held at 2^-149.
  // E4M3 of 100, 37 and 1 (in units of 2^-149): 100 = 1.5625 x 2^6 is a tie between 1.5 and
  // 1.625 -> even, 96; 37 = 1.15625 x 2^5 -> 1.125 x 2^5 = 36; 1 stays 1.
  const auto unit = [](float k) { return k * std::ldexp(1.0f, -149); };
  const std::vector<float> x = {unit(100), -unit(37), 0.0f, unit(1)};
  std::vector<float> y(x.size());
  round_trip(CombineCodec::kE4M3, x.data(), 4, y.data());
  EXPECT_EQ(y, (std::vector<float>{unit(96), -unit(36), 0.0f, unit(1)}));
  for (CombineCodec c : {CombineCodec::kE5M2, CombineCodec::kE5M6}) {
    round_trip(c, x.data(), 4, y.data());
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_LE(std::fabs(y[i] - x[i]), max_tile_error_bound(c) * unit(100)) << to_string(c);
  }
}

TEST(CombineCodecs, EveryTileWithinItsBoundOnEveryPayload) {
  for (CombineCodec c : kAllCombineCodecs)
    for (Payload p : kAllPayloads) {
      const CombineError e = combine_error(c, p, 8, 1024, 8, 7);
      EXPECT_LE(e.partial_max_tile_rel, max_tile_error_bound(c)) << to_string(c) << to_string(p);
      EXPECT_GT(e.partial_rel_l2, 0) << to_string(c) << to_string(p);
      // Round to nearest (in linear space for LogFMT): no systematic shift of the sums.
      EXPECT_LT(std::fabs(e.combined_bias), 1e-3) << to_string(c) << to_string(p);
    }
}

// The paper's ordering (section 3.2), on 32 tokens x top-8 of hidden 2048, seed 2505.
TEST(CombineCodecs, ThePapersOrderingHoldsOnThesePayloads) {
  for (Payload p : kAllPayloads) {
    auto err = [&](CombineCodec c) {
      return combine_error(c, p, 32, 2048, 8, 2505).combined_rel_l2;
    };
    const double bf16 = err(CombineCodec::kBf16), e4m3 = err(CombineCodec::kE4M3),
                 e5m2 = err(CombineCodec::kE5M2), e5m6 = err(CombineCodec::kE5M6),
                 log8 = err(CombineCodec::kLogFmt8), log10 = err(CombineCodec::kLogFmt10);
    EXPECT_LT(log8, e4m3) << to_string(p);  // LogFMT-8 beats both FP8 formats
    EXPECT_LT(e4m3, e5m2) << to_string(p);
    // LogFMT-10 near BF16, below LogFMT-8 and E4M3. With one channel 100x the rest, that
    // channel dominates the sum's norm and is its tile's maximum, which LogFMT encodes exactly
    // (the top code): LogFMT-10 then ties BF16 or beats it (1.61e-3 vs 1.63e-3 here, 2.37e-3
    // vs 1.79e-3 at hidden 7168), so the BF16 comparison is left to the other payloads.
    if (p != Payload::kOutlierChannel) {
      EXPECT_LT(bf16, log10) << to_string(p);
    }
    EXPECT_LT(log10, log8) << to_string(p);
    EXPECT_LT(e5m6, log8) << to_string(p);
  }
}

TEST(CombineCodecs, NamesParseAndUnknownOnesAreRefused) {
  for (CombineCodec c : kAllCombineCodecs) EXPECT_EQ(parse_combine_codec(to_string(c)), c);
  try {
    parse_combine_codec("fp4");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown combine format 'fp4'"), std::string::npos);
  }
  EXPECT_THROW(combine_error(CombineCodec::kBf16, Payload::kGaussian, 0, 128, 8, 1), Error);
}

}  // namespace
}  // namespace cobench::codec
