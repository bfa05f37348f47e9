// SPDX-License-Identifier: Apache-2.0
// LogFMT-nBit, the logarithmic communication format of the DeepSeek-V3 ISCA 2025 paper (Zhao et
// al., "Insights into DeepSeek-V3: Scaling Challenges and Reflections on Hardware for AI
// Architectures", arXiv 2505.09343, section 3.2), usable from host and device code (C++17,
// header-only). Per 1 x 128 tile and n = 6..10 bits (1 sign bit, n - 1 bits of magnitude code):
//   min, max  = log2 of the smallest and largest nonzero |x| in the tile, min clipped to
//               max - 32 (at most 32 binades: the paper's "min > max - log(2^32)")
//   Step      = (max - min) / (2^(n-1) - 2)
//   code 0    = zero; code k in 1 .. 2^(n-1) - 1 = 2^(min + (k - 1) Step), so code 1 is the tile's
//               min and the top code its max (the paper's S.00...01 and S.11...11)
// Encoding rounds in linear space, as the paper requires: |x| gets the code whose decoded
// magnitude is nearest to it, the larger one on a tie. Below the smallest code (only when the
// range was clipped) the same rule applies between 0 and 2^min: |x| >= 2^min / 2 gives code 1,
// anything smaller code 0 (a signed zero). Log-space rounding (nearest in log|x|) is available
// for comparison (LogFmtRounding::kLog); it differs only between two codes of the grid.
// The log base does not change the grid; base 2 makes powers of two exact. Per-tile metadata is
// two float32: `min`, the smallest magnitude 2^min itself (so code 1 decodes to it exactly), and
// `step` in log2 units. Codes are one std::uint16_t per value (sign in bit n - 1);
// logfmt_pack / logfmt_unpack turn them into a dense n-bit stream. Non-finite inputs are refused.
// docs/numerics.md compares this with DeepEP's LogFMT-10 combine.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "kernels/numerics/fp8.h"

namespace cobench::num {

inline constexpr int kLogFmtTileSize = 128;  ///< values per tile (1 x 128, as the paper)
inline constexpr int kLogFmtMinBits = 6;
inline constexpr int kLogFmtMaxBits = 10;
inline constexpr int kLogFmtMaxBinades = 32;  ///< min >= max - 32 in log2 units

enum class LogFmtRounding {
  kLinear,  ///< the nearest decoded magnitude (the paper's rule)
  kLog,     ///< the nearest in log|x| (for comparison: biased upwards)
};

enum class LogFmtStatus {
  kOk,
  kNonFinite,  ///< a NaN or infinity in the tile: its codes and metadata were written as zeros
  kBadBits,    ///< bits outside 6..10: nothing written
  kBadLength,  ///< a tile of fewer than 1 or more than 128 values: nothing written
};

/// Per-tile metadata. An all-zero tile has min = 0 and step = 0; a tile whose nonzero values all
/// have one magnitude has step = 0 and decodes every nonzero value to exactly that magnitude.
struct LogFmtTileMeta {
  float min = 0;   ///< the smallest representable magnitude, 2^min (code 1), float32
  float step = 0;  ///< Step in log2 units, float32
};

/// The largest magnitude code, 2^(bits-1) - 1.
COBENCH_HD constexpr int logfmt_top_code(int bits) { return (1 << (bits - 1)) - 1; }

COBENCH_HD constexpr bool logfmt_bits_valid(int bits) {
  return bits >= kLogFmtMinBits && bits <= kLogFmtMaxBits;
}

/// The magnitude of code k (0 .. top): 0 for k = 0, else min x 2^((k - 1) step) in float.
COBENCH_HD inline float logfmt_decode_magnitude(int k, LogFmtTileMeta meta) {
  if (k <= 0) return 0.0f;
  return meta.min * std::exp2(static_cast<float>(k - 1) * meta.step);
}

/// The magnitude code of a > 0 (finite) under `meta` with `bits` bits. Values above the top code
/// (not in the tile the metadata came from) saturate to it.
COBENCH_HD inline int logfmt_encode_magnitude(float a, int bits, LogFmtTileMeta meta,
                                              LogFmtRounding rounding) {
  if (!(a > 0.0f) || !(meta.min > 0.0f)) return 0;
  // Below the smallest code: nearest of 0 and min, ties to min (exact in double).
  if (a < meta.min) return 2.0 * static_cast<double>(a) >= static_cast<double>(meta.min) ? 1 : 0;
  if (!(meta.step > 0.0f)) return 1;
  const int top = logfmt_top_code(bits);
  // A first guess from the logarithms, then corrected against the decoded grid itself so that
  // lo = decode(k) <= a < decode(k + 1) = hi whatever the rounding of log2 and exp2.
  const float t = (std::log2(a) - std::log2(meta.min)) / meta.step;
  int k = t >= static_cast<float>(top - 1) ? top : static_cast<int>(std::floor(t)) + 1;
  if (k < 1) k = 1;
  while (k > 1 && logfmt_decode_magnitude(k, meta) > a) --k;
  while (k < top && logfmt_decode_magnitude(k + 1, meta) <= a) ++k;
  if (k == top) return top;
  const double lo = logfmt_decode_magnitude(k, meta);
  const double hi = logfmt_decode_magnitude(k + 1, meta);
  const double x = a;
  // Exact in double: a sum of two floats within a factor of 2^32, and 48-bit products.
  const bool up = rounding == LogFmtRounding::kLinear ? 2.0 * x >= lo + hi : x * x >= lo * hi;
  return up ? k + 1 : k;
}

/// The n-bit code of x (finite) under `meta`: sign in bit bits - 1 (kept for -0 and for values
/// that round to zero), magnitude code below.
COBENCH_HD inline std::uint16_t logfmt_encode_value(float x, int bits, LogFmtTileMeta meta,
                                                    LogFmtRounding rounding) {
  const std::uint32_t u = float_bits(x);
  const std::uint32_t sign = (u >> 31) << (bits - 1);
  const int k = logfmt_encode_magnitude(bits_float(u & 0x7FFFFFFFu), bits, meta, rounding);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(k));
}

/// The value of an n-bit code under `meta`.
COBENCH_HD inline float logfmt_decode_value(std::uint16_t code, int bits, LogFmtTileMeta meta) {
  const std::uint32_t sign = (static_cast<std::uint32_t>(code) >> (bits - 1)) & 1u;
  const int k = static_cast<int>(code & static_cast<std::uint32_t>(logfmt_top_code(bits)));
  return bits_float(float_bits(logfmt_decode_magnitude(k, meta)) | (sign << 31));
}

/// The metadata of a tile whose smallest and largest nonzero magnitudes are amin <= amax (both
/// finite; amax = 0 for an all-zero tile), bits valid: min and Step as above. logfmt_tile_meta
/// finds amin and amax; a vectorized encoder may find them its own way and call this.
COBENCH_HD inline LogFmtTileMeta logfmt_meta_from_range(float amin, float amax, int bits) {
  LogFmtTileMeta meta;
  if (amax == 0.0f) return meta;
  // max - 32 binades: amax x 2^-32, exact unless it is a float subnormal (then rounded).
  const float clip = amax * bits_float(static_cast<std::uint32_t>(127 - kLogFmtMaxBinades) << 23);
  meta.min = amin < clip ? clip : amin;
  if (amax > meta.min) {
    meta.step =
        (std::log2(amax) - std::log2(meta.min)) / static_cast<float>(logfmt_top_code(bits) - 1);
  }
  return meta;
}

/// The metadata of a tile of n finite values (1 <= n <= 128, bits valid): min and Step as above.
COBENCH_HD inline LogFmtTileMeta logfmt_tile_meta(const float* x, int n, int bits) {
  float amin = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = bits_float(float_bits(x[i]) & 0x7FFFFFFFu);
    if (a == 0.0f) continue;
    if (amax == 0.0f || a < amin) amin = a;
    if (a > amax) amax = a;
  }
  return logfmt_meta_from_range(amin, amax, bits);
}

/// Encodes one tile of n values (1 <= n <= 128) into n codes and its metadata. A NaN or infinity
/// anywhere in the tile gives kNonFinite with all codes and the metadata zero.
COBENCH_HD inline LogFmtStatus logfmt_encode_tile(const float* x, int n, int bits,
                                                  LogFmtRounding rounding, std::uint16_t* codes,
                                                  LogFmtTileMeta* meta) {
  if (!logfmt_bits_valid(bits)) return LogFmtStatus::kBadBits;
  if (n < 1 || n > kLogFmtTileSize) return LogFmtStatus::kBadLength;
  for (int i = 0; i < n; ++i) {
    if ((float_bits(x[i]) & 0x7F800000u) == 0x7F800000u) {
      for (int j = 0; j < n; ++j) codes[j] = 0;
      *meta = LogFmtTileMeta{};
      return LogFmtStatus::kNonFinite;
    }
  }
  *meta = logfmt_tile_meta(x, n, bits);
  for (int i = 0; i < n; ++i) codes[i] = logfmt_encode_value(x[i], bits, *meta, rounding);
  return LogFmtStatus::kOk;
}

/// Decodes one tile of n codes.
COBENCH_HD inline void logfmt_decode_tile(const std::uint16_t* codes, int n, int bits,
                                          LogFmtTileMeta meta, float* out) {
  for (int i = 0; i < n; ++i) out[i] = logfmt_decode_value(codes[i], bits, meta);
}

/// Tiles in a row of `cols` values: ceil(cols / 128), the last one partial.
COBENCH_HD constexpr std::int64_t logfmt_num_tiles(std::int64_t cols) {
  return (cols + kLogFmtTileSize - 1) / kLogFmtTileSize;
}

/// Encodes a row of `cols` values (cols >= 0): codes[cols], metas[logfmt_num_tiles(cols)].
/// Every tile is encoded; the result is kNonFinite when any tile was (those tiles are zeros).
COBENCH_HD inline LogFmtStatus logfmt_encode_row(const float* x, std::int64_t cols, int bits,
                                                 LogFmtRounding rounding, std::uint16_t* codes,
                                                 LogFmtTileMeta* metas) {
  if (!logfmt_bits_valid(bits)) return LogFmtStatus::kBadBits;
  if (cols < 0) return LogFmtStatus::kBadLength;
  LogFmtStatus result = LogFmtStatus::kOk;
  for (std::int64_t t = 0; t < logfmt_num_tiles(cols); ++t) {
    const std::int64_t begin = t * kLogFmtTileSize;
    const int n = static_cast<int>(cols - begin < kLogFmtTileSize ? cols - begin : kLogFmtTileSize);
    if (logfmt_encode_tile(x + begin, n, bits, rounding, codes + begin, metas + t) !=
        LogFmtStatus::kOk) {
      result = LogFmtStatus::kNonFinite;
    }
  }
  return result;
}

/// Decodes a row of `cols` values encoded by logfmt_encode_row.
COBENCH_HD inline void logfmt_decode_row(const std::uint16_t* codes, std::int64_t cols, int bits,
                                         const LogFmtTileMeta* metas, float* out) {
  for (std::int64_t t = 0; t < logfmt_num_tiles(cols); ++t) {
    const std::int64_t begin = t * kLogFmtTileSize;
    const int n = static_cast<int>(cols - begin < kLogFmtTileSize ? cols - begin : kLogFmtTileSize);
    logfmt_decode_tile(codes + begin, n, bits, metas[t], out + begin);
  }
}

/// Bytes of `count` n-bit codes packed densely: ceil(count x bits / 8).
COBENCH_HD constexpr std::int64_t logfmt_packed_bytes(std::int64_t count, int bits) {
  return (count * bits + 7) / 8;
}

/// Packs `count` codes of `bits` bits into a little-endian bit stream: code i occupies stream
/// bits [i x bits, (i + 1) x bits), least significant bit first; byte j holds stream bits
/// 8j .. 8j + 7 (bit 8j in its least significant bit). Unused high bits of the last byte are 0.
COBENCH_HD inline void logfmt_pack(const std::uint16_t* codes, std::int64_t count, int bits,
                                   std::uint8_t* out) {
  const std::uint32_t mask = (1u << bits) - 1u;
  std::uint32_t acc = 0;
  int filled = 0;
  std::int64_t j = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    acc |= (codes[i] & mask) << filled;
    filled += bits;
    while (filled >= 8) {
      out[j++] = static_cast<std::uint8_t>(acc & 0xFFu);
      acc >>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) out[j] = static_cast<std::uint8_t>(acc & 0xFFu);
}

/// Unpacks `count` codes of `bits` bits written by logfmt_pack.
COBENCH_HD inline void logfmt_unpack(const std::uint8_t* in, std::int64_t count, int bits,
                                     std::uint16_t* codes) {
  const std::uint32_t mask = (1u << bits) - 1u;
  std::uint32_t acc = 0;
  int filled = 0;
  std::int64_t j = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    while (filled < bits) {
      acc |= static_cast<std::uint32_t>(in[j++]) << filled;
      filled += 8;
    }
    codes[i] = static_cast<std::uint16_t>(acc & mask);
    acc >>= bits;
    filled -= bits;
  }
}

}  // namespace cobench::num
