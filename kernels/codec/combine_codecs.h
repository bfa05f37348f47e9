// SPDX-License-Identifier: Apache-2.0
// The formats a MoE combine payload can travel in (paper section 3.2) and what each costs in
// accuracy and bytes: BF16 (what DeepSeek-V3 sends), FP8 E4M3 and E5M2 and E5M6 with a
// power-of-two scale per 1 x 128 tile (as dispatch scales FP8), and LogFMT-8 and -10
// (kernels/numerics/logfmt.h). The accuracy study draws synthetic expert outputs, weights them
// by gate probabilities, round-trips each weighted partial through a format, sums the top-k
// partials in FP32 as combine does, and compares with the FP64 sum of the exact partials.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cobench::num {
struct MinifloatFormat;
}

namespace cobench::codec {

enum class CombineCodec { kBf16, kE4M3, kE5M2, kE5M6, kLogFmt8, kLogFmt10 };
inline constexpr CombineCodec kAllCombineCodecs[] = {
    CombineCodec::kBf16, CombineCodec::kE4M3,    CombineCodec::kE5M2,
    CombineCodec::kE5M6, CombineCodec::kLogFmt8, CombineCodec::kLogFmt10};
/// "bf16", "e4m3", "e5m2", "e5m6", "logfmt8", "logfmt10".
const char* to_string(CombineCodec c);
/// The inverse; throws cobench::Error naming the accepted names.
CombineCodec parse_combine_codec(const std::string& name);

/// The scaled minifloat a codec sends (E4M3, E5M2, E5M6; kernels/numerics/exmy.h); nullptr for
/// BF16 and LogFMT.
const num::MinifloatFormat* minifloat_of(CombineCodec c);

/// Bytes one token's payload of `hidden` values takes: the codes (bits x hidden / 8) and the
/// per-tile metadata: an FP32 scale a 128 for the minifloats, LogFMT's two FP32 (min, step).
/// BF16: 2 hidden (14336 at 7168); E4M3: hidden + 4 hidden / 128 (7392); LogFMT-10: 1.25 hidden
/// + 8 hidden / 128 (9408).
double payload_bytes(CombineCodec c, std::int64_t hidden);

/// Encodes and decodes one row of `n` finite values (`out` may be `x`). Minifloat tiles take
/// the scale 2^ceil(log2(amax / max finite)), so the tile's largest value does not overflow.
void round_trip(CombineCodec c, const float* x, std::int64_t n, float* out);

/// The largest error a value may take in a tile, over the tile's largest magnitude, from the
/// format's definition: half an ulp of the significand for BF16 (2^-8) and the scaled minifloats
/// (2^-(M+1): E4M3 1/16, E5M2 1/8, E5M6 1/128); for LogFMT-n half the widest gap between codes,
/// (2^Step - 1) / 2 with Step at most 32 / (2^(n-1) - 2) binades (n = 10: 0.0222; n = 8:
/// 0.0963).
double max_tile_error_bound(CombineCodec c);

/// Synthetic expert outputs (one row of `hidden` values an expert and token):
///   kGaussian       N(0, 1): the bulk of an FFN's output
///   kStudentT       Student-t with 3 degrees of freedom: heavy tails
///   kLogNormal      random sign, |x| = exp(N(0, 2)): magnitudes over ~17 binades
///   kOutlierChannel N(0, 1) with channel 7 x 100: one "massive activation" a row
enum class Payload { kGaussian, kStudentT, kLogNormal, kOutlierChannel };
inline constexpr Payload kAllPayloads[] = {Payload::kGaussian, Payload::kStudentT,
                                           Payload::kLogNormal, Payload::kOutlierChannel};
const char* to_string(Payload p);

/// `rows` x `hidden` values of `p` from a seeded generator (the same on every run of a build).
std::vector<float> payload_rows(Payload p, std::int64_t rows, std::int64_t hidden,
                                std::uint64_t seed);

struct CombineError {
  /// || decoded - exact || / || exact || over every weighted partial sent.
  double partial_rel_l2 = 0;
  /// The largest |decoded - exact| in a tile over that tile's largest |exact|.
  double partial_max_tile_rel = 0;
  /// || combined - exact sum || / || exact sum || over the tokens' top-k reductions.
  double combined_rel_l2 = 0;
  /// mean(combined - exact sum) / rms(exact sum): a systematic shift of the reduction.
  double combined_bias = 0;
  double bytes_per_token = 0;  ///< payload_bytes of one partial
};

/// `tokens` tokens, each `top_k` expert outputs of `p` weighted by gate probabilities (uniform
/// in [0.5, 1.5], normalized to sum 1), each weighted partial round-tripped through `c` and the
/// partials summed in FP32; errors against the FP64 sums of the exact partials.
CombineError combine_error(CombineCodec c, Payload p, std::int64_t tokens, std::int64_t hidden,
                           int top_k, std::uint64_t seed);

}  // namespace cobench::codec
