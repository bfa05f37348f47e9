// SPDX-License-Identifier: Apache-2.0
// The fast combine codecs' AVX2 source through SIMDe's portable code: built with the project's
// default flags, it runs on any CPU (and is what kAuto runs where there is neither AVX2 + FMA nor
// AVX-512F).
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include <math.h>

#include <cstdint>

#include "kernels/codec/combine_codecs_simd_kernels.h"

namespace {
#include "kernels/codec/combine_codecs_vec_avx2.inc"
// The kernels, in the vocabulary above.
#include "kernels/codec/combine_codecs_tile.inc"
}  // namespace

namespace cobench::codec::simd {

TileKernels tile_kernels_portable() {
  return {bf16_rows, scan_tile, minifloat_tile, logfmt_tile, "portable"};
}

}  // namespace cobench::codec::simd
