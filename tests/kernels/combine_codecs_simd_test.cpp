// SPDX-License-Identifier: Apache-2.0
// The fast combine codecs (kernels/codec/combine_codecs_simd.h) against the reference round_trip
// (kernels/codec/combine_codecs.h), bit for bit: every codec on many tiles of every payload
// distribution of the accuracy study (at three magnitudes), and on edge tiles (zeros, one
// nonzero, a tile spanning more than 2^32, float subnormals, negative zeros, one magnitude,
// near FLT_MAX, a narrow tile with a tiny LogFMT step, minifloat ties, partial tiles, in place,
// non-finite values). Each runs on every ISA path this CPU has (the others skip), on the AVX2
// source through SIMDe's portable code (kPortable), and on the AVX-512 source through SIMDe's
// portable code, compiled into this file.
#include <simde/x86/avx512.h>

#include <gtest/gtest.h>
#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/codec/combine_codecs.h"
#include "kernels/codec/combine_codecs_simd.h"
#include "kernels/codec/combine_codecs_simd_kernels.h"
#include "kernels/numerics/fp8.h"

namespace {
namespace avx512_portable {
#include "kernels/codec/combine_codecs_vec_avx512.inc"
// The kernels, in the vocabulary above.
#include "kernels/codec/combine_codecs_tile.inc"
}  // namespace avx512_portable

using namespace cobench::codec;
using cobench::num::bits_float;
using cobench::num::float_bits;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

// A way to run the fast round trip: a CodecIsa through round_trip_fast (PortableAvx2Source is
// kPortable), or the AVX-512 source compiled here (SIMDe's portable code) through the same driver.
struct Path {
  std::string id;  ///< the test name's suffix
  bool avx512_source_portable = false;
  CodecIsa isa = CodecIsa::kPortable;
};

std::vector<Path> all_paths() {
  return {{"PortableAvx2Source", false, CodecIsa::kPortable},
          {"Avx2Fma", false, CodecIsa::kAvx2Fma},
          {"Avx512f", false, CodecIsa::kAvx512f},
          {"PortableAvx512Source", true, CodecIsa::kPortable}};
}

void run_fast(const Path& p, CombineCodec c, const float* x, std::int64_t n, float* out) {
  if (p.avx512_source_portable) {
    using namespace avx512_portable;
    const simd::TileKernels k{bf16_rows, scan_tile, minifloat_tile, logfmt_tile, "avx512 portable"};
    simd::round_trip_with(k, c, x, n, out);
  } else {
    round_trip_fast(c, x, n, out, p.isa);
  }
}

// One test suite a path: the paths this CPU lacks skip, saying so.
class CombineCodecsSimd : public testing::TestWithParam<Path> {
 protected:
  void SetUp() override {
    const Path& p = GetParam();
    if (!p.avx512_source_portable && !codec_isa_supported(p.isa))
      GTEST_SKIP() << "this CPU (or build) cannot run the " << to_string(p.isa) << " kernels";
  }
};

// Compares the fast path with the reference on x (n values), bit for bit; `what` names the input.
void expect_same_bits(const Path& p, CombineCodec c, const std::vector<float>& x,
                      const std::string& what) {
  const auto n = static_cast<std::int64_t>(x.size());
  std::vector<float> want(x.size()), got(x.size(), -12345.0f);
  round_trip(c, x.data(), n, want.data());
  run_fast(p, c, x.data(), n, got.data());
  int reported = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (float_bits(got[i]) == float_bits(want[i])) continue;
    ADD_FAILURE() << to_string(c) << ", " << what << ": value " << i << " = " << x[i] << " (0x"
                  << std::hex << float_bits(x[i]) << "): fast 0x" << float_bits(got[i])
                  << ", reference 0x" << float_bits(want[i]) << std::dec << " (" << got[i] << " vs "
                  << want[i] << ")";
    if (++reported == 5) return;
  }
}

TEST_P(CombineCodecsSimd, EveryPayloadBitExact) {
  for (Payload payload : kAllPayloads)
    for (float scale : {1.0f, 0x1p-60f, 0x1p60f}) {
      // 8 rows of hidden 7168: 448 tiles a payload and magnitude.
      std::vector<float> x = payload_rows(payload, 8, 7168, 2505);
      for (float& v : x) v *= scale;
      for (CombineCodec c : kAllCombineCodecs)
        expect_same_bits(GetParam(), c, x,
                         std::string(to_string(payload)) + " x " + std::to_string(scale));
    }
}

// Edge tiles, each 128 values unless said.
std::vector<std::pair<std::string, std::vector<float>>> edge_tiles() {
  std::vector<std::pair<std::string, std::vector<float>>> t;
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  auto random_sign = [&](float v) { return rng() & 1 ? v : -v; };
  t.push_back({"all +0", std::vector<float>(128, 0.0f)});
  t.push_back({"all -0", std::vector<float>(128, -0.0f)});
  {
    std::vector<float> x(128);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = i % 3 ? 0.0f : -0.0f;
    t.push_back({"mixed signed zeros", x});
  }
  for (std::size_t at : {std::size_t{0}, std::size_t{77}, std::size_t{127}})
    for (float v : {1.0f, -3.7e-3f, 2.5e30f, -1.0e-41f}) {
      std::vector<float> x(128, at % 2 ? -0.0f : 0.0f);
      x[at] = v;
      t.push_back({"one nonzero " + std::to_string(v) + " at " + std::to_string(at), x});
    }
  {
    // Magnitudes over 2^-44 .. 2^20 (64 binades: the 32-binade clip is active), with values on
    // and around the clip 2^(20 - 32) and half of it, where the below-min rule decides.
    std::vector<float> x(128);
    for (float& v : x) v = random_sign(std::exp2(-44.0f + 64.0f * unit(rng)));
    x[0] = 0x1p20f;
    x[1] = 0x1p-12f;                        // the clip itself: code 1
    x[2] = -0x1p-13f;                       // half the clip: ties up to code 1
    x[3] = std::nextafter(0x1p-13f, 0.0f);  // just below half: code 0
    x[4] = std::nextafter(0x1p-12f, 0.0f);  // just below the clip: code 1
    x[5] = -0.0f;
    t.push_back({"spanning 2^64 (clipped at 2^32)", x});
    for (float& v : x) v *= 0x1p90f;  // the same up near FLT_MAX (amax 2^110)
    t.push_back({"spanning 2^64, scaled by 2^90", x});
  }
  {
    std::vector<float> x(128);
    for (float& v : x)
      v = random_sign(bits_float(1u + static_cast<std::uint32_t>(rng() % 0x7FFFFFu)));
    x[9] = bits_float(1);  // the least subnormal
    x[10] = -0.0f;
    t.push_back({"float subnormals", x});
    for (std::size_t i = 0; i < x.size(); i += 4) x[i] = random_sign(1e-38f * (1 + unit(rng)));
    t.push_back({"subnormals and the least normals", x});
    std::vector<float> y(128, 0.0f);
    y[3] = bits_float(1);
    y[4] = bits_float(2);
    y[5] = -bits_float(3);
    y[6] = bits_float(0x7FFFFF);
    t.push_back({"a few subnormals in zeros", y});
  }
  {
    std::vector<float> x(128);
    for (float& v : x) v = random_sign(3.0f);
    x[17] = 0.0f;
    x[18] = -0.0f;
    t.push_back({"one magnitude (LogFMT step 0)", x});
    for (std::size_t i = 0; i < x.size(); i += 2) x[i] = random_sign(5.0f);
    t.push_back({"two magnitudes", x});
  }
  {
    std::vector<float> x(128);
    for (float& v : x)
      v = random_sign(std::numeric_limits<float>::max() * (0.5f + 0.5f * unit(rng)));
    x[0] = std::numeric_limits<float>::max();
    t.push_back({"near FLT_MAX", x});
    for (float& v : x) v = random_sign(1.0f + 1e-5f * unit(rng));
    t.push_back({"within 1e-5 of 1 (tiny LogFMT step)", x});
    for (float& v : x) v = random_sign(1.0f + 3e-7f * static_cast<float>(rng() % 4));
    t.push_back({"four neighbouring floats", x});
  }
  {
    // E4M3 with scale 1 (amax 448): ties between neighbours of the grid, normal and subnormal
    // (least subnormal 2^-9), and values above the top code.
    std::vector<float> x(128);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float base = std::exp2(static_cast<float>(static_cast<int>(i % 24) - 12));
      x[i] = random_sign(base * (1.0f + static_cast<float>(rng() % 16) / 16.0f));
    }
    x[0] = 448.0f;
    x[1] = 1.0625f;    // tie between 1 and 1.125: to even, 1
    x[2] = 1.1875f;    // tie between 1.125 and 1.25: to even, 1.25
    x[3] = 0x1p-10f;   // half the least subnormal: to 0
    x[4] = 0x3p-10f;   // tie: to 2^-8
    x[5] = -0x5p-11f;  // not a tie
    x[6] = 440.0f;
    t.push_back({"minifloat ties at scale 1", x});
    for (float& v : x) v = std::ldexp(v, -70);  // the same at scale 2^-70
    t.push_back({"minifloat ties at scale 2^-70", x});
  }
  {
    std::vector<float> x(100);
    for (float& v : x) v = random_sign(unit(rng));
    t.push_back({"a partial tile of 100", x});
    t.push_back({"one value", std::vector<float>{-0.3f}});
    std::vector<float> y(7168 + 37);
    for (float& v : y) v = random_sign(std::exp2(-8.0f + 16.0f * unit(rng)));
    t.push_back({"7205 values: 56 tiles and 37", y});
  }
  return t;
}

TEST_P(CombineCodecsSimd, EdgeTilesBitExact) {
  for (const auto& [what, x] : edge_tiles())
    for (CombineCodec c : kAllCombineCodecs) expect_same_bits(GetParam(), c, x, what);
}

TEST_P(CombineCodecsSimd, MinifloatScaleNearPowersOfTwo) {
  // Tiles whose amax / max finite is 2^e (1 + m) for m from 0 up past 2^-15 (where the fast
  // scale stops asking log2f) at exponents -120 .. 120, where log2f's rounding near an integer
  // decides ceil: the scale must be the reference's. Values 2^-10 .. 2^-40 of amax fall in each
  // format's subnormal range, where a scale twice too large rounds them differently.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (CombineCodec c : {CombineCodec::kE4M3, CombineCodec::kE5M2, CombineCodec::kE5M6})
    for (int e = -120; e <= 120; e += 12)
      for (std::uint32_t m : {0u, 1u, 2u, 255u, 256u, 257u, 300u, 1u << 10, 1u << 15}) {
        const float max_finite = c == CombineCodec::kE4M3   ? 448.0f
                                 : c == CombineCodec::kE5M2 ? 57344.0f
                                                            : 65024.0f;
        const float q = bits_float((static_cast<std::uint32_t>(e + 127) << 23) | m);
        std::vector<float> x(128);
        for (float& v : x) v = unit(rng) * q * max_finite;
        x[5] = q * max_finite;
        for (int i = 0; i <= 30; ++i) x[6 + i] = x[5] * std::ldexp(1.37f, -10 - i);
        expect_same_bits(GetParam(), c, x,
                         "amax / max finite = 2^" + std::to_string(e) + " (1 + " +
                             std::to_string(m) + " x 2^-23)");
      }
}

TEST_P(CombineCodecsSimd, InPlaceEqualsTheReference) {
  std::vector<float> x = payload_rows(Payload::kLogNormal, 2, 7168, 7);
  x.resize(x.size() - 50);  // a partial last tile too
  for (CombineCodec c : kAllCombineCodecs) {
    std::vector<float> want(x.size()), inplace = x;
    round_trip(c, x.data(), static_cast<std::int64_t>(x.size()), want.data());
    run_fast(GetParam(), c, inplace.data(), static_cast<std::int64_t>(inplace.size()),
             inplace.data());
    ASSERT_EQ(std::memcmp(want.data(), inplace.data(), want.size() * sizeof(float)), 0)
        << to_string(c);
  }
}

TEST_P(CombineCodecsSimd, NonFiniteTilesAsTheReference) {
  // Tile 1 of 3 holds a NaN (then an infinity): minifloats and BF16 give the reference's bits
  // (NaN codes included); LogFMT refuses the row as the reference does.
  for (float bad : {kNan, -kInf}) {
    std::vector<float> x = payload_rows(Payload::kGaussian, 1, 384, 3);
    x[200] = bad;
    for (CombineCodec c : kAllCombineCodecs) {
      std::vector<float> out(x.size());
      if (c == CombineCodec::kLogFmt8 || c == CombineCodec::kLogFmt10) {
        EXPECT_THROW(round_trip(c, x.data(), 384, out.data()), cobench::Error);
        EXPECT_THROW(run_fast(GetParam(), c, x.data(), 384, out.data()), cobench::Error);
      } else {
        expect_same_bits(GetParam(), c, x, "a non-finite in tile 1");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, CombineCodecsSimd, testing::ValuesIn(all_paths()),
                         [](const testing::TestParamInfo<Path>& param_info) {
                           return param_info.param.id;
                         });

TEST(CombineCodecsSimdIsa, NamesAndAnUnsupportedIsaIsRefused) {
  EXPECT_STREQ(to_string(CodecIsa::kAvx512f), "avx512f");
  EXPECT_STREQ(to_string(CodecIsa::kAvx2Fma), "avx2-fma");
  EXPECT_TRUE(codec_isa_supported(CodecIsa::kPortable));
  EXPECT_TRUE(codec_isa_supported(best_codec_isa()));
  EXPECT_NE(best_codec_isa(), CodecIsa::kAuto);
  for (CodecIsa isa : kAllCodecIsas) {
    if (codec_isa_supported(isa)) continue;
    float v = 1.0f;
    EXPECT_THROW(round_trip_fast(CombineCodec::kE4M3, &v, 1, &v, isa), cobench::Error)
        << to_string(isa);
  }
}

}  // namespace
