// SPDX-License-Identifier: Apache-2.0
// The FP32 driver's B packing with AVX-512F or AVX2 (included by fp8_gemm_cpu.cpp only; the
// functions carry their own target attributes and run only where the CPU has the extension). One
// full K block of a full N panel (kBlockK x kTileN) into micro-panels nr columns wide: a gather
// reads 4 codes from each of 16 (8) rows of B, and each code is decoded arithmetically: the FP8
// exponent and mantissa moved under FP32's, times 2^(127 - FP8 bias) (exact, subnormals included),
// with infinities and NaNs patched in; then times the block's scale, the same product the table
// path rounds.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm/fp8_gemm_cpu_tile.h"

// GCC 12 flags the _mm512_undefined_* inside its own AVX-512 intrinsics as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cobench::gemm::cpu_pack {

using cpu_tile::kBlockK;
using cpu_tile::kTileN;

// Per FP8 format: where the exponent goes, the rebias factor, the first code (of 7 bits) that is
// infinite or NaN, and the infinite one (none in E4M3).
template <bool kE5m2>
struct Fp8Bits {
  static constexpr int kShift = kE5m2 ? 21 : 20;
  static constexpr float kRebias = kE5m2 ? 0x1p112f : 0x1p120f;
  static constexpr int kSpecial = kE5m2 ? 0x7c : 0x7f;
  static constexpr int kInfinity = kE5m2 ? 0x7c : 0x100;
};

// 16 codes (one a 32-bit lane) decoded, times s, stored (aligned) at out.
template <bool kE5m2>
__attribute__((target("avx512f"))) inline void decode_avx512(__m512i c, __m512 s, float* out) {
  using F = Fp8Bits<kE5m2>;
  const __m512i low7 = _mm512_set1_epi32(0x7f);
  const __m512i m = _mm512_and_si512(c, low7);
  const __m512i sign = _mm512_slli_epi32(_mm512_andnot_si512(low7, c), 24);
  __m512 v =
      _mm512_mul_ps(_mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(m, F::kShift), sign)),
                    _mm512_set1_ps(F::kRebias));
  const __mmask16 odd = _mm512_cmpge_epi32_mask(m, _mm512_set1_epi32(F::kSpecial));
  if (odd != 0) {  // infinity: all exponent bits; NaN: and the quiet bit
    const __mmask16 is_inf = _mm512_cmpeq_epi32_mask(m, _mm512_set1_epi32(F::kInfinity));
    const __m512i top = _mm512_or_si512(sign, _mm512_set1_epi32(0x7f800000));
    const __m512i bits = _mm512_mask_or_epi32(top, static_cast<__mmask16>(~is_inf), top,
                                              _mm512_set1_epi32(0x00400000));
    v = _mm512_mask_blend_ps(odd, v, _mm512_castsi512_ps(bits));
  }
  _mm512_store_ps(out, _mm512_mul_ps(v, s));
}

// bt[(j / nr) x panel_stride + k x nr + j % nr] = scale x B[n0 + j][k0 + k] for k < kBlockK,
// j < kTileN: codes at B[n0][k0], rows k_stride apart (k_stride x kTileN < 2^31); nr a multiple of
// 16 (8 for AVX2), bt and panel_stride 64-byte aligned.
template <bool kE5m2>
__attribute__((target("avx512f"))) void pack_b_avx512(const std::uint8_t* codes,
                                                      std::int64_t k_stride, float scale, float* bt,
                                                      std::int64_t nr, std::int64_t panel_stride) {
  const __m512i byte = _mm512_set1_epi32(0xff);
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i rows =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(k_stride)));
  for (std::int64_t j = 0; j < kTileN; j += 16) {
    const __m512i idx = _mm512_add_epi32(rows, _mm512_set1_epi32(static_cast<int>(j * k_stride)));
    for (std::int64_t k = 0; k < kBlockK; k += 4) {
      const __m512i four = _mm512_i32gather_epi32(idx, codes + k, 1);
      float* out = bt + (j / nr) * panel_stride + k * nr + j % nr;
      decode_avx512<kE5m2>(_mm512_and_si512(four, byte), s, out);
      decode_avx512<kE5m2>(_mm512_and_si512(_mm512_srli_epi32(four, 8), byte), s, out + nr);
      decode_avx512<kE5m2>(_mm512_and_si512(_mm512_srli_epi32(four, 16), byte), s, out + 2 * nr);
      decode_avx512<kE5m2>(_mm512_srli_epi32(four, 24), s, out + 3 * nr);
    }
  }
}

// decode_avx512 with AVX2, 8 codes.
template <bool kE5m2>
__attribute__((target("avx2,fma"))) inline void decode_avx2(__m256i c, __m256 s, float* out) {
  using F = Fp8Bits<kE5m2>;
  const __m256i low7 = _mm256_set1_epi32(0x7f);
  const __m256i m = _mm256_and_si256(c, low7);
  const __m256i sign = _mm256_slli_epi32(_mm256_andnot_si256(low7, c), 24);
  __m256 v =
      _mm256_mul_ps(_mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(m, F::kShift), sign)),
                    _mm256_set1_ps(F::kRebias));
  const __m256i odd = _mm256_cmpgt_epi32(m, _mm256_set1_epi32(F::kSpecial - 1));
  if (!_mm256_testz_si256(odd, odd)) {
    const __m256i nan = _mm256_andnot_si256(_mm256_cmpeq_epi32(m, _mm256_set1_epi32(F::kInfinity)),
                                            _mm256_set1_epi32(0x00400000));
    const __m256i bits = _mm256_or_si256(_mm256_or_si256(sign, _mm256_set1_epi32(0x7f800000)), nan);
    v = _mm256_blendv_ps(v, _mm256_castsi256_ps(bits), _mm256_castsi256_ps(odd));
  }
  _mm256_store_ps(out, _mm256_mul_ps(v, s));
}

// pack_b_avx512 with AVX2, 8 rows a gather.
template <bool kE5m2>
__attribute__((target("avx2,fma"))) void pack_b_avx2(const std::uint8_t* codes,
                                                     std::int64_t k_stride, float scale, float* bt,
                                                     std::int64_t nr, std::int64_t panel_stride) {
  const __m256i byte = _mm256_set1_epi32(0xff);
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                          _mm256_set1_epi32(static_cast<int>(k_stride)));
  for (std::int64_t j = 0; j < kTileN; j += 8) {
    const __m256i idx = _mm256_add_epi32(rows, _mm256_set1_epi32(static_cast<int>(j * k_stride)));
    for (std::int64_t k = 0; k < kBlockK; k += 4) {
      const __m256i four = _mm256_i32gather_epi32(reinterpret_cast<const int*>(codes + k), idx, 1);
      float* out = bt + (j / nr) * panel_stride + k * nr + j % nr;
      decode_avx2<kE5m2>(_mm256_and_si256(four, byte), s, out);
      decode_avx2<kE5m2>(_mm256_and_si256(_mm256_srli_epi32(four, 8), byte), s, out + nr);
      decode_avx2<kE5m2>(_mm256_and_si256(_mm256_srli_epi32(four, 16), byte), s, out + 2 * nr);
      decode_avx2<kE5m2>(_mm256_srli_epi32(four, 24), s, out + 3 * nr);
    }
  }
}

}  // namespace cobench::gemm::cpu_pack

#pragma GCC diagnostic pop

#endif  // __x86_64__
