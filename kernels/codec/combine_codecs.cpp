// SPDX-License-Identifier: Apache-2.0
#include "kernels/codec/combine_codecs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/ep_payload.h"
#include "core/error.h"
#include "kernels/numerics/exmy.h"
#include "kernels/numerics/fp8.h"
#include "kernels/numerics/logfmt.h"

namespace cobench::codec {
namespace {

constexpr std::int64_t kTile = num::kLogFmtTileSize;  // 128: every format's metadata tile

int logfmt_bits_of(CombineCodec c) {
  return c == CombineCodec::kLogFmt8 ? 8 : c == CombineCodec::kLogFmt10 ? 10 : 0;
}

void minifloat_tile(const num::MinifloatFormat& f, const float* x, std::int64_t n, float* out) {
  float amax = 0;
  for (std::int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  // A power-of-two scale that brings amax to at most the largest finite value.
  const float scale = num::minifloat_pow2_scale(f, amax);
  for (std::int64_t i = 0; i < n; ++i)
    out[i] =
        num::decode_minifloat(num::encode_minifloat(x[i] / scale, f, num::Overflow::kSaturate), f) *
        scale;
}

}  // namespace

const num::MinifloatFormat* minifloat_of(CombineCodec c) {
  switch (c) {
    case CombineCodec::kE4M3:
      return &num::kMinifloatE4M3;
    case CombineCodec::kE5M2:
      return &num::kMinifloatE5M2;
    case CombineCodec::kE5M6:
      return &num::kMinifloatE5M6;
    default:
      return nullptr;
  }
}

const char* to_string(CombineCodec c) {
  switch (c) {
    case CombineCodec::kBf16:
      return "bf16";
    case CombineCodec::kE4M3:
      return "e4m3";
    case CombineCodec::kE5M2:
      return "e5m2";
    case CombineCodec::kE5M6:
      return "e5m6";
    case CombineCodec::kLogFmt8:
      return "logfmt8";
    case CombineCodec::kLogFmt10:
      return "logfmt10";
  }
  return "?";
}

CombineCodec parse_combine_codec(const std::string& name) {
  for (CombineCodec c : kAllCombineCodecs)
    if (name == to_string(c)) return c;
  throw Error(fmt::format(
      "unknown combine format '{}': expected bf16, e4m3, e5m2, e5m6, logfmt8 or logfmt10", name));
}

double payload_bytes(CombineCodec c, std::int64_t hidden) {
  return ep_payload_bytes(*find_ep_wire_format(to_string(c)), static_cast<double>(hidden));
}

double max_tile_error_bound(CombineCodec c) {
  if (c == CombineCodec::kBf16) return std::exp2(-8.0);
  if (const num::MinifloatFormat* f = minifloat_of(c)) return std::exp2(-(f->mant_bits + 1.0));
  const int bits = logfmt_bits_of(c);
  const double step = num::kLogFmtMaxBinades / static_cast<double>(num::logfmt_top_code(bits) - 1);
  return (std::exp2(step) - 1) / 2;
}

void round_trip(CombineCodec c, const float* x, std::int64_t n, float* out) {
  if (c == CombineCodec::kBf16) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = num::decode_bf16(num::encode_bf16(x[i]));
    return;
  }
  if (const num::MinifloatFormat* f = minifloat_of(c)) {
    for (std::int64_t b = 0; b < n; b += kTile)
      minifloat_tile(*f, x + b, std::min(kTile, n - b), out + b);
    return;
  }
  const int bits = logfmt_bits_of(c);
  std::vector<std::uint16_t> codes(static_cast<std::size_t>(n));
  std::vector<num::LogFmtTileMeta> metas(static_cast<std::size_t>(num::logfmt_num_tiles(n)));
  if (num::logfmt_encode_row(x, n, bits, num::LogFmtRounding::kLinear, codes.data(),
                             metas.data()) != num::LogFmtStatus::kOk)
    throw Error("LogFMT: a payload value is not finite");
  num::logfmt_decode_row(codes.data(), n, bits, metas.data(), out);
}

const char* to_string(Payload p) {
  switch (p) {
    case Payload::kGaussian:
      return "gaussian";
    case Payload::kStudentT:
      return "student_t3";
    case Payload::kLogNormal:
      return "lognormal";
    case Payload::kOutlierChannel:
      return "outlier_channel";
  }
  return "?";
}

std::vector<float> payload_rows(Payload p, std::int64_t rows, std::int64_t hidden,
                                std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::student_t_distribution<double> student(3.0);
  std::vector<float> out(static_cast<std::size_t>(rows * hidden));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < hidden; ++i) {
      double v = 0;
      switch (p) {
        case Payload::kGaussian:
          v = normal(rng);
          break;
        case Payload::kStudentT:
          v = student(rng);
          break;
        case Payload::kLogNormal:
          v = std::exp(2.0 * normal(rng)) * (rng() & 1 ? 1.0 : -1.0);
          break;
        case Payload::kOutlierChannel:
          v = normal(rng) * (i == 7 ? 100.0 : 1.0);
          break;
      }
      out[static_cast<std::size_t>(r * hidden + i)] = static_cast<float>(v);
    }
  return out;
}

CombineError combine_error(CombineCodec c, Payload p, std::int64_t tokens, std::int64_t hidden,
                           int top_k, std::uint64_t seed) {
  if (tokens < 1 || hidden < 1 || top_k < 1)
    throw Error(fmt::format("combine_error: tokens {}, hidden {} and top-k {} must be >= 1", tokens,
                            hidden, top_k));
  const std::vector<float> outputs = payload_rows(p, tokens * top_k, hidden, seed);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_real_distribution<double> gate(0.5, 1.5);
  const auto h = static_cast<std::size_t>(hidden);
  std::vector<float> partial(h), decoded(h), combined(h);
  std::vector<double> exact(h);
  double err2 = 0, ref2 = 0, max_tile_rel = 0, sum_err2 = 0, sum_ref2 = 0, sum_err = 0;
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::vector<double> w(static_cast<std::size_t>(top_k));
    double total = 0;
    for (double& x : w) total += x = gate(rng);
    std::fill(combined.begin(), combined.end(), 0.0f);
    std::fill(exact.begin(), exact.end(), 0.0);
    for (int j = 0; j < top_k; ++j) {
      const float* y = outputs.data() + static_cast<std::size_t>(t * top_k + j) * h;
      const double g = w[static_cast<std::size_t>(j)] / total;
      for (std::size_t i = 0; i < h; ++i) partial[i] = static_cast<float>(g * y[i]);
      round_trip(c, partial.data(), hidden, decoded.data());
      for (std::size_t b = 0; b < h; b += kTile) {
        double amax = 0, emax = 0;
        for (std::size_t i = b; i < std::min(h, b + kTile); ++i) {
          amax = std::max(amax, std::fabs(static_cast<double>(partial[i])));
          emax = std::max(emax, std::fabs(static_cast<double>(decoded[i]) - partial[i]));
        }
        if (amax > 0) max_tile_rel = std::max(max_tile_rel, emax / amax);
      }
      for (std::size_t i = 0; i < h; ++i) {
        const double d = static_cast<double>(decoded[i]) - partial[i];
        err2 += d * d;
        ref2 += static_cast<double>(partial[i]) * partial[i];
        combined[i] += decoded[i];  // FP32, as combine reduces
        exact[i] += partial[i];
      }
    }
    for (std::size_t i = 0; i < h; ++i) {
      const double d = static_cast<double>(combined[i]) - exact[i];
      sum_err2 += d * d;
      sum_err += d;
      sum_ref2 += exact[i] * exact[i];
    }
  }
  const double n = static_cast<double>(tokens * hidden);
  CombineError e;
  e.partial_rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : 0;
  e.partial_max_tile_rel = max_tile_rel;
  e.combined_rel_l2 = sum_ref2 > 0 ? std::sqrt(sum_err2 / sum_ref2) : 0;
  e.combined_bias = sum_ref2 > 0 ? (sum_err / n) / std::sqrt(sum_ref2 / n) : 0;
  e.bytes_per_token = payload_bytes(c, hidden);
  return e;
}

}  // namespace cobench::codec
