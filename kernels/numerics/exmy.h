// SPDX-License-Identifier: Apache-2.0
// ExMy: generic small floating-point formats of 1 sign, E exponent and M mantissa bits (up to 16
// bits in all), usable from host and device code (C++17, header-only). Encoding rounds to
// nearest, ties to even, with subnormals; overflow saturates to the largest finite value or gives
// the format's overflow code (infinity, or NaN where there is no infinity); NaN gives the positive
// all-ones NaN code. Two kinds of special values:
//   kIeee       the top exponent holds infinities (mantissa 0) and NaNs (IEEE 754 style)
//   kFiniteNan  no infinities; only S.1...1 is NaN (the OCP "fn" convention)
// The formats named here, and their sources:
//   E4M3 (kFiniteNan, bias 7, max 448) and E5M2 (kIeee, bias 15, max 57344): the OCP 8-bit
//     Floating Point Specification (OFP8) rev. 1.0, as CUDA's __nv_fp8_e4m3 / __nv_fp8_e5m2 and
//     kernels/numerics/fp8.h, which these equal code for code (tests/kernels/logfmt_test.cpp).
//   E5M6 (kIeee, bias 15): the DeepSeek-V3 technical report (arXiv 2412.19437, section 3.3) stores
//     the activations after attention in a "customized E5M6" format, and the ISCA 2025 paper
//     (arXiv 2505.09343, section 3.2) lists it as a combine candidate; neither gives its encoding.
//     Here it is IEEE binary16 (FP16) cut to 6 mantissa bits: same exponent, bias, infinities and
//     NaNs; max 65024, least normal 2^-14, least subnormal 2^-20.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "kernels/numerics/fp8.h"

namespace cobench::num {

enum class MinifloatSpecials { kIeee, kFiniteNan };

struct MinifloatFormat {
  int exp_bits = 0;
  int mant_bits = 0;
  int bias = 0;
  MinifloatSpecials specials = MinifloatSpecials::kIeee;
};

inline constexpr MinifloatFormat kMinifloatE4M3{4, 3, 7, MinifloatSpecials::kFiniteNan};
inline constexpr MinifloatFormat kMinifloatE5M2{5, 2, 15, MinifloatSpecials::kIeee};
inline constexpr MinifloatFormat kMinifloatE5M6{5, 6, 15, MinifloatSpecials::kIeee};

/// The formats the codec supports: 2..7 exponent bits, at least 1 mantissa bit, at most 16 bits
/// in all, bias >= 1, and bias + M <= 126 (every float subnormal is then below half the format's
/// least subnormal, and its least subnormal is a normal float).
COBENCH_HD constexpr bool minifloat_valid(MinifloatFormat f) {
  return f.exp_bits >= 2 && f.exp_bits <= 7 && f.mant_bits >= 1 && f.exp_bits + f.mant_bits <= 15 &&
         f.bias >= 1 && f.bias + f.mant_bits <= 126;
}

/// Bits per value, sign included.
COBENCH_HD constexpr int minifloat_bits(MinifloatFormat f) { return 1 + f.exp_bits + f.mant_bits; }

/// The largest finite magnitude's code (sign clear).
COBENCH_HD constexpr std::uint32_t minifloat_max_finite_code(MinifloatFormat f) {
  const std::uint32_t mant_ones = (1u << f.mant_bits) - 1u;
  const std::uint32_t top_exp = (1u << f.exp_bits) - 1u;
  return f.specials == MinifloatSpecials::kIeee ? ((top_exp - 1u) << f.mant_bits) | mant_ones
                                                : (top_exp << f.mant_bits) | (mant_ones - 1u);
}

/// The code of a positive overflow without saturation: infinity (kIeee) or NaN (kFiniteNan).
COBENCH_HD constexpr std::uint32_t minifloat_overflow_code(MinifloatFormat f) {
  const std::uint32_t top_exp = (1u << f.exp_bits) - 1u;
  return f.specials == MinifloatSpecials::kIeee ? top_exp << f.mant_bits
                                                : (1u << (f.exp_bits + f.mant_bits)) - 1u;
}

/// The (positive) NaN code a NaN input gives: all exponent and mantissa bits set.
COBENCH_HD constexpr std::uint32_t minifloat_nan_code(MinifloatFormat f) {
  return (1u << (f.exp_bits + f.mant_bits)) - 1u;
}

/// Encodes `x` in format `f` (minifloat_valid(f)), round to nearest even. The sign is bit E + M.
COBENCH_HD inline std::uint16_t encode_minifloat(float x, MinifloatFormat f, Overflow overflow) {
  const int mant_bits = f.mant_bits;
  const int bias = f.bias;
  const std::uint32_t max_finite = minifloat_max_finite_code(f);
  const std::uint32_t overflow_code = minifloat_overflow_code(f);
  const std::uint32_t u = float_bits(x);
  const std::uint32_t sign = (u >> 31) << (f.exp_bits + mant_bits);
  const std::uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<std::uint16_t>(minifloat_nan_code(f));
  const std::uint32_t saturated =
      sign | (overflow == Overflow::kSaturate ? max_finite : overflow_code);
  if (abs == 0x7F800000u) return static_cast<std::uint16_t>(saturated);
  if (abs < 0x00800000u) return static_cast<std::uint16_t>(sign);  // below half the least subnormal
  const int exponent = static_cast<int>(abs >> 23) - 127;
  const int max_exponent = static_cast<int>(max_finite >> mant_bits) - bias;
  if (exponent > max_exponent + 1) return static_cast<std::uint16_t>(saturated);
  std::uint32_t code = minifloat_magnitude_code(abs, mant_bits, bias);
  if (code > max_finite) code = overflow == Overflow::kSaturate ? max_finite : overflow_code;
  return static_cast<std::uint16_t>(sign | code);
}

/// Decodes a code of format `f` (exact: every value is a float). Bits above the sign are ignored.
/// NaN codes give a NaN with the code's sign for kIeee and a positive NaN for kFiniteNan (as
/// CUDA's E5M2 and E4M3 conversions, and fp8.h).
COBENCH_HD inline float decode_minifloat(std::uint16_t code, MinifloatFormat f) {
  const int mant_bits = f.mant_bits;
  const int width = f.exp_bits + mant_bits;
  const std::uint32_t sign = ((static_cast<std::uint32_t>(code) >> width) & 1u) << 31;
  const std::uint32_t exp = (code & ((1u << width) - 1u)) >> mant_bits;
  const std::uint32_t mant = code & ((1u << mant_bits) - 1u);
  const std::uint32_t top_exp = (1u << f.exp_bits) - 1u;
  if (f.specials == MinifloatSpecials::kFiniteNan && exp == top_exp &&
      mant == (1u << mant_bits) - 1u) {
    return bits_float(0x7FFFFFFFu);
  }
  if (f.specials == MinifloatSpecials::kIeee && exp == top_exp) {
    return bits_float(sign | (mant ? 0x7FFFFFFFu : 0x7F800000u));
  }
  if (exp == 0) {
    // Subnormal: mant x 2^(1 - bias - M), exact in float.
    const float magnitude =
        static_cast<float>(mant) *
        bits_float(static_cast<std::uint32_t>(127 + 1 - f.bias - mant_bits) << 23);
    return bits_float(float_bits(magnitude) | sign);
  }
  return bits_float(sign | ((exp - static_cast<std::uint32_t>(f.bias) + 127u) << 23) |
                    (mant << (23 - mant_bits)));
}

/// The power-of-two scale a tile of largest magnitude `amax` (finite, >= 0) takes in format `f`:
/// 2^ceil(log2(amax / max finite)) in float, so amax / scale does not overflow (up to the rounding
/// of log2 at a power of two, which saturation absorbs); 1 for an all-zero tile. Never below the
/// least float subnormal 2^-149: for amax under max finite x 2^-150 (a float subnormal tile) that
/// power of two would round to 0 (and every value to NaN); 2^-149 still keeps amax / scale below
/// half the format's max.
COBENCH_HD inline float minifloat_pow2_scale(MinifloatFormat f, float amax) {
  const float max_finite =
      decode_minifloat(static_cast<std::uint16_t>(minifloat_max_finite_code(f)), f);
  if (!(amax > 0)) return 1.0f;
  const float scale = std::exp2(std::ceil(std::log2(amax / max_finite)));
  return scale > 0 ? scale : bits_float(1u);
}

}  // namespace cobench::num
