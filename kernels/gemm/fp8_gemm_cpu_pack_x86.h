// SPDX-License-Identifier: Apache-2.0
// The FP32 driver's A and B packing with AVX-512F or AVX2 (included by fp8_gemm_cpu.cpp and its
// test; the functions carry their own target attributes and run only where the CPU has the
// extension), without gathers: 64 (32) codes of each of 16 (8) rows loaded and the dwords
// transposed, so that a lane holds 4 consecutive k of one row; byte b of every lane then is one k
// of 16 (8) rows: 16 (8) columns of a B micro-panel, or the rows of an A micro-panel. Each code is
// decoded arithmetically: the FP8 exponent and mantissa moved under FP32's, times 2^(127 - FP8
// bias) x its scale (one exact factor, subnormals included: the same product the table path
// rounds); codes with an infinity or NaN take a slower path that patches them in.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/gemm/fp8_gemm_cpu_tile.h"

// GCC 12 flags the _mm512_undefined_* inside its own AVX-512 intrinsics as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cobench::gemm::cpu_pack {

using cpu_tile::kBlockK;
using cpu_tile::kTileN;

// How far ahead in a row of B the packing prefetches: two K blocks.
constexpr std::int64_t kPrefetchAhead = 2 * kBlockK;

// Per FP8 format: where the exponent goes, the rebias factor, the first code (of 7 bits) that is
// infinite or NaN, and the infinite one (none in E4M3).
template <bool kE5m2>
struct Fp8Bits {
  static constexpr int kShift = kE5m2 ? 21 : 20;
  static constexpr float kRebias = kE5m2 ? 0x1p112f : 0x1p120f;
  static constexpr int kSpecial = kE5m2 ? 0x7c : 0x7f;
  static constexpr int kInfinity = kE5m2 ? 0x7c : 0x100;
};

// v x s, stored at out: the lanes in `keep` (unaligned, masked: an A micro-panel's rows).
template <bool kE5m2>
__attribute__((target("avx512f"))) inline void decode_avx512(__m512i c, __m512 s, __mmask16 keep,
                                                             float* out) {
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
  _mm512_mask_storeu_ps(out, keep, _mm512_mul_ps(v, s));
}

// Whether kRebias x scale is exact (a power of two times scale: it does not overflow), so that the
// fast path's one product equals the table path's code x scale.
template <bool kE5m2>
inline bool fuses(float scale) {
  return !std::isinf(scale * Fp8Bits<kE5m2>::kRebias) || std::isinf(scale);
}

// Per byte, (code & 0x7f) + (0x80 - kSpecial) carries into the byte's top bit exactly where the
// code is infinite or NaN (no carry between bytes).
template <bool kE5m2>
constexpr int kSpecialAdd = static_cast<int>(0x01010101u * (0x80u - Fp8Bits<kE5m2>::kSpecial));

// The FP32 bits of byte kByte of each lane, placed in one go: the code shifted to the top (sign at
// bit 31), shifted back arithmetically to put the exponent and mantissa under FP32's, the sign
// copies between masked off.
template <bool kE5m2>
constexpr int kPlaceMask = static_cast<int>(0x80000000u | (0x7fu << Fp8Bits<kE5m2>::kShift));

// Byte kByte of each lane of `four`, times `fused` (kRebias x scale), the lanes in `keep` stored.
template <bool kE5m2, int kByte>
__attribute__((target("avx512f"))) inline void decode_byte_avx512(__m512i four, __m512 fused,
                                                                  __mmask16 keep, float* out) {
  constexpr int kUp = 24 - 8 * kByte, kDown = 24 - Fp8Bits<kE5m2>::kShift;
  const __m512i top = kUp > 0 ? _mm512_slli_epi32(four, kUp > 0 ? kUp : 0) : four;
  const __m512i bits =
      _mm512_and_si512(_mm512_srai_epi32(top, kDown), _mm512_set1_epi32(kPlaceMask<kE5m2>));
  _mm512_mask_storeu_ps(out, keep, _mm512_mul_ps(_mm512_castsi512_ps(bits), fused));
}

// 16 lanes of 4 consecutive codes (k .. k + 3) into the rows for k .. k + 3 at out (`stride`
// floats apart): kFast, by decode_byte_avx512 (no infinity or NaN among them, every scale fuses),
// else by decode_avx512 (`s` the scales).
template <bool kE5m2, bool kFast>
__attribute__((target("avx512f"), always_inline)) inline void decode_quad_avx512(
    __m512i four, __m512 fused, __m512 s, __mmask16 keep, float* out, std::int64_t stride) {
  if constexpr (kFast) {
    decode_byte_avx512<kE5m2, 0>(four, fused, keep, out);
    decode_byte_avx512<kE5m2, 1>(four, fused, keep, out + stride);
    decode_byte_avx512<kE5m2, 2>(four, fused, keep, out + 2 * stride);
    decode_byte_avx512<kE5m2, 3>(four, fused, keep, out + 3 * stride);
  } else {
    const __m512i byte = _mm512_set1_epi32(0xff);
    decode_avx512<kE5m2>(_mm512_and_si512(four, byte), s, keep, out);
    decode_avx512<kE5m2>(_mm512_and_si512(_mm512_srli_epi32(four, 8), byte), s, keep, out + stride);
    decode_avx512<kE5m2>(_mm512_and_si512(_mm512_srli_epi32(four, 16), byte), s, keep,
                         out + 2 * stride);
    decode_avx512<kE5m2>(_mm512_srli_epi32(four, 24), s, keep, out + 3 * stride);
  }
}

// r[i] lane q -> r[q] lane i: unpacks within 128-bit lanes, then lanes shuffled.
__attribute__((target("avx512f"), always_inline)) inline void transpose_16x16_epi32(__m512i r[16]) {
  __m512i u[16];  // u[4g + c] lane L: dword 4L + c of rows 4g .. 4g + 3
  for (int i = 0; i < 16; i += 4) {
    const __m512i lo01 = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    const __m512i hi01 = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    const __m512i lo23 = _mm512_unpacklo_epi32(r[i + 2], r[i + 3]);
    const __m512i hi23 = _mm512_unpackhi_epi32(r[i + 2], r[i + 3]);
    u[i] = _mm512_unpacklo_epi64(lo01, lo23);
    u[i + 1] = _mm512_unpackhi_epi64(lo01, lo23);
    u[i + 2] = _mm512_unpacklo_epi64(hi01, hi23);
    u[i + 3] = _mm512_unpackhi_epi64(hi01, hi23);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512i s0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);
    const __m512i s1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);
    const __m512i s2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i s3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
    r[c] = _mm512_shuffle_i32x4(s0, s2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(s1, s3, 0x88);
    r[8 + c] = _mm512_shuffle_i32x4(s0, s2, 0xdd);
    r[12 + c] = _mm512_shuffle_i32x4(s1, s3, 0xdd);
  }
}

// 64 codes of each of `rows` (<= 16) rows (`row0` the first, rows k_stride apart; zeros for the
// others) into 64 rows of 16 lanes at out, `stride` floats apart, lane i from row i (the lanes in
// `keep` stored): loaded, the 16 x 16 dwords transposed, decoded.
template <bool kE5m2, bool kFast>
__attribute__((target("avx512f"), always_inline)) inline void pack_16x64_avx512(
    const std::uint8_t* row0, std::int64_t k_stride, int rows, __m512 fused, __m512 s,
    __mmask16 keep, float* out, std::int64_t stride) {
  __m512i r[16];
  const std::uint8_t* row = row0;
  for (int i = 0; i < 16; ++i, row += k_stride)
    r[i] = i < rows ? _mm512_loadu_si512(row) : _mm512_setzero_si512();
  transpose_16x16_epi32(r);  // r[q] lane i: dword q of row i, its k = 4q .. 4q + 3
  for (int q = 0; q < 16; ++q)
    decode_quad_avx512<kE5m2, kFast>(r[q], fused, s, keep, out + 4 * q * stride, stride);
}

// pack_16x64_avx512 where an infinity or NaN is among the codes or a scale does not fuse: out of
// line, so that the fast path keeps its registers.
template <bool kE5m2>
__attribute__((target("avx512f"), noinline)) void pack_16x64_slow_avx512(const std::uint8_t* row0,
                                                                         std::int64_t k_stride,
                                                                         int rows, __m512 s,
                                                                         __mmask16 keep, float* out,
                                                                         std::int64_t stride) {
  pack_16x64_avx512<kE5m2, false>(row0, k_stride, rows, _mm512_setzero_ps(), s, keep, out, stride);
}

// `depth` (a multiple of 64) codes of each of `rows` rows as pack_16x64_avx512 lays them out, by
// the fast path where it may: per 16 x 64 codes, the carries of kSpecialAdd are checked first, and
// the line two K blocks on in each row is prefetched meanwhile (the driver packs a task's B panel
// a kc slice, two K blocks, at a time between kernel runs; B streams from memory).
template <bool kE5m2>
__attribute__((target("avx512f"), always_inline)) inline void pack_rows_avx512(
    const std::uint8_t* row0, std::int64_t k_stride, int rows, std::int64_t depth, __m512 s,
    bool fuse, __mmask16 keep, float* out, std::int64_t stride) {
  const __m512 fused = _mm512_mul_ps(s, _mm512_set1_ps(Fp8Bits<kE5m2>::kRebias));
  const __m512i low7 = _mm512_set1_epi32(0x7f7f7f7f), add = _mm512_set1_epi32(kSpecialAdd<kE5m2>);
  for (std::int64_t k0 = 0; k0 < depth; k0 += 64) {
    __m512i carries = _mm512_setzero_si512();
    const std::uint8_t* row = row0 + k0;
    for (int i = 0; i < rows; ++i, row += k_stride) {
      const __m512i r = _mm512_loadu_si512(row);
      carries = _mm512_or_si512(carries, _mm512_add_epi32(_mm512_and_si512(r, low7), add));
      _mm_prefetch(reinterpret_cast<const char*>(row + kPrefetchAhead), _MM_HINT_T0);
    }
    if (!fuse ||
        _mm512_test_epi32_mask(carries, _mm512_set1_epi32(static_cast<int>(0x80808080u))) != 0)
      pack_16x64_slow_avx512<kE5m2>(row0 + k0, k_stride, rows, s, keep, out + k0 * stride, stride);
    else
      pack_16x64_avx512<kE5m2, true>(row0 + k0, k_stride, rows, fused, s, keep, out + k0 * stride,
                                     stride);
  }
}

// bt[(j / nr) x panel_stride + k x nr + j % nr] = scale x B[n0 + j][k0 + k] for k < kBlockK,
// j < kTileN: codes at B[n0][k0], rows k_stride apart; nr a multiple of 16 (8 for AVX2).
template <bool kE5m2>
__attribute__((target("avx512f"))) void pack_b_avx512(const std::uint8_t* codes,
                                                      std::int64_t k_stride, float scale, float* bt,
                                                      std::int64_t nr, std::int64_t panel_stride) {
  for (std::int64_t j = 0; j < kTileN; j += 16)
    pack_rows_avx512<kE5m2>(codes + j * k_stride, k_stride, 16, kBlockK, _mm512_set1_ps(scale),
                            fuses<kE5m2>(scale), 0xffff, bt + (j / nr) * panel_stride + j % nr, nr);
}

// out[k x mr + r] = scale[r] x A[m0 + r][k0 + k] for r < rows <= mr <= 16, k < depth (a multiple
// of 64, in one K block): codes at A[m0][k0], rows k_stride apart; zeros for rows rows .. mr - 1.
template <bool kE5m2>
__attribute__((target("avx512f"))) void pack_a_avx512(const std::uint8_t* codes,
                                                      std::int64_t k_stride, std::int64_t rows,
                                                      const float* scale, float* out,
                                                      std::int64_t mr, std::int64_t depth) {
  alignas(64) float sc[16] = {};
  bool fuse = true;
  for (std::int64_t r = 0; r < rows; ++r) {
    sc[r] = scale[r];
    fuse = fuse && fuses<kE5m2>(sc[r]);
  }
  pack_rows_avx512<kE5m2>(codes, k_stride, static_cast<int>(rows), depth, _mm512_load_ps(sc), fuse,
                          static_cast<__mmask16>((1u << mr) - 1), out, mr);
}

// decode_avx512 with AVX2, 8 codes; the lanes in `keep` (all ones or zeros each) stored.
template <bool kE5m2>
__attribute__((target("avx2,fma"))) inline void decode_avx2(__m256i c, __m256 s, __m256i keep,
                                                            float* out) {
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
  _mm256_maskstore_ps(out, keep, _mm256_mul_ps(v, s));
}

// decode_byte_avx512 with AVX2, 8 codes.
template <bool kE5m2, int kByte>
__attribute__((target("avx2,fma"))) inline void decode_byte_avx2(__m256i four, __m256 fused,
                                                                 __m256i keep, float* out) {
  constexpr int kUp = 24 - 8 * kByte, kDown = 24 - Fp8Bits<kE5m2>::kShift;
  const __m256i top = kUp > 0 ? _mm256_slli_epi32(four, kUp > 0 ? kUp : 0) : four;
  const __m256i bits =
      _mm256_and_si256(_mm256_srai_epi32(top, kDown), _mm256_set1_epi32(kPlaceMask<kE5m2>));
  _mm256_maskstore_ps(out, keep, _mm256_mul_ps(_mm256_castsi256_ps(bits), fused));
}

// decode_quad_avx512 with AVX2, 8 lanes.
template <bool kE5m2, bool kFast>
__attribute__((target("avx2,fma"), always_inline)) inline void decode_quad_avx2(
    __m256i four, __m256 fused, __m256 s, __m256i keep, float* out, std::int64_t stride) {
  if constexpr (kFast) {
    decode_byte_avx2<kE5m2, 0>(four, fused, keep, out);
    decode_byte_avx2<kE5m2, 1>(four, fused, keep, out + stride);
    decode_byte_avx2<kE5m2, 2>(four, fused, keep, out + 2 * stride);
    decode_byte_avx2<kE5m2, 3>(four, fused, keep, out + 3 * stride);
  } else {
    const __m256i byte = _mm256_set1_epi32(0xff);
    decode_avx2<kE5m2>(_mm256_and_si256(four, byte), s, keep, out);
    decode_avx2<kE5m2>(_mm256_and_si256(_mm256_srli_epi32(four, 8), byte), s, keep, out + stride);
    decode_avx2<kE5m2>(_mm256_and_si256(_mm256_srli_epi32(four, 16), byte), s, keep,
                       out + 2 * stride);
    decode_avx2<kE5m2>(_mm256_srli_epi32(four, 24), s, keep, out + 3 * stride);
  }
}

// pack_16x64_avx512 with AVX2: 32 codes of each of `rows` (<= 8) rows, the 8 x 8 dwords
// transposed.
template <bool kE5m2, bool kFast>
__attribute__((target("avx2,fma"), always_inline)) inline void pack_8x32_avx2(
    const std::uint8_t* row0, std::int64_t k_stride, int rows, __m256 fused, __m256 s, __m256i keep,
    float* out, std::int64_t stride) {
  __m256i u[8];  // u[4g + c] lane L: dword 4L + c of rows 4g .. 4g + 3
  const std::uint8_t* row = row0;
  for (int i = 0; i < 8; i += 4) {
    __m256i r[4];
    for (int h = 0; h < 4; ++h, row += k_stride)
      r[h] = i + h < rows ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row))
                          : _mm256_setzero_si256();
    const __m256i lo01 = _mm256_unpacklo_epi32(r[0], r[1]);
    const __m256i hi01 = _mm256_unpackhi_epi32(r[0], r[1]);
    const __m256i lo23 = _mm256_unpacklo_epi32(r[2], r[3]);
    const __m256i hi23 = _mm256_unpackhi_epi32(r[2], r[3]);
    u[i] = _mm256_unpacklo_epi64(lo01, lo23);
    u[i + 1] = _mm256_unpackhi_epi64(lo01, lo23);
    u[i + 2] = _mm256_unpacklo_epi64(hi01, hi23);
    u[i + 3] = _mm256_unpackhi_epi64(hi01, hi23);
  }
  for (int c = 0; c < 4; ++c) {  // dwords c and 4 + c of the 8 rows
    float* o = out + 4 * c * stride;
    decode_quad_avx2<kE5m2, kFast>(_mm256_permute2x128_si256(u[c], u[4 + c], 0x20), fused, s, keep,
                                   o, stride);
    decode_quad_avx2<kE5m2, kFast>(_mm256_permute2x128_si256(u[c], u[4 + c], 0x31), fused, s, keep,
                                   o + 16 * stride, stride);
  }
}

// pack_16x64_slow_avx512 with AVX2.
template <bool kE5m2>
__attribute__((target("avx2,fma"), noinline)) void pack_8x32_slow_avx2(const std::uint8_t* row0,
                                                                       std::int64_t k_stride,
                                                                       int rows, __m256 s,
                                                                       __m256i keep, float* out,
                                                                       std::int64_t stride) {
  pack_8x32_avx2<kE5m2, false>(row0, k_stride, rows, _mm256_setzero_ps(), s, keep, out, stride);
}

// pack_rows_avx512 with AVX2: `depth` a multiple of 32.
template <bool kE5m2>
__attribute__((target("avx2,fma"), always_inline)) inline void pack_rows_avx2(
    const std::uint8_t* row0, std::int64_t k_stride, int rows, std::int64_t depth, __m256 s,
    bool fuse, __m256i keep, float* out, std::int64_t stride) {
  const __m256 fused = _mm256_mul_ps(s, _mm256_set1_ps(Fp8Bits<kE5m2>::kRebias));
  const __m256i low7 = _mm256_set1_epi32(0x7f7f7f7f), add = _mm256_set1_epi32(kSpecialAdd<kE5m2>);
  for (std::int64_t k0 = 0; k0 < depth; k0 += 32) {
    __m256i carries = _mm256_setzero_si256();
    const std::uint8_t* row = row0 + k0;
    for (int i = 0; i < rows; ++i, row += k_stride) {
      const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row));
      carries = _mm256_or_si256(carries, _mm256_add_epi32(_mm256_and_si256(r, low7), add));
      _mm_prefetch(reinterpret_cast<const char*>(row + kPrefetchAhead), _MM_HINT_T0);
    }
    if (!fuse || !_mm256_testz_si256(carries, _mm256_set1_epi32(static_cast<int>(0x80808080u))))
      pack_8x32_slow_avx2<kE5m2>(row0 + k0, k_stride, rows, s, keep, out + k0 * stride, stride);
    else
      pack_8x32_avx2<kE5m2, true>(row0 + k0, k_stride, rows, fused, s, keep, out + k0 * stride,
                                  stride);
  }
}

// pack_b_avx512 with AVX2.
template <bool kE5m2>
__attribute__((target("avx2,fma"))) void pack_b_avx2(const std::uint8_t* codes,
                                                     std::int64_t k_stride, float scale, float* bt,
                                                     std::int64_t nr, std::int64_t panel_stride) {
  for (std::int64_t j = 0; j < kTileN; j += 8)
    pack_rows_avx2<kE5m2>(codes + j * k_stride, k_stride, 8, kBlockK, _mm256_set1_ps(scale),
                          fuses<kE5m2>(scale), _mm256_set1_epi32(-1),
                          bt + (j / nr) * panel_stride + j % nr, nr);
}

// pack_a_avx512 with AVX2: rows <= mr <= 8, depth a multiple of 32.
template <bool kE5m2>
__attribute__((target("avx2,fma"))) void pack_a_avx2(const std::uint8_t* codes,
                                                     std::int64_t k_stride, std::int64_t rows,
                                                     const float* scale, float* out,
                                                     std::int64_t mr, std::int64_t depth) {
  alignas(32) float sc[8] = {};
  alignas(32) std::int32_t keep[8] = {};
  bool fuse = true;
  for (std::int64_t r = 0; r < rows; ++r) {
    sc[r] = scale[r];
    fuse = fuse && fuses<kE5m2>(sc[r]);
  }
  for (std::int64_t r = 0; r < mr; ++r) keep[r] = -1;
  pack_rows_avx2<kE5m2>(codes, k_stride, static_cast<int>(rows), depth, _mm256_load_ps(sc), fuse,
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(keep)), out, mr);
}

}  // namespace cobench::gemm::cpu_pack

#pragma GCC diagnostic pop

#endif  // __x86_64__
