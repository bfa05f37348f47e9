// SPDX-License-Identifier: Apache-2.0
// FP8, BF16 and UE8M0 codecs on hand-worked values: E4M3 = 1 sign, 4 exponent (bias 7),
// 3 mantissa bits; E5M2 = 1, 5 (bias 15), 2.
#include "kernels/numerics/fp8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using namespace cobench::num;

constexpr auto kE4M3 = Fp8Format::kE4M3;
constexpr auto kE5M2 = Fp8Format::kE5M2;
constexpr auto kSat = Overflow::kSaturate;
constexpr auto kNoSat = Overflow::kNoSaturate;

int e4m3(float x, Overflow o = kSat) { return encode_fp8(x, kE4M3, o); }
int e5m2(float x, Overflow o = kSat) { return encode_fp8(x, kE5M2, o); }

TEST(Fp8, E4M3HandWorked) {
  EXPECT_EQ(e4m3(1.0f), 0x38);    // exponent 7 + 0 = 7 -> 0.0111.000
  EXPECT_EQ(e4m3(-2.5f), 0xC2);   // 1.01 x 2^1: 1.1000.010
  EXPECT_EQ(e4m3(448.0f), 0x7E);  // 1.110 x 2^8, the largest finite
  EXPECT_EQ(e4m3(0.0f), 0x00);
  EXPECT_EQ(e4m3(-0.0f), 0x80);
  EXPECT_EQ(e4m3(std::ldexp(1.0f, -9)), 0x01);   // the least subnormal
  EXPECT_EQ(e4m3(std::ldexp(1.0f, -6)), 0x08);   // the least normal
  EXPECT_EQ(e4m3(std::ldexp(7.0f, -9)), 0x07);   // the largest subnormal
  EXPECT_EQ(e4m3(std::ldexp(1.0f, -10)), 0x00);  // half the least subnormal: tie to even (0)
  EXPECT_EQ(e4m3(std::ldexp(3.0f, -10)), 0x02);  // 1.5 x 2^-9: tie to even (2 x 2^-9)
  EXPECT_EQ(e4m3(1.0625f), 0x38);  // 1 + 1/16, halfway between 1.000 and 1.001: even 1.000
  EXPECT_EQ(e4m3(1.1875f), 0x3A);  // halfway between 1.001 and 1.010: even 1.010
}

TEST(Fp8, E4M3Overflow) {
  EXPECT_EQ(e4m3(464.0f), 0x7E);          // halfway to 480 (not representable): even, 448
  EXPECT_EQ(e4m3(470.0f, kSat), 0x7E);    // saturates
  EXPECT_EQ(e4m3(470.0f, kNoSat), 0x7F);  // NaN: E4M3 has no infinity
  EXPECT_EQ(e4m3(-1e9f, kNoSat), 0xFF);
  EXPECT_EQ(e4m3(std::numeric_limits<float>::infinity(), kSat), 0x7E);
  EXPECT_EQ(e4m3(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(e4m3(-std::numeric_limits<float>::quiet_NaN()), 0x7F);  // CUDA drops NaN signs
}

TEST(Fp8, E5M2HandWorkedAndOverflow) {
  EXPECT_EQ(e5m2(1.0f), 0x3C);      // exponent 15: 0.01111.00
  EXPECT_EQ(e5m2(57344.0f), 0x7B);  // 1.11 x 2^15
  EXPECT_EQ(e5m2(std::ldexp(1.0f, -16)), 0x01);
  EXPECT_EQ(e5m2(61440.0f, kNoSat), 0x7C);  // halfway to 2^16: even rounds up, to infinity
  EXPECT_EQ(e5m2(61440.0f, kSat), 0x7B);
  EXPECT_EQ(e5m2(-std::numeric_limits<float>::infinity(), kNoSat), 0xFC);
  EXPECT_EQ(e5m2(std::numeric_limits<float>::infinity(), kSat), 0x7B);
}

TEST(Fp8, EveryCodeDecodesAndEncodesBack) {
  for (Fp8Format f : {kE4M3, kE5M2}) {
    float previous = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < 256; ++c) {
      const float v = decode_fp8(static_cast<std::uint8_t>(c), f);
      if (std::isnan(v)) continue;
      EXPECT_EQ(encode_fp8(v, f, kNoSat), c) << "code " << c;
      if (c < 0x80 && c > 0) {
        EXPECT_GT(v, previous) << "code " << c;  // positive codes increase
        previous = v;
      }
    }
  }
  EXPECT_EQ(decode_fp8(0x7E, kE4M3), 448.0f);
  EXPECT_TRUE(std::isnan(decode_fp8(0x7F, kE4M3)));
  EXPECT_TRUE(std::isnan(decode_fp8(0xFF, kE4M3)));
  EXPECT_EQ(decode_fp8(0x01, kE4M3), std::ldexp(1.0f, -9));
  EXPECT_EQ(decode_fp8(0x7C, kE5M2), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(decode_fp8(0x7D, kE5M2)));
  EXPECT_EQ(decode_fp8(0x80, kE4M3), 0.0f);
  EXPECT_TRUE(std::signbit(decode_fp8(0x80, kE4M3)));
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(encode_bf16(1.0f), 0x3F80);
  EXPECT_EQ(encode_bf16(1.00390625f), 0x3F80);  // 1 + 2^-8: halfway, even stays
  EXPECT_EQ(encode_bf16(1.01171875f), 0x3F82);  // 1 + 3 x 2^-8: halfway, even rounds up
  EXPECT_EQ(encode_bf16(std::nextafter(1.00390625f, 2.0f)), 0x3F81);  // just above halfway
  EXPECT_EQ(encode_bf16(std::numeric_limits<float>::quiet_NaN()), 0x7FFF);
  EXPECT_EQ(encode_bf16(3.4e38f), 0x7F80);  // rounds past the largest bf16: infinity
  EXPECT_EQ(decode_bf16(0xC040), -3.0f);
}

TEST(Ue8m0, PowerOfTwoScales) {
  const auto kZero = ScaleRounding::kTowardZero, kUp = ScaleRounding::kUp;
  EXPECT_EQ(encode_ue8m0(448.0f, kSat, kZero), 127 + 8);  // 256
  EXPECT_EQ(encode_ue8m0(448.0f, kSat, kUp), 127 + 9);    // 512
  EXPECT_EQ(encode_ue8m0(-0.25f, kSat, kUp), 127 - 2);    // |x|, exact power: unchanged
  EXPECT_EQ(encode_ue8m0(0.0f, kSat, kUp), 0);
  EXPECT_EQ(encode_ue8m0(1e-45f, kSat, kUp), 0);      // clipped at 2^-127
  EXPECT_EQ(encode_ue8m0(3e38f, kSat, kUp), 0xFE);    // 2^128 saturates to 2^127
  EXPECT_EQ(encode_ue8m0(3e38f, kNoSat, kUp), 0xFF);  // or is NaN
  EXPECT_EQ(encode_ue8m0(std::numeric_limits<float>::quiet_NaN(), kSat, kZero), 0xFF);
  EXPECT_EQ(decode_ue8m0(127), 1.0f);
  EXPECT_EQ(decode_ue8m0(0), std::ldexp(1.0f, -127));
  EXPECT_EQ(decode_ue8m0(0xFE), std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isnan(decode_ue8m0(0xFF)));
}

}  // namespace
