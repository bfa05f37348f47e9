// SPDX-License-Identifier: Apache-2.0
// The BF16 driver's A and B packing with AVX-512BW (included by fp8_gemm_cpu_bf16_driver.h and its
// test; the functions carry their own target attributes and run only where the CPU has AVX-512F,
// AVX-512BW and AVX-512VL): 32 codes a step, zero-extended to words and looked up in the format's
// BF16 table (first_odd_magnitude from it): the magnitude's word by two two-register word
// permutes, the sign bit or'ed in, and where a vector holds a code at or above the first odd
// magnitude, all 256 words by four; so each output is the table's entry, bit for bit (the
// functions take `table`, its 256 words, and first_odd_magnitude(table)). With AVX512_VBMI,
// pack_b_bf16_vbmi looks 64 codes up at a time by byte permutes (the words' low and high bytes).
// B's panel then goes through a
// 16 x 16 transpose of dwords: a dword of a row's output is one pair (k, k + 1) of one column,
// VDPBF16PS's layout (fp8_gemm_cpu_tile.h).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm/fp8_gemm_cpu_pack_x86.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

// GCC 12 flags the _mm512_undefined_* inside its own AVX-512 intrinsics as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cobench::gemm::cpu_pack {

/// Whether this CPU runs the functions below (pack_b_bf16_vbmi: bf16_pack_vbmi_supported).
inline bool bf16_pack_supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
/// Whether this CPU also has AVX512_VBMI (byte permutes) for pack_b_bf16_vbmi.
inline bool bf16_pack_vbmi_supported() {
  return bf16_pack_supported() && __builtin_cpu_supports("avx512vbmi");
}

/// The first magnitude (code & 0x7f) whose negative code's word is not the positive one's with
/// the sign bit set (NaN codes: encode_bf16 gives every NaN the same word), 128 where none is.
inline int first_odd_magnitude(const std::uint16_t* table) {
  for (int m = 0; m < 128; ++m)
    if (table[128 + m] != (table[m] | 0x8000)) return m;
  return 128;
}

// The table's words of codes 0 .. 127 in four registers of 32, and first_odd_magnitude.
struct Bf16LutRegs {
  __m512i t[4];
  __m512i first_odd;
  const std::uint16_t* table;
};

__attribute__((target("avx512f,avx512bw"), always_inline)) inline Bf16LutRegs bf16_lut(
    const std::uint16_t* table, int first_odd) {
  Bf16LutRegs l;
  for (int i = 0; i < 4; ++i) l.t[i] = _mm512_loadu_si512(table + 32 * i);
  l.first_odd = _mm512_set1_epi16(static_cast<short>(first_odd));
  l.table = table;
  return l;
}

// table[c] for the 32 words c (codes 0 .. 255) by four two-register permutes, the code's top two
// bits picking the pair: out of line, for vectors that hold an odd code.
__attribute__((target("avx512f,avx512bw"), noinline)) inline __m512i bf16_lookup_odd(
    __m512i w, const std::uint16_t* table) {
  __m512i t[8];
  for (int i = 0; i < 8; ++i) t[i] = _mm512_loadu_si512(table + 32 * i);
  const __m512i v0 = _mm512_permutex2var_epi16(t[0], w, t[1]);
  const __m512i v1 = _mm512_permutex2var_epi16(t[2], w, t[3]);
  const __m512i v2 = _mm512_permutex2var_epi16(t[4], w, t[5]);
  const __m512i v3 = _mm512_permutex2var_epi16(t[6], w, t[7]);
  const __mmask32 b6 = _mm512_test_epi16_mask(w, _mm512_set1_epi16(0x40));
  const __mmask32 b7 = _mm512_test_epi16_mask(w, _mm512_set1_epi16(0x80));
  return _mm512_mask_blend_epi16(b7, _mm512_mask_blend_epi16(b6, v0, v1),
                                 _mm512_mask_blend_epi16(b6, v2, v3));
}

// table[c] for the 32 codes `c` (bytes): the magnitude's word by two permutes (bit 6 picking the
// pair), the sign bit or'ed in; a vector with an odd magnitude (NaN) goes the long way.
__attribute__((target("avx512f,avx512bw"), always_inline)) inline __m512i bf16_lookup(
    __m256i c, const Bf16LutRegs& l) {
  const __m512i w = _mm512_cvtepu8_epi16(c);
  const __m512i mag = _mm512_and_si512(w, _mm512_set1_epi16(0x7f));
  if (_mm512_cmpge_epu16_mask(mag, l.first_odd) != 0) return bf16_lookup_odd(w, l.table);
  const __m512i lo = _mm512_permutex2var_epi16(l.t[0], mag, l.t[1]);
  const __m512i hi = _mm512_permutex2var_epi16(l.t[2], mag, l.t[3]);
  const __mmask32 b6 = _mm512_test_epi16_mask(mag, _mm512_set1_epi16(0x40));
  return _mm512_or_si512(_mm512_mask_blend_epi16(b6, lo, hi),
                         _mm512_slli_epi16(_mm512_andnot_si512(mag, w), 8));
}

// The first `bytes` (0 .. 32) codes at p, zeros after (a masked load reads nothing past them).
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline __m256i load_codes(
    const std::uint8_t* p, std::int64_t bytes) {
  if (bytes >= 32) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if (bytes <= 0) return _mm256_setzero_si256();
  return _mm256_maskz_loadu_epi8(static_cast<__mmask32>((std::uint64_t{1} << bytes) - 1), p);
}

/// row[k] = table[codes[k]] for k < depth (<= kBlockK), 0 for depth <= k < kBlockK: one K block
/// of an A row.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void pack_a_bf16_avx512(
    const std::uint8_t* codes, std::int64_t depth, const std::uint16_t* table, int first_odd,
    std::uint16_t* row) {
  const Bf16LutRegs l = bf16_lut(table, first_odd);
  for (std::int64_t k = 0; k < cpu_tile::kBlockK; k += 32)
    _mm512_storeu_si512(row + k, bf16_lookup(load_codes(codes + k, depth - k), l));
}

/// out[(k / 2) x kTileN x 2 + j x 2 + k % 2] = table[B[j][k]] for j < cols, k < depth (codes at
/// B[0][0], rows k_stride apart; cols <= kTileN, depth <= kBlockK), 0 elsewhere in the block:
/// one K block of a B panel in VDPBF16PS's pairs.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void pack_b_bf16_avx512(
    const std::uint8_t* codes, std::int64_t k_stride, std::int64_t cols, std::int64_t depth,
    const std::uint16_t* table, int first_odd, std::uint16_t* out) {
  using cpu_tile::kBlockK;
  using cpu_tile::kTileN;
  const Bf16LutRegs l = bf16_lut(table, first_odd);
  for (std::int64_t j0 = 0; j0 < kTileN; j0 += 16)
    for (std::int64_t k0 = 0; k0 < kBlockK; k0 += 32) {
      __m512i r[16];  // r[i]: row j0 + i, pairs k0 / 2 .. k0 / 2 + 15
      for (int i = 0; i < 16; ++i) {
        if (j0 + i >= cols) {
          r[i] = _mm512_setzero_si512();
          continue;
        }
        const std::uint8_t* row = codes + (j0 + i) * k_stride + k0;
        // The driver packs a panel's K blocks in turn, B streaming from memory: the line two
        // blocks on is fetched meanwhile (a hint; past the matrix it faults nothing).
        if (k0 % 64 == 0)
          _mm_prefetch(reinterpret_cast<const char*>(row + 2 * kBlockK), _MM_HINT_T0);
        r[i] = bf16_lookup(load_codes(row, depth - k0), l);
      }
      transpose_16x16_epi32(r);
      for (int p = 0; p < 16; ++p)
        _mm512_storeu_si512(out + ((k0 / 2 + p) * kTileN + j0) * 2, r[p]);
    }
}

// The magnitudes' words split into their low and high bytes, 128 each in two registers, for byte
// permutes (AVX512_VBMI), and first_odd_magnitude.
struct Bf16ByteLut {
  __m512i lo[2], hi[2];
  __m512i first_odd;
  const std::uint16_t* table;
};

__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) inline Bf16ByteLut
bf16_byte_lut(const std::uint16_t* table, int first_odd) {
  // Each 32 words narrowed to their low bytes and (shifted) high bytes, in registers: this runs
  // once a packed K block.
  Bf16ByteLut l;
  for (int i = 0; i < 2; ++i) {
    const __m512i w0 = _mm512_loadu_si512(table + 64 * i);
    const __m512i w1 = _mm512_loadu_si512(table + 64 * i + 32);
    l.lo[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(w0)),
                                 _mm512_cvtepi16_epi8(w1), 1);
    l.hi[i] =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_srli_epi16(w0, 8))),
                           _mm512_cvtepi16_epi8(_mm512_srli_epi16(w1, 8)), 1);
  }
  l.first_odd = _mm512_set1_epi8(static_cast<char>(first_odd));  // 128: 0x80, above every magnitude
  l.table = table;
  return l;
}

// table[c] for the 64 codes `c` (bytes), in order: w0 the words of codes 0 .. 31, w1 of 32 .. 63.
// Each magnitude's low and high bytes by a byte permute each, the sign bit or'ed into the high
// byte, the bytes interleaved into words (within 128-bit lanes) and the lanes put in order; a
// vector with an odd magnitude (NaN) goes the long way (bf16_lookup_odd).
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) inline void bf16_lookup64(
    __m512i c, const Bf16ByteLut& l, __m512i& w0, __m512i& w1) {
  const __m512i mag = _mm512_and_si512(c, _mm512_set1_epi8(0x7f));
  if (_mm512_cmpge_epu8_mask(mag, l.first_odd) != 0) {
    w0 = bf16_lookup_odd(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(c)), l.table);
    w1 = bf16_lookup_odd(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(c, 1)), l.table);
    return;
  }
  const __m512i lo = _mm512_permutex2var_epi8(l.lo[0], mag, l.lo[1]);
  const __m512i hi =
      _mm512_or_si512(_mm512_permutex2var_epi8(l.hi[0], mag, l.hi[1]), _mm512_andnot_si512(mag, c));
  const __m512i u0 = _mm512_unpacklo_epi8(lo, hi);  // lane L: codes 16 L .. 16 L + 7
  const __m512i u1 = _mm512_unpackhi_epi8(lo, hi);  // lane L: codes 16 L + 8 .. 16 L + 15
  w0 = _mm512_permutex2var_epi64(u0, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), u1);
  w1 = _mm512_permutex2var_epi64(u0, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), u1);
}

/// pack_b_bf16_avx512 by byte permutes, 64 codes of a row at a time (AVX512_VBMI; the same words).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) inline void pack_b_bf16_vbmi(
    const std::uint8_t* codes, std::int64_t k_stride, std::int64_t cols, std::int64_t depth,
    const std::uint16_t* table, int first_odd, std::uint16_t* out) {
  using cpu_tile::kBlockK;
  using cpu_tile::kTileN;
  const Bf16ByteLut l = bf16_byte_lut(table, first_odd);
  for (std::int64_t j0 = 0; j0 < kTileN; j0 += 16)
    for (std::int64_t k0 = 0; k0 < kBlockK; k0 += 64) {
      __m512i r0[16], r1[16];  // row j0 + i: pairs k0 / 2 .. + 15 and k0 / 2 + 16 .. + 31
      const std::int64_t bytes = depth - k0;
      const __mmask64 keep = bytes >= 64  ? ~__mmask64{0}
                             : bytes <= 0 ? __mmask64{0}
                                          : (__mmask64{1} << bytes) - 1;
      for (int i = 0; i < 16; ++i) {
        if (j0 + i >= cols) {
          r0[i] = r1[i] = _mm512_setzero_si512();
          continue;
        }
        const std::uint8_t* row = codes + (j0 + i) * k_stride + k0;
        // The line two K blocks on, as pack_b_bf16_avx512 fetches it.
        _mm_prefetch(reinterpret_cast<const char*>(row + 2 * kBlockK), _MM_HINT_T0);
        bf16_lookup64(_mm512_maskz_loadu_epi8(keep, row), l, r0[i], r1[i]);
      }
      transpose_16x16_epi32(r0);
      for (int p = 0; p < 16; ++p)
        _mm512_storeu_si512(out + ((k0 / 2 + p) * kTileN + j0) * 2, r0[p]);
      transpose_16x16_epi32(r1);
      for (int p = 0; p < 16; ++p)
        _mm512_storeu_si512(out + ((k0 / 2 + 16 + p) * kTileN + j0) * 2, r1[p]);
    }
}

}  // namespace cobench::gemm::cpu_pack

#pragma GCC diagnostic pop

#endif
