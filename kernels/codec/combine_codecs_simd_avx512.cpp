// SPDX-License-Identifier: Apache-2.0
// The fast combine codecs' AVX-512F kernels, natively: this file alone is built with -mavx512f
// (SIMDe then emits the native instructions); combine_codecs_simd.cpp calls them only where the
// CPU has AVX-512F. Only plain functions cross out of it (no template another file instantiates).
#include <simde/x86/avx512.h>

#include <math.h>

#include <cstdint>

#include "kernels/codec/combine_codecs_simd_kernels.h"

#if !defined(SIMDE_X86_AVX512F_NATIVE)
#error "combine_codecs_simd_avx512.cpp must be built with -mavx512f (kernels/CMakeLists.txt)"
#endif

namespace {
#include "kernels/codec/combine_codecs_vec_avx512.inc"
// The kernels, in the vocabulary above.
#include "kernels/codec/combine_codecs_tile.inc"
}  // namespace

namespace cobench::codec::simd {

TileKernels tile_kernels_avx512() {
  return {bf16_rows, scan_tile, minifloat_tile, logfmt_tile, "avx512f"};
}

}  // namespace cobench::codec::simd
