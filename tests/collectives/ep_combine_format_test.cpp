// SPDX-License-Identifier: Apache-2.0
// The EP combine formats (--combine-format) without MPI: bytes per token worked by hand, the
// byte layout of hand-worked tiles, encode -> decode equal to the codec library's independent
// round trip (kernels/codec), and the encode -> reduce path of flat and hierarchical combine on a
// fixed seed within the bound ep_bench.cpp derives (and, for LogFMT, within the tighter bound of
// each tile's own grid); a flipped code byte breaks the bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "collectives/ep/ep_bench.h"
#include "collectives/ep/ep_combine_format.h"
#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_token.h"
#include "core/error.h"
#include "kernels/codec/combine_codecs.h"
#include "tests/test_util.h"

namespace cobench::coll::ep {
namespace {

// DeepSeek-V3's hidden 7168 = 56 tiles of 128:
//   bf16      2 x 7168                         = 14336
//   fp8       7168 + 56 x 4 (FP32 scale)       = 7392
//   e5m6      7168 x 12 / 8 + 56 x 4           = 10752 + 224 = 10976
//   logfmt8   56 x (16 x 8 + 8)                = 7616
//   logfmt10  56 x (16 x 10 + 8)               = 9408
TEST(EpCombineFormat, BytesPerTokenWorkedByHand) {
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kBf16, 7168), 14336u);
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kFp8, 7168), 7392u);
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kE5M6, 7168), 10976u);
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kLogFmt8, 7168), 7616u);
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kLogFmt10, 7168), 9408u);
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kBf16, 7168), combine_payload_bytes(7168));
  EpConfig c;
  c.combine_format = CombineFormat::kLogFmt10;
  EXPECT_EQ(CombineRecordLayout(c).bytes(), 8u + 9408u);
  // A partial last tile still carries its metadata: H = 200, LogFMT-10 = 250 + 2 x 8.
  EXPECT_EQ(combine_payload_bytes(CombineFormat::kLogFmt10, 200), 266u);
}

TEST(EpCombineFormat, NamesParseAndABadOneIsAUsageErrorNamingTheOption) {
  for (CombineFormat f : kAllCombineFormats) EXPECT_EQ(parse_combine_format(to_string(f)), f);
  EXPECT_THROW(parse_combine_format("logfmt9"), UsageError);
  const std::string e = test::error_of([] { parse_combine_format("e4m3"); });
  EXPECT_NE(e.find("--combine-format 'e4m3'"), std::string::npos) << e;
  EXPECT_NE(e.find("bf16, fp8, e5m6, logfmt8, logfmt10"), std::string::npos) << e;
}

// FP8: a tile with amax 3: 3 / 448 = 0.0067, the least power of two above is 2^-7. 3 / 2^-7 =
// 384 = 1.5 x 2^8: E4M3 exponent field 8 + 7 = 15, mantissa 100b: code 0x7C; -1 / 2^-7 = -128 =
// 2^7: 0x80 | 14 << 3 = 0xF0; 0 is 0x00.
TEST(EpCombineFormat, Fp8TileWorkedByHand) {
  std::vector<float> v(128, 0.0f);
  v[0] = 3.0f;
  v[1] = -1.0f;
  std::vector<std::byte> p(combine_payload_bytes(CombineFormat::kFp8, 128));
  ASSERT_EQ(p.size(), 132u);
  encode_combine(CombineFormat::kFp8, v.data(), 128, p.data());
  EXPECT_EQ(static_cast<unsigned>(p[0]), 0x7Cu);
  EXPECT_EQ(static_cast<unsigned>(p[1]), 0xF0u);
  EXPECT_EQ(static_cast<unsigned>(p[2]), 0x00u);
  float scale = 0;
  std::memcpy(&scale, p.data() + 128, 4);
  EXPECT_EQ(scale, 0.0078125f);
  std::vector<float> out(128, 1.0f);
  decode_add_combine(CombineFormat::kFp8, p.data(), 128, out.data());
  EXPECT_EQ(out[0], 4.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 1.0f);
}

// LogFMT-10: a tile {1, 256, 0, ...}: min = log2 1 = 0, max = 8, Step = 8 / 510; 1 is code 1,
// 256 the top code 511, 0 code 0. Packed LSB first: bits 0-9 = 0000000001b, bits 10-19 =
// 0111111111b: byte 0 = 0x01, byte 1 = 0x3F << 2 = 0xFC, byte 2 = 0111b = 0x07, then zeros;
// the metadata (1.0f, 8 / 510) at byte 16 x 10 = 160.
TEST(EpCombineFormat, LogFmt10TileWorkedByHand) {
  std::vector<float> v(128, 0.0f);
  v[0] = 1.0f;
  v[1] = 256.0f;
  std::vector<std::byte> p(combine_payload_bytes(CombineFormat::kLogFmt10, 128));
  ASSERT_EQ(p.size(), 168u);
  encode_combine(CombineFormat::kLogFmt10, v.data(), 128, p.data());
  EXPECT_EQ(static_cast<unsigned>(p[0]), 0x01u);
  EXPECT_EQ(static_cast<unsigned>(p[1]), 0xFCu);
  EXPECT_EQ(static_cast<unsigned>(p[2]), 0x07u);
  for (int i = 3; i < 160; ++i) EXPECT_EQ(static_cast<unsigned>(p[i]), 0u) << i;
  float min = 0, step = 0;
  std::memcpy(&min, p.data() + 160, 4);
  std::memcpy(&step, p.data() + 164, 4);
  EXPECT_EQ(min, 1.0f);
  EXPECT_FLOAT_EQ(step, 8.0f / 510);
  std::vector<float> out(128, 0.0f);
  decode_add_combine(CombineFormat::kLogFmt10, p.data(), 128, out.data());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_NEAR(out[1], 256.0f, 256e-6);
  EXPECT_EQ(out[2], 0.0f);
}

// The bounds from each format's definition (ep_combine_format.h): half an ulp, the subnormal
// floor of a power-of-two scaled tile, LogFMT's widest grid.
TEST(EpCombineFormat, ErrorBoundsFromTheFormats) {
  EXPECT_EQ(combine_error_bound(CombineFormat::kBf16).rel, 1.0 / 256);
  EXPECT_EQ(combine_error_bound(CombineFormat::kFp8).rel, 1.0 / 16);
  EXPECT_DOUBLE_EQ(combine_error_bound(CombineFormat::kFp8).amax_rel, 1.0 / 512 / 448);
  EXPECT_EQ(combine_error_bound(CombineFormat::kE5M6).rel, 1.0 / 128);
  EXPECT_DOUBLE_EQ(combine_error_bound(CombineFormat::kE5M6).amax_rel, 1.0 / (1 << 20) / 65024);
  // (2^(32/126) - 1) / 2 = (e^0.17604 - 1) / 2 = 0.09624 and (2^(32/510) - 1) / 2 =
  // (e^0.043492 - 1) / 2 = 0.02223, worked by hand.
  EXPECT_NEAR(combine_error_bound(CombineFormat::kLogFmt8).rel, 0.09624, 5e-5);
  EXPECT_NEAR(combine_error_bound(CombineFormat::kLogFmt10).rel, 0.02223, 5e-5);
  // The codec library states the same per-format numbers (as fractions of a tile's maximum).
  EXPECT_DOUBLE_EQ(combine_error_bound(CombineFormat::kLogFmt10).rel,
                   codec::max_tile_error_bound(codec::CombineCodec::kLogFmt10));
  EXPECT_DOUBLE_EQ(combine_error_bound(CombineFormat::kE5M6).rel,
                   codec::max_tile_error_bound(codec::CombineCodec::kE5M6));
}

codec::CombineCodec codec_of(CombineFormat f) {
  switch (f) {
    case CombineFormat::kBf16:
      return codec::CombineCodec::kBf16;
    case CombineFormat::kFp8:
      return codec::CombineCodec::kE4M3;
    case CombineFormat::kE5M6:
      return codec::CombineCodec::kE5M6;
    case CombineFormat::kLogFmt8:
      return codec::CombineCodec::kLogFmt8;
    case CombineFormat::kLogFmt10:
      return codec::CombineCodec::kLogFmt10;
  }
  return codec::CombineCodec::kBf16;
}

// Packed bytes decode to what the codec library's unpacked round trip gives, value for value, on
// heavy-tailed rows (log-normal magnitudes over ~17 binades) and a partial last tile.
TEST(EpCombineFormat, DecodesAsTheCodecLibraryRoundTrips) {
  const int h = 7168 + 72;
  const std::vector<float> rows = codec::payload_rows(codec::Payload::kLogNormal, 3, h, 7);
  for (CombineFormat f : kAllCombineFormats)
    for (int r = 0; r < 3; ++r) {
      const float* x = rows.data() + static_cast<std::size_t>(r) * h;
      std::vector<std::byte> p(combine_payload_bytes(f, h));
      encode_combine(f, x, h, p.data());
      std::vector<float> got(static_cast<std::size_t>(h), 0.0f), want(got.size());
      decode_add_combine(f, p.data(), h, got.data());
      codec::round_trip(codec_of(f), x, h, want.data());
      for (int i = 0; i < h; ++i)
        ASSERT_EQ(got[i], want[i]) << to_string(f) << " row " << r << " " << i;
    }
}

// One token of the EP benchmark (dispatch-quantized x~ at H = 1024) through a combine of four
// partials with factors f_p (sum R): flat = the partials encoded once and summed in FP32;
// hierarchical = two node sums of two partials, each encoded again. Every value within
// combine_error_bound (1 and 2 encodings); LogFMT flat also within its tile's own grid: Step =
// log2(max / min of the tile's nonzero |x~|) / (2^(n-1) - 2), (2^Step - 1) / 2 of |v| per partial.
TEST(EpCombineFormat, EncodeReduceWithinTheBoundOnAFixedSeed) {
  EpConfig c;
  c.hidden = 1024;
  c.seed = 21;
  const auto h = static_cast<std::size_t>(c.hidden);
  std::vector<float> x(h);
  {
    std::vector<float> raw(h);
    std::vector<std::byte> q(dispatch_payload_bytes(c.hidden));
    token_values(c, 1, 3, raw.data());
    quantize_payload(raw.data(), c.hidden, q.data());
    dequantize_payload(q.data(), c.hidden, x.data());
  }
  const double f[4] = {0.3 * 1.25, 0.2 * 1.5, 0.4 * 1.0, 0.1 * 1.75};
  const double routed = f[0] + f[1] + f[2] + f[3];
  std::vector<double> amax(h / 128, 0), amin(h / 128, 0);
  for (std::size_t k = 0; k < h; ++k) {
    const double a = std::fabs(x[k]);
    amax[k / 128] = std::max(amax[k / 128], a);
    if (a > 0 && (amin[k / 128] == 0 || a < amin[k / 128])) amin[k / 128] = a;
  }
  double bf16_worst = 0, logfmt10_worst = 0, logfmt8_worst = 0;
  for (CombineFormat fmt : kAllCombineFormats) {
    const CombineErrorBound b = combine_error_bound(fmt);
    std::vector<std::byte> p(combine_payload_bytes(fmt, c.hidden));
    std::vector<float> partial(h), flat(h, 0.0f), node[2], hier(h, 0.0f);
    node[0].assign(h, 0.0f);
    node[1].assign(h, 0.0f);
    for (int j = 0; j < 4; ++j) {
      for (std::size_t k = 0; k < h; ++k) partial[k] = static_cast<float>(f[j] * x[k]);
      encode_combine(fmt, partial.data(), c.hidden, p.data());
      decode_add_combine(fmt, p.data(), c.hidden, flat.data());
      decode_add_combine(fmt, p.data(), c.hidden, node[j / 2].data());
    }
    for (auto& n : node) {
      encode_combine(fmt, n.data(), c.hidden, p.data());
      decode_add_combine(fmt, p.data(), c.hidden, hier.data());
    }
    const int bits = fmt == CombineFormat::kLogFmt8 ? 8 : fmt == CombineFormat::kLogFmt10 ? 10 : 0;
    double worst = 0;
    for (std::size_t k = 0; k < h; ++k) {
      const double a = std::fabs(x[k]), want = routed * x[k];
      const double e1 = std::fabs(flat[k] - want), e2 = std::fabs(hier[k] - want);
      EXPECT_LE(e1, combine_error_bound(b, 1, a, amax[k / 128], routed)) << to_string(fmt) << k;
      EXPECT_LE(e2, combine_error_bound(b, 2, a, amax[k / 128], routed)) << to_string(fmt) << k;
      if (a > 0) worst = std::max(worst, e1 / (a * routed));
      if (bits != 0 && a > 0) {
        const double step = std::log2(amax[k / 128] / amin[k / 128]) / ((1 << (bits - 1)) - 2);
        // Plus 2e-6 of |v|: the partials' float rounding, FP32 sums and exp2f in decoding.
        EXPECT_LE(e1, ((std::exp2(step) - 1) / 2 + 2e-6) * a * routed) << to_string(fmt) << k;
      }
    }
    if (fmt == CombineFormat::kBf16) bf16_worst = worst;
    if (fmt == CombineFormat::kLogFmt10) logfmt10_worst = worst;
    if (fmt == CombineFormat::kLogFmt8) logfmt8_worst = worst;
  }
  // More bits, smaller errors; BF16 rounds, so its worst is above a quarter of its half ulp.
  EXPECT_GT(bf16_worst, 1.0 / 1024);
  EXPECT_LT(bf16_worst, logfmt10_worst);
  EXPECT_LT(logfmt10_worst, logfmt8_worst);
}

// A flipped bit in a code byte moves the decoded value out of the bound: for each format, bit 6
// of the byte holding value 0's low bits (BF16: its high byte, the exponent).
TEST(EpCombineFormat, AFlippedCodeByteLeavesTheBound) {
  std::vector<float> v(256);
  for (int i = 0; i < 256; ++i)
    v[i] = std::sin(0.37f * static_cast<float>(i) + 1.0f);  // |v_0| = sin 1 = 0.84
  for (CombineFormat fmt : kAllCombineFormats) {
    std::vector<std::byte> p(combine_payload_bytes(fmt, 256));
    encode_combine(fmt, v.data(), 256, p.data());
    p[fmt == CombineFormat::kBf16 ? 1 : 0] ^= std::byte{0x40};
    std::vector<float> out(256, 0.0f);
    decode_add_combine(fmt, p.data(), 256, out.data());
    double amax = 0;
    for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(static_cast<double>(v[i])));
    const double bound = combine_error_bound(combine_error_bound(fmt), 1, std::fabs(v[0]), amax, 1);
    EXPECT_GT(std::fabs(out[0] - v[0]), bound) << to_string(fmt);
  }
}

// A corrupted input (an infinity, as a flipped dispatch scale gives) is not thrown: its tile
// decodes to NaN in every format but BF16 (which carries the infinity), the other tile is intact.
TEST(EpCombineFormat, ANonFiniteTileDecodesToNaN) {
  std::vector<float> v(256, 0.5f);
  v[3] = std::numeric_limits<float>::infinity();
  for (CombineFormat fmt : kAllCombineFormats) {
    std::vector<std::byte> p(combine_payload_bytes(fmt, 256));
    encode_combine(fmt, v.data(), 256, p.data());
    std::vector<float> out(256, 0.0f);
    decode_add_combine(fmt, p.data(), 256, out.data());
    if (fmt == CombineFormat::kBf16) {
      EXPECT_TRUE(std::isinf(out[3]));
      EXPECT_EQ(out[0], 0.5f);
    } else {
      for (int i = 0; i < 128; ++i) EXPECT_TRUE(std::isnan(out[i])) << to_string(fmt) << i;
    }
    for (int i = 128; i < 256; ++i) EXPECT_EQ(out[i], 0.5f) << to_string(fmt) << i;
  }
}

}  // namespace
}  // namespace cobench::coll::ep
