// SPDX-License-Identifier: Apache-2.0
// The fast combine codecs' AVX2 + FMA kernels, natively: this file alone is built with -mavx2
// -mfma (SIMDe then emits the native instructions); combine_codecs_simd.cpp calls them only where
// the CPU has both. Only plain functions cross out of it (no template another file instantiates).
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include <math.h>

#include <cstdint>

#include "kernels/codec/combine_codecs_simd_kernels.h"

#if !defined(SIMDE_X86_AVX2_NATIVE) || !defined(SIMDE_X86_FMA_NATIVE)
#error "combine_codecs_simd_avx2.cpp must be built with -mavx2 -mfma (kernels/CMakeLists.txt)"
#endif

namespace {
#include "kernels/codec/combine_codecs_vec_avx2.inc"
// The kernels, in the vocabulary above.
#include "kernels/codec/combine_codecs_tile.inc"
}  // namespace

namespace cobench::codec::simd {

TileKernels tile_kernels_avx2() {
  return {bf16_rows, scan_tile, minifloat_tile, logfmt_tile, "avx2-fma"};
}

}  // namespace cobench::codec::simd
