// SPDX-License-Identifier: Apache-2.0
// Fast CPU round trips of the combine payload formats (combine_codecs.h), bit for bit equal to the
// reference round_trip: BF16, the scaled minifloats (E4M3, E5M2, E5M6) and LogFMT-8/10, vectorized
// over each 128-value tile through SIMDe's x86 API, chosen at run time (AVX-512F, AVX2 + FMA, or
// SIMDe's portable code of the AVX2 source). How each stays exact:
//   BF16, minifloats  round to nearest even by integer adds on the float's bits (normal results)
//                     and by adding a power of two whose ulp is the format's least subnormal
//                     (subnormal results)
//   LogFMT            per tile, the table of every code's decoded magnitude (min x exp2f((k-1)
//                     Step)): exp2 in double precision, rounded to float, and wherever that double
//                     lies within 2^-7 float ulp of a rounding midpoint the C library's exp2f
//                     itself (glibc's exp2f is within 0.502 ulp, 0.0017 ulp before rounding, so
//                     elsewhere both round the same way); each value's code is then the largest k
//                     with table[k] <= |x| (guessed from an approximate log2 and checked against
//                     the table, a binary search where the guess is off by more than one), rounded
//                     up where |x| - table[k] >= table[k + 1] - |x| (both differences exact by
//                     Sterbenz: codes are less than a binade apart for 8 and 10 bits), which is the
//                     reference's linear rounding. A tile whose table is not nondecreasing (not
//                     seen: it would need exp2f to be non-monotonic) goes through the reference.
//   minifloat scale   2^ceil(log2f(amax / max finite)) from the exponent bits where log2f cannot
//                     round across an integer, else by the reference's own function.
// A tile holding a NaN or infinity goes through the reference (minifloats) or is refused as the
// reference refuses it (LogFMT: cobench::Error). A partial last tile is padded with zeros, which
// change neither a tile's largest magnitude nor LogFMT's smallest nonzero one.
#pragma once

#include <cstdint>

#include "kernels/codec/combine_codecs.h"

namespace cobench::codec {

enum class CodecIsa {
  kAuto,      ///< the best the CPU has: AVX-512F, else AVX2 + FMA, else portable
  kPortable,  ///< the AVX2 source through SIMDe's portable code (any CPU)
  kAvx2Fma,   ///< 8 lanes, built with -mavx2 -mfma
  kAvx512f,   ///< 16 lanes, built with -mavx512f
};
inline constexpr CodecIsa kAllCodecIsas[] = {CodecIsa::kPortable, CodecIsa::kAvx2Fma,
                                             CodecIsa::kAvx512f};

/// "auto", "portable", "avx2-fma", "avx512f".
const char* to_string(CodecIsa isa);
/// Whether this CPU (and build) can run `isa`; kAuto and kPortable always.
bool codec_isa_supported(CodecIsa isa);
/// What kAuto runs on this CPU.
CodecIsa best_codec_isa();

/// round_trip(c, x, n, out) bit for bit, faster (`out` may be `x`). Throws cobench::Error for an
/// `isa` this CPU lacks, and as round_trip does for a non-finite LogFMT input.
void round_trip_fast(CombineCodec c, const float* x, std::int64_t n, float* out,
                     CodecIsa isa = CodecIsa::kAuto);

}  // namespace cobench::codec
