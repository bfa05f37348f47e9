// SPDX-License-Identifier: Apache-2.0
// ep_hash.h's AVX2 path: 4 experts a vector, mix()'s 64-bit multiplies (low halves) built from
// three 32 x 32 -> 64-bit vpmuludq. Compiled with -mavx2 (collectives/CMakeLists.txt); called only
// where the CPU has it.
#include <immintrin.h>

#include "collectives/ep/ep_hash_x86.h"

namespace cobench::coll::ep::detail {

namespace {

// The low 64 bits of z * m, lane by lane: z_lo m_lo + ((z_hi m_lo + z_lo m_hi) << 32).
inline __m256i mul_lo(__m256i z, std::uint64_t m) {
  const __m256i m_lo = _mm256_set1_epi64x(static_cast<long long>(m & 0xffffffffULL));
  const __m256i m_hi = _mm256_set1_epi64x(static_cast<long long>(m >> 32));
  const __m256i cross =
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(z, 32), m_lo), _mm256_mul_epu32(z, m_hi));
  return _mm256_add_epi64(_mm256_mul_epu32(z, m_lo), _mm256_slli_epi64(cross, 32));
}

inline __m256i finish(__m256i k, __m256i ak) {
  __m256i z =
      _mm256_add_epi64(_mm256_xor_si256(k, ak), _mm256_set1_epi64x(static_cast<long long>(kMixA)));
  z = mul_lo(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), kMix1);
  z = mul_lo(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), kMix2);
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

inline __m256i load(const std::uint64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

}  // namespace

int mix_range_avx2(std::uint64_t seed, std::uint64_t a_first, std::uint64_t b, int count,
                   std::uint64_t* out) {
  const __m256i k = _mm256_set1_epi64x(static_cast<long long>(seed ^ (b * kMixB)));
  const std::uint64_t ak0[4] = {a_first * kMixA, (a_first + 1) * kMixA, (a_first + 2) * kMixA,
                                (a_first + 3) * kMixA};
  __m256i ak = load(ak0);
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(4 * kMixA));
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), finish(k, ak));
    ak = _mm256_add_epi64(ak, step);
  }
  return i;
}

void piece_top2_avx2(std::uint64_t base, const PieceTable::Block* blocks, std::size_t n_blocks,
                     std::uint64_t* a, std::uint64_t* b) {
  const __m256i k = _mm256_set1_epi64x(static_cast<long long>(base ^ (kKeySalt * kMixB)));
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(kMixA));
  const __m256i one = _mm256_set1_epi64x(1);
  for (std::size_t blk = 0; blk < n_blocks; ++blk) {
    const PieceTable::Block& p = blocks[blk];
    for (int half = 0; half < PieceTable::kLanes; half += 4) {
      __m256i ak = load(p.first_times_c1 + half);
      const __m256i len = load(p.len + half);
      __m256i i = _mm256_setzero_si256(), x_a = _mm256_setzero_si256(), x_b = x_a;
      // Key bits are below 2^54 and lengths small, so signed compares order them.
      const auto keep_two_best = [&](__m256i x) {
        const __m256i x_gt_a = _mm256_cmpgt_epi64(x, x_a);
        const __m256i lo = _mm256_blendv_epi8(x, x_a, x_gt_a);
        x_a = _mm256_blendv_epi8(x_a, x, x_gt_a);
        x_b = _mm256_blendv_epi8(x_b, lo, _mm256_cmpgt_epi64(lo, x_b));
      };
      if (p.full) {
        for (int n = 0; n < p.max_len; ++n) {
          keep_two_best(_mm256_add_epi64(_mm256_srli_epi64(finish(k, ak), 11), one));
          ak = _mm256_add_epi64(ak, step);
        }
      } else {
        for (int n = 0; n < p.max_len; ++n) {
          // key bits of the lanes whose piece has an n-th expert, 0 (masked) else
          const __m256i live = _mm256_cmpgt_epi64(len, i);
          keep_two_best(
              _mm256_and_si256(live, _mm256_add_epi64(_mm256_srli_epi64(finish(k, ak), 11), one)));
          ak = _mm256_add_epi64(ak, step);
          i = _mm256_add_epi64(i, one);
        }
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + blk * PieceTable::kLanes + half), x_a);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + blk * PieceTable::kLanes + half), x_b);
    }
  }
}

}  // namespace cobench::coll::ep::detail
