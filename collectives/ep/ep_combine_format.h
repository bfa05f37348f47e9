// SPDX-License-Identifier: Apache-2.0
// The formats an EP combine payload (one token copy's H partial-sum values) can travel in
// (`cobench_ep --combine-format`), as the DeepSeek-V3 ISCA 2025 paper (arXiv 2505.09343, section
// 3.2) discusses them. Each payload is the packed codes of the H values, then the metadata of
// each 1 x 128 tile (the last one partial when H is not a multiple of 128); its size is
// core/ep_payload.h's (the model counts with the same table):
//   bf16      2 B a value                                         14336 B at H = 7168
//   fp8       E4M3, 1 B a value, + an FP32 power-of-two scale      7168 + 56 x 4 = 7392 B
//             a tile (as the dispatch payload's size)
//   e5m6      E5M6 (exmy.h), 12-bit codes packed (3 B for two       10752 + 56 x 4 = 10976 B
//             values), + an FP32 power-of-two scale a tile
//   logfmt8   LogFMT-8 (logfmt.h): 8-bit codes packed + the tile's  7168 + 56 x 8 = 7616 B
//             (min, step) as two FP32
//   logfmt10  LogFMT-10: 10-bit codes packed + (min, step)          8960 + 56 x 8 = 9408 B
// Codes are packed with logfmt_pack's bit order (least significant bit first); every full tile
// starts on a byte (128 x bits / 8 = 16 x bits bytes). The power-of-two scale of a tile is the
// least 2^k >= amax / max finite (448 for E4M3, 65024 for E5M6), k >= -126; an all-zero tile has
// scale 1. LogFMT rounds in linear space (the paper's rule).
//
// Error bound of one encode/decode, per value v of a tile whose largest magnitude is A:
//   |decode(encode(v)) - v| <= rel |v| + amax_rel A       (CombineErrorBound)
//   bf16      rel = 2^-8: round to nearest with 8 significant bits is within half an ulp,
//             2^-8 of |v|; amax_rel = 0 (BF16 has FP32's exponent range).
//   fp8       rel = 2^-4 (3 mantissa bits: half an ulp of a normal); a value below the least
//             normal of the scaled tile is within half the subnormal spacing, 2^-10 s, and the
//             scale s < 2 A / 448, so amax_rel = 2^-9 / 448. A / s <= 448: nothing saturates.
//   e5m6      rel = 2^-7 (6 mantissa bits), amax_rel = 2^-21 x 2 / 65024 (subnormal spacing
//             2^-20 of the scaled tile).
//   logfmt-n  between two codes lo <= |v| < hi = lo 2^Step the nearer in linear space is within
//             (hi - lo) / 2 = lo (2^Step - 1) / 2 <= |v| (2^Step - 1) / 2, and Step is at most
//             32 / (2^(n-1) - 2) binades (the 2^32 range clip): rel = (2^Step - 1) / 2 =
//             0.0962 (n = 8), 0.0222 (n = 10). Below the least code 2^min = A 2^-32 (a clipped
//             tile) the nearer of 0 and 2^min is within 2^min / 2: amax_rel = 2^-33.
#pragma once

#include <cstddef>
#include <string>

namespace cobench::coll::ep {

enum class CombineFormat { kBf16, kFp8, kE5M6, kLogFmt8, kLogFmt10 };
inline constexpr CombineFormat kAllCombineFormats[] = {
    CombineFormat::kBf16, CombineFormat::kFp8, CombineFormat::kE5M6, CombineFormat::kLogFmt8,
    CombineFormat::kLogFmt10};

/// "bf16", "fp8", "e5m6", "logfmt8", "logfmt10": the names --combine-format takes.
const char* to_string(CombineFormat f);
/// "bf16, fp8, e5m6, logfmt8, logfmt10".
std::string combine_format_names();
/// The inverse of to_string; throws cobench::UsageError naming --combine-format otherwise.
CombineFormat parse_combine_format(const std::string& name);
/// For reports: "BF16", "FP8 E4M3 + an FP32 power-of-two scale a 128", ...
const char* describe(CombineFormat f);

/// Bytes of one token copy of `hidden` values (core/ep_payload.h's count).
std::size_t combine_payload_bytes(CombineFormat f, int hidden);

/// Writes the payload of `hidden` values at `out` (combine_payload_bytes bytes). A tile holding
/// a NaN or infinity (a corrupted input) travels as NaNs: BF16 keeps each value as it is; the
/// other formats write a NaN scale (or LogFMT min) so every value of that tile decodes to NaN,
/// and verification fails rather than the encoder throwing.
void encode_combine(CombineFormat f, const float* v, int hidden, std::byte* out);
/// dst[i] += value i of the payload at `in` (`hidden` values).
void decode_add_combine(CombineFormat f, const std::byte* in, int hidden, float* dst);

/// |decode(encode(v)) - v| <= rel |v| + amax_rel A for v in a tile of largest magnitude A
/// (derived in the header comment).
struct CombineErrorBound {
  double rel = 0;
  double amax_rel = 0;
};
CombineErrorBound combine_error_bound(CombineFormat f);

}  // namespace cobench::coll::ep
