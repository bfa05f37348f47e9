// SPDX-License-Identifier: Apache-2.0
// ep_hash.h's AVX-512 path: 8 experts a vector, mix()'s two multiplies by AVX512DQ's vpmullq.
// Compiled with -mavx512f -mavx512dq (collectives/CMakeLists.txt); called only where the CPU has
// both.
// GCC 12 warns that its own intrinsics' undefined pass-through vectors are (or may be) used
// uninitialized (GCC bug 105593); they are not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include "collectives/ep/ep_hash_x86.h"

namespace cobench::coll::ep::detail {

namespace {

// mix(seed, a, b) from a * kMixA (ak) and k = seed ^ (b * kMixB).
inline __m512i finish(__m512i k, __m512i ak) {
  __m512i z = _mm512_add_epi64(_mm512_xor_si512(k, ak), _mm512_set1_epi64(kMixA));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64(kMix1));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64(kMix2));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// merge_top2 (ep_hash.h) lane by lane.
inline void merge(__m512i& a, __m512i& b, __m512i a2, __m512i b2) {
  b = _mm512_max_epu64(_mm512_min_epu64(a, a2), _mm512_max_epu64(b, b2));
  a = _mm512_max_epu64(a, a2);
}

}  // namespace

void range_top2_avx512(const std::uint64_t* a, const std::uint64_t* b, int count,
                       std::uint64_t* out_a, std::uint64_t* out_b) {
  __m512i x_a = _mm512_setzero_si512(), x_b = x_a;
  int i = 0;
  for (; i + 8 <= count; i += 8)
    merge(x_a, x_b, _mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
  if (i < count) {  // the rest, 0 (no key) in the lanes past count
    const __mmask8 live = static_cast<__mmask8>((1u << (count - i)) - 1);
    merge(x_a, x_b, _mm512_maskz_loadu_epi64(live, a + i), _mm512_maskz_loadu_epi64(live, b + i));
  }
  // Each lane merged with the lane 4, then 2, then 1 away: every lane then holds all 8, once each.
  merge(x_a, x_b, _mm512_shuffle_i64x2(x_a, x_a, 0x4e), _mm512_shuffle_i64x2(x_b, x_b, 0x4e));
  merge(x_a, x_b, _mm512_shuffle_i64x2(x_a, x_a, 0xb1), _mm512_shuffle_i64x2(x_b, x_b, 0xb1));
  merge(x_a, x_b, _mm512_shuffle_epi32(x_a, _MM_PERM_BADC),
        _mm512_shuffle_epi32(x_b, _MM_PERM_BADC));
  *out_a = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(x_a)));
  *out_b = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(x_b)));
}

int mix_range_avx512(std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
                     std::uint64_t* out) {
  const __m512i k = _mm512_set1_epi64(static_cast<long long>(seed ^ (b * kMixB)));
  // (a_first + i) * kMixA, lane i, stepping by 8 * kMixA (products wrap modulo 2^64 alike).
  __m512i ak =
      _mm512_mullo_epi64(_mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(a_first)),
                                          _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0)),
                         _mm512_set1_epi64(kMixA));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(8 * kMixA));
  int i = 0;
  for (; i + 8 <= count; i += 8) {
    _mm512_storeu_si512(out + i, finish(k, ak));
    ak = _mm512_add_epi64(ak, step);
  }
  return i;
}

void piece_top2_avx512(std::uint64_t base, const PieceTable::Block* blocks, std::size_t n_blocks,
                       std::uint64_t* a, std::uint64_t* b, double* score) {
  const __m512i k = _mm512_set1_epi64(static_cast<long long>(base ^ (kKeySalt * kMixB)));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(kMixA));
  const __m512i one = _mm512_set1_epi64(1);
  for (std::size_t blk = 0; blk < n_blocks; ++blk) {
    const PieceTable::Block& p = blocks[blk];
    __m512i ak = _mm512_loadu_si512(p.first_times_c1);
    const __m512i len = _mm512_loadu_si512(p.len);
    __m512i i = _mm512_setzero_si512(), x_a = _mm512_setzero_si512(), x_b = x_a;
    const auto keep_two_best = [&](__m512i x) {
      const __m512i lo = _mm512_min_epu64(x_a, x);
      x_a = _mm512_max_epu64(x_a, x);
      x_b = _mm512_max_epu64(x_b, lo);
    };
    if (p.full) {
      for (int n = 0; n < p.max_len; ++n) {
        keep_two_best(_mm512_add_epi64(_mm512_srli_epi64(finish(k, ak), 11), one));
        ak = _mm512_add_epi64(ak, step);
      }
    } else {
      for (int n = 0; n < p.max_len; ++n) {
        // key bits (mix >> 11) + 1 of the lanes whose piece has an n-th expert, 0 (masked) else
        const __mmask8 live = _mm512_cmplt_epu64_mask(i, len);
        keep_two_best(_mm512_maskz_add_epi64(live, _mm512_srli_epi64(finish(k, ak), 11), one));
        ak = _mm512_add_epi64(ak, step);
        i = _mm512_add_epi64(i, one);
      }
    }
    _mm512_storeu_si512(a + blk * PieceTable::kLanes, x_a);
    _mm512_storeu_si512(b + blk * PieceTable::kLanes, x_b);
    if (score) {  // key_pair_score: the same operations in the same order, lane by lane
      const auto u = [&](__m512i x) {
        // / 2^53 as * 2^-53: both exact, so the same double
        return _mm512_mul_pd(
            _mm512_add_pd(_mm512_cvtepu64_pd(_mm512_sub_epi64(x, one)), _mm512_set1_pd(0.5)),
            _mm512_set1_pd(1.0 / 9007199254740992.0));
      };
      const __m512d u_a = u(x_a);
      __m512d s =
          _mm512_mask_blend_pd(_mm512_test_epi64_mask(x_b, x_b), u_a, _mm512_mul_pd(u_a, u(x_b)));
      s = _mm512_maskz_mov_pd(_mm512_test_epi64_mask(x_a, x_a), s);
      _mm512_storeu_pd(score + blk * PieceTable::kLanes, s);
    }
  }
}

}  // namespace cobench::coll::ep::detail
