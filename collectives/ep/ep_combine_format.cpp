// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_combine_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/ep_payload.h"
#include "core/error.h"
#include "kernels/numerics/exmy.h"
#include "kernels/numerics/fp8.h"
#include "kernels/numerics/logfmt.h"

namespace cobench::coll::ep {

namespace {

constexpr int kTile = num::kLogFmtTileSize;  // 128: every format's metadata tile

// core/ep_payload.h's name of the format (its byte count).
const char* wire_name(CombineFormat f) { return f == CombineFormat::kFp8 ? "e4m3" : to_string(f); }

const num::MinifloatFormat* minifloat_of(CombineFormat f) {
  if (f == CombineFormat::kFp8) return &num::kMinifloatE4M3;
  if (f == CombineFormat::kE5M6) return &num::kMinifloatE5M6;
  return nullptr;
}

int logfmt_bits_of(CombineFormat f) {
  return f == CombineFormat::kLogFmt8 ? 8 : f == CombineFormat::kLogFmt10 ? 10 : 0;
}

// Bits of one value's code.
int code_bits(CombineFormat f) {
  if (const num::MinifloatFormat* m = minifloat_of(f)) return num::minifloat_bits(*m);
  return f == CombineFormat::kBf16 ? 16 : logfmt_bits_of(f);
}

// Bytes of per-tile metadata.
std::size_t meta_bytes(CombineFormat f) {
  return minifloat_of(f) != nullptr ? 4 : logfmt_bits_of(f) != 0 ? 8 : 0;
}

double max_finite(const num::MinifloatFormat& m) {
  return num::decode_minifloat(static_cast<std::uint16_t>(num::minifloat_max_finite_code(m)), m);
}

// The least power of two 2^k >= amax / max (k >= -126, a normal float); 1 for amax = 0.
float pow2_scale(float amax, double max) {
  if (!(amax > 0)) return 1.0f;
  int k = static_cast<int>(std::ceil(std::log2(static_cast<double>(amax) / max)));
  // Exact comparisons in double (max x 2^k is exact) fix any rounding of log2.
  while (static_cast<double>(amax) > std::ldexp(max, k)) ++k;
  while (k > -126 && static_cast<double>(amax) <= std::ldexp(max, k - 1)) --k;
  return std::ldexp(1.0f, std::max(k, -126));
}

bool all_finite(const float* v, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

}  // namespace

const char* to_string(CombineFormat f) {
  switch (f) {
    case CombineFormat::kBf16:
      return "bf16";
    case CombineFormat::kFp8:
      return "fp8";
    case CombineFormat::kE5M6:
      return "e5m6";
    case CombineFormat::kLogFmt8:
      return "logfmt8";
    case CombineFormat::kLogFmt10:
      return "logfmt10";
  }
  return "?";
}

std::string combine_format_names() {
  std::string out;
  for (CombineFormat f : kAllCombineFormats)
    out += (out.empty() ? "" : ", ") + std::string(to_string(f));
  return out;
}

CombineFormat parse_combine_format(const std::string& name) {
  for (CombineFormat f : kAllCombineFormats)
    if (name == to_string(f)) return f;
  throw UsageError(
      fmt::format("--combine-format '{}': expected one of {}", name, combine_format_names()));
}

const char* describe(CombineFormat f) {
  switch (f) {
    case CombineFormat::kBf16:
      return "BF16";
    case CombineFormat::kFp8:
      return "FP8 E4M3 + an FP32 power-of-two scale a 128";
    case CombineFormat::kE5M6:
      return "E5M6 (12 bits packed) + an FP32 power-of-two scale a 128";
    case CombineFormat::kLogFmt8:
      return "LogFMT-8 (8 bits + FP32 min and step a 128)";
    case CombineFormat::kLogFmt10:
      return "LogFMT-10 (10 bits packed + FP32 min and step a 128)";
  }
  return "?";
}

std::size_t combine_payload_bytes(CombineFormat f, int hidden) {
  return static_cast<std::size_t>(
      ep_payload_bytes(*find_ep_wire_format(wire_name(f)), static_cast<double>(hidden)));
}

void encode_combine(CombineFormat f, const float* v, int hidden, std::byte* out) {
  if (f == CombineFormat::kBf16) {
    for (int i = 0; i < hidden; ++i) {
      const std::uint16_t b = num::encode_bf16(v[i]);
      std::memcpy(out + 2 * static_cast<std::size_t>(i), &b, 2);
    }
    return;
  }
  const int bits = code_bits(f);
  const std::size_t meta_offset = static_cast<std::size_t>(num::logfmt_packed_bytes(hidden, bits));
  std::uint16_t codes[kTile];
  for (int t = 0; t * kTile < hidden; ++t) {
    const float* x = v + t * kTile;
    const int n = std::min(kTile, hidden - t * kTile);
    std::byte* meta = out + meta_offset + meta_bytes(f) * static_cast<std::size_t>(t);
    if (!all_finite(x, n)) {
      // Codes that decode to NaN under a NaN scale or a NaN least magnitude (code 1).
      const float nan = std::numeric_limits<float>::quiet_NaN(), zero = 0;
      std::fill(codes, codes + n, static_cast<std::uint16_t>(minifloat_of(f) != nullptr ? 0 : 1));
      std::memcpy(meta, &nan, 4);
      if (minifloat_of(f) == nullptr) std::memcpy(meta + 4, &zero, 4);
    } else if (const num::MinifloatFormat* m = minifloat_of(f)) {
      float amax = 0;
      for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float scale = pow2_scale(amax, max_finite(*m));
      for (int i = 0; i < n; ++i)
        codes[i] = num::encode_minifloat(x[i] / scale, *m, num::Overflow::kSaturate);
      std::memcpy(meta, &scale, 4);
    } else {
      num::LogFmtTileMeta tm;
      num::logfmt_encode_tile(x, n, bits, num::LogFmtRounding::kLinear, codes, &tm);
      std::memcpy(meta, &tm.min, 4);
      std::memcpy(meta + 4, &tm.step, 4);
    }
    num::logfmt_pack(
        codes, n, bits,
        reinterpret_cast<std::uint8_t*>(out) + static_cast<std::size_t>(t) * 16 * bits);
  }
}

void decode_add_combine(CombineFormat f, const std::byte* in, int hidden, float* dst) {
  if (f == CombineFormat::kBf16) {
    for (int i = 0; i < hidden; ++i) {
      std::uint16_t b = 0;
      std::memcpy(&b, in + 2 * static_cast<std::size_t>(i), 2);
      dst[i] += num::decode_bf16(b);
    }
    return;
  }
  const int bits = code_bits(f);
  const std::size_t meta_offset = static_cast<std::size_t>(num::logfmt_packed_bytes(hidden, bits));
  std::uint16_t codes[kTile];
  float values[kTile];
  for (int t = 0; t * kTile < hidden; ++t) {
    const int n = std::min(kTile, hidden - t * kTile);
    const std::byte* meta = in + meta_offset + meta_bytes(f) * static_cast<std::size_t>(t);
    num::logfmt_unpack(
        reinterpret_cast<const std::uint8_t*>(in) + static_cast<std::size_t>(t) * 16 * bits, n,
        bits, codes);
    if (const num::MinifloatFormat* m = minifloat_of(f)) {
      float scale = 0;
      std::memcpy(&scale, meta, 4);
      for (int i = 0; i < n; ++i) values[i] = num::decode_minifloat(codes[i], *m) * scale;
    } else {
      num::LogFmtTileMeta tm;
      std::memcpy(&tm.min, meta, 4);
      std::memcpy(&tm.step, meta + 4, 4);
      num::logfmt_decode_tile(codes, n, bits, tm, values);
    }
    float* d = dst + t * kTile;
    for (int i = 0; i < n; ++i) d[i] += values[i];
  }
}

CombineErrorBound combine_error_bound(CombineFormat f) {
  if (f == CombineFormat::kBf16) return {std::exp2(-8.0), 0.0};
  if (const num::MinifloatFormat* m = minifloat_of(f)) {
    // Half an ulp of a normal; half the subnormal spacing 2^(1 - bias - M) of a tile whose
    // scale is below 2 A / max.
    return {std::exp2(-(m->mant_bits + 1.0)),
            std::exp2(-(m->bias + m->mant_bits + 0.0)) * 2 / max_finite(*m)};
  }
  const int bits = logfmt_bits_of(f);
  const double step = num::kLogFmtMaxBinades / static_cast<double>(num::logfmt_top_code(bits) - 1);
  return {(std::exp2(step) - 1) / 2, std::exp2(-(num::kLogFmtMaxBinades + 1.0))};
}

}  // namespace cobench::coll::ep
