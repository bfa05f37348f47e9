// SPDX-License-Identifier: Apache-2.0
#include "kernels/codec/combine_codecs_simd.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/codec/combine_codecs_simd_kernels.h"
#include "kernels/numerics/exmy.h"
#include "kernels/numerics/fp8.h"
#include "kernels/numerics/logfmt.h"

namespace cobench::codec {
namespace simd {
namespace {

// num::minifloat_pow2_scale(f, amax), 2^ceil(log2f(amax / max_finite)), without the two libm
// calls where their result is plain: q = amax / max_finite a normal float 2^e (1 + m) with m = 0
// (log2f exact: e) or m > 2^-15 (log2 q - e > 1.44 x 2^-15, over twice log2f's ulp at any |e| <
// 256, so log2f stays above e and at most e + 1, which is representable: ceil e + 1). The rest (m
// within 2^-15 above a power of two, where log2f may round to e; subnormal q; a scale that is not
// a normal float) goes to the reference function.
float pow2_scale(const num::MinifloatFormat& f, float amax, float max_finite) {
  const std::uint32_t q = num::float_bits(amax / max_finite);
  const std::uint32_t exponent = q >> 23, mantissa = q & 0x7FFFFFu;
  if (amax > 0 && exponent >= 1 && exponent <= 254 && (mantissa == 0 || mantissa > (1u << 8))) {
    const int c = static_cast<int>(exponent) - 127 + (mantissa != 0 ? 1 : 0);
    if (c >= -126 && c <= 127) return num::bits_float(static_cast<std::uint32_t>(c + 127) << 23);
  }
  return num::minifloat_pow2_scale(f, amax);
}

}  // namespace

void round_trip_with(const TileKernels& k, CombineCodec c, const float* x, std::int64_t n,
                     float* out) {
  if (c == CombineCodec::kBf16) {
    for (std::int64_t i = k.bf16(x, n, out); i < n; ++i)
      out[i] = num::decode_bf16(num::encode_bf16(x[i]));
    return;
  }
  const num::MinifloatFormat* f = minifloat_of(c);
  const int bits = c == CombineCodec::kLogFmt8 ? 8 : 10;
  alignas(64) float in_pad[kTile], out_pad[kTile];
  for (std::int64_t b = 0; b < n; b += kTile) {
    const std::int64_t len = std::min<std::int64_t>(kTile, n - b);
    const float* src = x + b;
    float* dst = out + b;
    if (len < kTile) {  // zeros change neither the largest nor the smallest nonzero magnitude
      std::memcpy(in_pad, src, static_cast<std::size_t>(len) * sizeof(float));
      std::fill(in_pad + len, in_pad + kTile, 0.0f);
      src = in_pad;
      dst = out_pad;
    }
    float amax = 0, amin = 0;
    bool done = k.scan(src, &amax, &amin);
    if (done && f != nullptr) {
      const float max_finite =
          num::decode_minifloat(static_cast<std::uint16_t>(num::minifloat_max_finite_code(*f)), *f);
      k.minifloat(
          src, dst,
          MinifloatTile{pow2_scale(*f, amax, max_finite), max_finite, f->mant_bits, f->bias});
    } else if (done) {
      const num::LogFmtTileMeta meta =
          num::logfmt_meta_from_range(amax > 0 ? amin : 0.0f, amax, bits);
      done = k.logfmt(src, dst, bits, meta.min, meta.step);
    }
    if (!done) {  // the reference on this tile alone; LogFMT refuses a non-finite as it does
      round_trip(c, x + b, len, out + b);
      continue;
    }
    if (len < kTile) std::memcpy(out + b, out_pad, static_cast<std::size_t>(len) * sizeof(float));
  }
}

}  // namespace simd

const char* to_string(CodecIsa isa) {
  switch (isa) {
    case CodecIsa::kAuto:
      return "auto";
    case CodecIsa::kPortable:
      return "portable";
    case CodecIsa::kAvx2Fma:
      return "avx2-fma";
    case CodecIsa::kAvx512f:
      return "avx512f";
  }
  return "?";
}

bool codec_isa_supported(CodecIsa isa) {
  switch (isa) {
    case CodecIsa::kAuto:
    case CodecIsa::kPortable:
      return true;
#if defined(__x86_64__)
    case CodecIsa::kAvx2Fma:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CodecIsa::kAvx512f:
      return __builtin_cpu_supports("avx512f");
#else
    case CodecIsa::kAvx2Fma:
    case CodecIsa::kAvx512f:
      return false;
#endif
  }
  return false;
}

CodecIsa best_codec_isa() {
  if (codec_isa_supported(CodecIsa::kAvx512f)) return CodecIsa::kAvx512f;
  if (codec_isa_supported(CodecIsa::kAvx2Fma)) return CodecIsa::kAvx2Fma;
  return CodecIsa::kPortable;
}

void round_trip_fast(CombineCodec c, const float* x, std::int64_t n, float* out, CodecIsa isa) {
  if (isa == CodecIsa::kAuto) isa = best_codec_isa();
  if (!codec_isa_supported(isa))
    throw Error(fmt::format("round_trip_fast: this CPU cannot run the {} codec kernels; use {}",
                            to_string(isa), to_string(best_codec_isa())));
  switch (isa) {
#if defined(__x86_64__)
    case CodecIsa::kAvx512f: {
      static const simd::TileKernels kernels = simd::tile_kernels_avx512();
      return simd::round_trip_with(kernels, c, x, n, out);
    }
    case CodecIsa::kAvx2Fma: {
      static const simd::TileKernels kernels = simd::tile_kernels_avx2();
      return simd::round_trip_with(kernels, c, x, n, out);
    }
#endif
    default: {
      static const simd::TileKernels kernels = simd::tile_kernels_portable();
      return simd::round_trip_with(kernels, c, x, n, out);
    }
  }
}

}  // namespace cobench::codec
