// SPDX-License-Identifier: Apache-2.0
// Low-precision number formats, usable from host and device code (C++17, header-only):
//   FP8 E4M3 (OCP "fn": no infinities, max 448, NaN = S.1111.111)
//   FP8 E5M2 (max 57344, infinities and NaNs as IEEE)
//   BF16 and UE8M0 (an unsigned power-of-two scale, 2^(e - 127), 0xFF = NaN)
// Encoding rounds to nearest, ties to even; overflow either saturates to the largest finite
// value or gives NaN (E4M3) / infinity (E5M2). Every encoder is bit-exact with the CUDA
// toolkit's own conversions on all 2^32 float inputs (tests/kernels/numerics_cuda_test.cpp):
// like them, NaN inputs give the positive NaN code and saturation also clamps infinities.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/host_device.h"

namespace cobench::num {

enum class Fp8Format { kE4M3, kE5M2 };
enum class Overflow { kSaturate, kNoSaturate };
enum class ScaleRounding { kTowardZero, kUp };  ///< UE8M0: floor or ceil of log2|x|

COBENCH_HD inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

COBENCH_HD inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// The magnitude code, before any overflow clamp, of the finite float with bits `abs` (sign
/// cleared, a normal float: abs >= 0x00800000) in a format with `mant_bits` mantissa bits and
/// exponent bias `bias`, rounded to nearest even; 0 below half the least subnormal. A code above
/// the format's largest finite one is an overflow for the caller to clamp. Shared by encode_fp8
/// and exmy.h's encode_minifloat.
COBENCH_HD inline std::uint32_t minifloat_magnitude_code(std::uint32_t abs, int mant_bits,
                                                         int bias) {
  const int exponent = static_cast<int>(abs >> 23) - 127;
  const std::uint32_t significand = (abs & 0x7FFFFFu) | 0x800000u;  // 24 bits
  const int min_exponent = 1 - bias;
  // Bits of the significand to drop: more below the smallest normal (subnormal results).
  const int shift = 23 - mant_bits + (exponent < min_exponent ? min_exponent - exponent : 0);
  if (shift > 25) return 0;  // below half the least subnormal
  std::uint32_t rounded = significand >> shift;
  const std::uint32_t rest = significand & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (rounded & 1u))) ++rounded;
  // A normal result adds its exponent field; the implicit bit carries into it on round-up.
  // A subnormal result is the rounded value itself (rounding up to 2^M gives the least normal).
  return exponent < min_exponent ? rounded
                                 : (static_cast<std::uint32_t>(exponent + bias) << mant_bits) +
                                       rounded - (1u << mant_bits);
}

/// Encodes `x` as FP8 (round to nearest even).
COBENCH_HD inline std::uint8_t encode_fp8(float x, Fp8Format format, Overflow overflow) {
  const bool e4m3 = format == Fp8Format::kE4M3;
  const int mant_bits = e4m3 ? 3 : 2;
  const int bias = e4m3 ? 7 : 15;
  const std::uint32_t max_finite = e4m3 ? 0x7E : 0x7B;     // 448, 57344
  const std::uint32_t overflow_code = e4m3 ? 0x7F : 0x7C;  // NaN, infinity
  const std::uint32_t u = float_bits(x);
  const std::uint32_t sign = (u >> 24) & 0x80u;
  const std::uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return 0x7F;  // NaN: the positive NaN code, as CUDA
  const std::uint32_t saturated =
      sign | (overflow == Overflow::kSaturate ? max_finite : overflow_code);
  if (abs == 0x7F800000u) return static_cast<std::uint8_t>(saturated);
  if (abs < 0x00800000u) return static_cast<std::uint8_t>(sign);  // far below the least subnormal
  const int exponent = static_cast<int>(abs >> 23) - 127;
  if (exponent + bias > 2 * bias + 2) return static_cast<std::uint8_t>(saturated);
  std::uint32_t code = minifloat_magnitude_code(abs, mant_bits, bias);
  if (code > max_finite) code = overflow == Overflow::kSaturate ? max_finite : overflow_code;
  return static_cast<std::uint8_t>(sign | code);
}

/// Decodes an FP8 code (exact: every FP8 value is a float).
COBENCH_HD inline float decode_fp8(std::uint8_t code, Fp8Format format) {
  const bool e4m3 = format == Fp8Format::kE4M3;
  const int mant_bits = e4m3 ? 3 : 2;
  const int bias = e4m3 ? 7 : 15;
  const std::uint32_t sign = static_cast<std::uint32_t>(code & 0x80u) << 24;
  const std::uint32_t exp = (code & 0x7Fu) >> mant_bits;
  const std::uint32_t mant = code & ((1u << mant_bits) - 1u);
  if (e4m3 && exp == 15 && mant == 7) return bits_float(0x7FFFFFFFu);  // NaN
  if (!e4m3 && exp == 31) return bits_float(sign | (mant ? 0x7FFFFFFFu : 0x7F800000u));
  if (exp == 0) {
    // Subnormal: mant x 2^(1 - bias - M), exact in float.
    const float magnitude =
        static_cast<float>(mant) *
        bits_float(static_cast<std::uint32_t>(127 + 1 - bias - mant_bits) << 23);
    return bits_float(float_bits(magnitude) | sign);
  }
  return bits_float(sign | ((exp - bias + 127) << 23) | (mant << (23 - mant_bits)));
}

/// BF16 bits of `x`, rounded to nearest even; NaN gives 0x7FFF, as CUDA.
COBENCH_HD inline std::uint16_t encode_bf16(float x) {
  const std::uint32_t u = float_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FFF;
  const std::uint32_t rest = u & 0xFFFFu;
  std::uint32_t upper = u >> 16;
  if (rest > 0x8000u || (rest == 0x8000u && (upper & 1u))) ++upper;
  return static_cast<std::uint16_t>(upper);
}

COBENCH_HD inline float decode_bf16(std::uint16_t bits) {
  return bits_float(static_cast<std::uint32_t>(bits) << 16);
}

/// UE8M0 scale of |x|: 2^floor(log2|x|) (kTowardZero) or 2^ceil(log2|x|) (kUp), clipped below
/// at 2^-127 (code 0); above 2^127 it saturates to code 0xFE or gives NaN (0xFF). NaN -> 0xFF.
COBENCH_HD inline std::uint8_t encode_ue8m0(float x, Overflow overflow, ScaleRounding rounding) {
  const std::uint32_t abs = float_bits(x) & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return 0xFF;
  const std::uint8_t too_big = overflow == Overflow::kSaturate ? 0xFE : 0xFF;
  if (abs == 0x7F800000u) return too_big;
  if (abs == 0) return 0;
  int exponent;  // floor(log2|x|)
  bool exact;    // |x| is a power of two
  if (abs >= 0x00800000u) {
    exponent = static_cast<int>(abs >> 23) - 127;
    exact = (abs & 0x7FFFFFu) == 0;
  } else {  // float subnormal: |x| = m x 2^-149
    int top = 31;
    while (!(abs & (1u << top))) --top;
    exponent = top - 149;
    exact = (abs & (abs - 1u)) == 0;
  }
  if (rounding == ScaleRounding::kUp && !exact) ++exponent;
  if (exponent < -127) exponent = -127;
  if (exponent > 127) return too_big;
  return static_cast<std::uint8_t>(exponent + 127);
}

/// The scale a UE8M0 code stands for: 2^(code - 127); 0xFF is NaN.
COBENCH_HD inline float decode_ue8m0(std::uint8_t code) {
  if (code == 0xFF) return bits_float(0x7FFFFFFFu);
  if (code == 0) return bits_float(0x00400000u);  // 2^-127, a float subnormal
  return bits_float(static_cast<std::uint32_t>(code) << 23);
}

}  // namespace cobench::num
