// SPDX-License-Identifier: Apache-2.0
// Internal to the fast combine codecs (combine_codecs_simd.h): the per-ISA tile kernels, each
// compiled from combine_codecs_tile.inc in its own file with its own flags, and the driver that
// runs any set of them over a row (also used by the test on the AVX-512 source through SIMDe's
// portable code). No SIMDe type crosses this interface.
#pragma once

#include <cstdint>

#include "kernels/codec/combine_codecs.h"

namespace cobench::codec::simd {

inline constexpr int kTile = 128;
inline constexpr int kMaxLogFmtCodes = 512;  ///< LogFMT-10: codes 0 .. 511

/// A scaled minifloat tile's parameters (num::MinifloatFormat's, and the tile's scale).
struct MinifloatTile {
  float scale;       ///< num::minifloat_pow2_scale of the tile's largest magnitude
  float max_finite;  ///< the format's largest finite value
  int mant_bits;
  int bias;
};

/// The kernels of one ISA. They take the per-tile scalars from the caller, which computes them
/// with the reference's own functions (combine_codecs_tile.inc says why).
struct TileKernels {
  /// BF16 round trip of the first values of x, whole vectors only: returns how many it did.
  std::int64_t (*bf16)(const float* x, std::int64_t n, float* out);
  /// A tile's largest |x| and smallest nonzero |x| (+inf if none); false if any is not finite.
  bool (*scan)(const float* x, float* amax, float* amin_nonzero);
  /// One full tile of a scaled minifloat (finite values).
  void (*minifloat)(const float* x, float* out, const MinifloatTile& f);
  /// One full tile of LogFMT-`bits` (8 or 10) under the tile's metadata (min, step); false, with
  /// nothing written, where the decoded grid is not nondecreasing.
  bool (*logfmt)(const float* x, float* out, int bits, float min, float step);
  const char* name;
};

TileKernels tile_kernels_portable();
#if defined(__x86_64__)
TileKernels tile_kernels_avx2();    // needs AVX2 and FMA
TileKernels tile_kernels_avx512();  // needs AVX-512F
#endif

/// round_trip(c, x, n, out) through `k`, tile by tile (partial tiles padded, non-finite tiles
/// as the reference).
void round_trip_with(const TileKernels& k, CombineCodec c, const float* x, std::int64_t n,
                     float* out);

}  // namespace cobench::codec::simd
