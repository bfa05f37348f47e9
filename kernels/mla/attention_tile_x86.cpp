// SPDX-License-Identifier: Apache-2.0
// The x86 kernels of attention_tile.h: AVX2+FMA through target attributes (the rest of the build
// stays baseline x86-64), and the AVX-512F table, whose scores, softmax, P V and transpose come
// from attention_tile_avx512.cpp (SIMDe, compiled with -mavx512f); chosen at run time. Register
// blocking: scores and P V keep R <= 6 rows x 16 (AVX2: two ymm) or R <= 12 rows x 32 (AVX-512: two
// zmm) columns in registers, so each loaded K or V vector feeds R fused multiply-adds.
#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/mla/attention_tile.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla::detail {
namespace {

constexpr int kRows = 6;

#define COBENCH_AVX2 __attribute__((target("avx2,fma")))

// exp(x) for x <= 0 (NaN stays NaN): 2^k e^r with |r| <= ln 2 / 2, degree-6 Taylor polynomial
// (relative error below 2e-7).
COBENCH_AVX2 inline __m256 exp_avx2(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);  // operand order keeps a NaN x
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.0f / 720);
  for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(c));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

template <int R>
COBENCH_AVX2 void scores_avx2_rows(const float* q, std::int64_t dq, const float* kt, std::int64_t n,
                                   float* s) {
  for (std::int64_t t0 = 0; t0 < n; t0 += 16) {
    __m256 c[R][2];
    for (int r = 0; r < R; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
    for (std::int64_t d = 0; d < dq; ++d) {
      const __m256 b0 = _mm256_loadu_ps(kt + d * kChunk + t0);
      const __m256 b1 = _mm256_loadu_ps(kt + d * kChunk + t0 + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 x = _mm256_broadcast_ss(q + r * dq + d);
        c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
        c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(s + r * kChunk + t0, c[r][0]);
      _mm256_storeu_ps(s + r * kChunk + t0 + 8, c[r][1]);
    }
  }
}

// Also prefetches lines [first, first + lines) of pf into L2, spread over the column blocks.
template <int R>
COBENCH_AVX2 void accumulate_avx2_rows(const float* p, const float* v, std::int64_t ldv,
                                       std::int64_t n, std::int64_t dv, const float* alpha,
                                       float* o, const std::uint8_t* pf, std::int64_t first,
                                       std::int64_t lines) {
  const std::int64_t blocks = dv / 16;
  for (std::int64_t j0 = 0; j0 < dv; j0 += 16) {
    for (std::int64_t i = first + j0 / 16 * lines / blocks;
         i < first + (j0 / 16 + 1) * lines / blocks; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 64 * i), _MM_HINT_T1);
    __m256 c[R][2];
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(alpha + r);
      c[r][0] = _mm256_mul_ps(a, _mm256_loadu_ps(o + r * dv + j0));
      c[r][1] = _mm256_mul_ps(a, _mm256_loadu_ps(o + r * dv + j0 + 8));
    }
    for (std::int64_t t = 0; t < n; ++t) {
      const __m256 b0 = _mm256_loadu_ps(v + t * ldv + j0);
      const __m256 b1 = _mm256_loadu_ps(v + t * ldv + j0 + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 x = _mm256_broadcast_ss(p + r * kChunk + t);
        c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
        c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(o + r * dv + j0, c[r][0]);
      _mm256_storeu_ps(o + r * dv + j0 + 8, c[r][1]);
    }
  }
}

COBENCH_AVX2 inline float hsum_avx2(__m256 v) {
  const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 y = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(y, _mm_shuffle_ps(y, y, 1)));
}

// Up to 4 rows, two tokens at a time: each q vector feeds two FMAs, each K vector R; one
// horizontal sum per score.
template <int R>
COBENCH_AVX2 void scores_rows_avx2_block(const float* q, std::int64_t dq, const float* k,
                                         std::int64_t ldk, std::int64_t n, float* s) {
  std::int64_t t = 0;
  for (; t + 2 <= n; t += 2) {
    __m256 c0[R], c1[R];
    for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
    for (std::int64_t d = 0; d < dq; d += 8) {
      const __m256 k0 = _mm256_loadu_ps(k + t * ldk + d);
      const __m256 k1 = _mm256_loadu_ps(k + (t + 1) * ldk + d);
      for (int r = 0; r < R; ++r) {
        const __m256 x = _mm256_loadu_ps(q + r * dq + d);
        c0[r] = _mm256_fmadd_ps(x, k0, c0[r]);
        c1[r] = _mm256_fmadd_ps(x, k1, c1[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      s[r * kChunk + t] = hsum_avx2(c0[r]);
      s[r * kChunk + t + 1] = hsum_avx2(c1[r]);
    }
  }
  for (; t < n; ++t) {
    __m256 c[R];
    for (int r = 0; r < R; ++r) c[r] = _mm256_setzero_ps();
    for (std::int64_t d = 0; d < dq; d += 8) {
      const __m256 kv = _mm256_loadu_ps(k + t * ldk + d);
      for (int r = 0; r < R; ++r) c[r] = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * dq + d), kv, c[r]);
    }
    for (int r = 0; r < R; ++r) s[r * kChunk + t] = hsum_avx2(c[r]);
  }
}

COBENCH_AVX2 void scores_rows_avx2(const float* q, std::int64_t rows, std::int64_t dq,
                                   const float* k, std::int64_t ldk, std::int64_t n, float* s,
                                   PrefetchRange) {
  // Blocks of 4 rows: 2 x 4 accumulators, two K vectors and a q vector fit in 16 registers.
  std::int64_t r0 = 0;
  for (; r0 + 4 <= rows; r0 += 4)
    scores_rows_avx2_block<4>(q + r0 * dq, dq, k, ldk, n, s + r0 * kChunk);
  switch (rows - r0) {
    case 1:
      scores_rows_avx2_block<1>(q + r0 * dq, dq, k, ldk, n, s + r0 * kChunk);
      break;
    case 2:
      scores_rows_avx2_block<2>(q + r0 * dq, dq, k, ldk, n, s + r0 * kChunk);
      break;
    case 3:
      scores_rows_avx2_block<3>(q + r0 * dq, dq, k, ldk, n, s + r0 * kChunk);
      break;
    default:
      break;
  }
}

COBENCH_AVX2 void bf16_to_float_avx2(const std::uint8_t* src, std::int64_t n, float* dst) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i,
                     _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16)));
  }
  for (; i < n; ++i) {
    std::uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

// E4M3 decoded arithmetically, 8 codes at a time, as num::decode_fp8: a normal code's magnitude
// bits e m shifted into a float's exponent and mantissa and rebiased (+120 = 127 - 7), a
// subnormal's m x 2^-9, the sign on top, 0x7F and 0xFF NaN (0x7FFFFFFF); then times the scale.
COBENCH_AVX2 void e4m3_to_float_avx2(const std::uint8_t* src, std::int64_t n, float scale,
                                     float* dst) {
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256i mag_mask = _mm256_set1_epi32(0x7F), nan = _mm256_set1_epi32(0x7FFFFFFF);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i c =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i)));
    const __m256i mag = _mm256_and_si256(c, mag_mask);
    const __m256i sign = _mm256_slli_epi32(_mm256_andnot_si256(mag_mask, c), 24);
    const __m256i normal =
        _mm256_add_epi32(_mm256_slli_epi32(mag, 20), _mm256_set1_epi32(120 << 23));
    const __m256 subnormal = _mm256_mul_ps(_mm256_cvtepi32_ps(mag), _mm256_set1_ps(1.0f / 512));
    __m256i v = _mm256_blendv_epi8(normal, _mm256_castps_si256(subnormal),
                                   _mm256_cmpgt_epi32(_mm256_set1_epi32(8), mag));
    v = _mm256_blendv_epi8(_mm256_or_si256(v, sign), nan, _mm256_cmpeq_epi32(mag, mag_mask));
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_castsi256_ps(v), vscale));
  }
  for (; i < n; ++i) dst[i] = num::decode_fp8(src[i], num::Fp8Format::kE4M3) * scale;
}

// Row blocks of kRows, then one block of the remaining 1..5 rows.
#define COBENCH_ROW_BLOCKS(FN, ...)                               \
  std::int64_t r0 = 0;                                            \
  for (; r0 + kRows <= rows; r0 += kRows) FN<kRows>(__VA_ARGS__); \
  switch (rows - r0) {                                            \
    case 1:                                                       \
      FN<1>(__VA_ARGS__);                                         \
      break;                                                      \
    case 2:                                                       \
      FN<2>(__VA_ARGS__);                                         \
      break;                                                      \
    case 3:                                                       \
      FN<3>(__VA_ARGS__);                                         \
      break;                                                      \
    case 4:                                                       \
      FN<4>(__VA_ARGS__);                                         \
      break;                                                      \
    case 5:                                                       \
      FN<5>(__VA_ARGS__);                                         \
      break;                                                      \
    default:                                                      \
      break;                                                      \
  }

COBENCH_AVX2 void scores_avx2(const float* q, std::int64_t rows, std::int64_t dq, const float* kt,
                              std::int64_t n, float* s) {
  COBENCH_ROW_BLOCKS(scores_avx2_rows, q + r0 * dq, dq, kt, n, s + r0 * kChunk);
}

COBENCH_AVX2 void accumulate_avx2(const float* p, std::int64_t rows, const float* v,
                                  std::int64_t ldv, std::int64_t n, std::int64_t dv,
                                  const float* alpha, float* o, PrefetchRange next) {
  const std::int64_t lines = next.data == nullptr ? 0 : (next.bytes + 63) / 64;
  const std::int64_t blocks = (rows + kRows - 1) / kRows;
#define COBENCH_LINES                    \
  next.data, r0 / kRows *lines / blocks, \
      (r0 / kRows + 1) * lines / blocks - r0 / kRows *lines / blocks
  COBENCH_ROW_BLOCKS(accumulate_avx2_rows, p + r0 * kChunk, v, ldv, n, dv, alpha + r0, o + r0 * dv,
                     COBENCH_LINES);
#undef COBENCH_LINES
}
#undef COBENCH_ROW_BLOCKS

// The same update as softmax_portable, with the exponentials 8 at a time (the AVX-512 table has its
// own, attention_tile_avx512.inc).
COBENCH_AVX2 void softmax_avx2(float* s, std::int64_t rows, std::int64_t n, float scale, float* m,
                               float* l, float* alpha) {
  const __m256 vscale = _mm256_set1_ps(scale);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * kChunk;
    // The running max, 8 at a time; like std::max(top, x) it skips a NaN score (max_ps returns
    // its second operand when one is NaN), whose exponential then makes l and the output NaN.
    __m256 top8 = _mm256_set1_ps(m[r]);
    std::int64_t t = 0;
    for (; t + 8 <= n; t += 8)
      top8 = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(sr + t), vscale), top8);
    alignas(32) float tops[8];
    _mm256_store_ps(tops, top8);
    float top = tops[0];
    for (int i = 1; i < 8; ++i) top = std::max(top, tops[i]);
    for (; t < n; ++t) top = std::max(top, sr[t] * scale);
    alpha[r] = std::exp(m[r] - top);
    const __m256 vtop = _mm256_set1_ps(top);
    __m256 sum8 = _mm256_setzero_ps();
    for (t = 0; t + 8 <= n; t += 8) {
      const __m256 e = exp_avx2(_mm256_fmsub_ps(_mm256_loadu_ps(sr + t), vscale, vtop));
      _mm256_storeu_ps(sr + t, e);
      sum8 = _mm256_add_ps(sum8, e);
    }
    alignas(32) float part[8];
    _mm256_store_ps(part, sum8);
    float sum = 0;
    for (float x : part) sum += x;
    for (; t < n; ++t) sum += (sr[t] = std::exp(sr[t] * scale - top));
    l[r] = l[r] * alpha[r] + sum;
    m[r] = top;
  }
}
}  // namespace

TileKernels tile_kernels_avx2() {
  return {
      scores_avx2,        softmax_avx2,       accumulate_avx2, scores_rows_avx2, bf16_to_float_avx2,
      transpose_portable, e4m3_to_float_avx2, nullptr,         nullptr};
}

namespace {

// The native row-major scores want dq a multiple of 16; others take the AVX2 kernel.
void scores_rows_avx512(const float* q, std::int64_t rows, std::int64_t dq, const float* k,
                        std::int64_t ldk, std::int64_t n, float* s, PrefetchRange next) {
  if (dq % 16 == 0)
    scores_rows_avx512_native(q, rows, dq, k, ldk, n, s, next);
  else
    scores_rows_avx2(q, rows, dq, k, ldk, n, s, next);
}

}  // namespace

// The FP8 conversion stays AVX2 (AVX-512F CPUs have AVX2).
TileKernels tile_kernels_avx512() {
  return {scores_avx512_native, softmax_avx512_native,       accumulate_avx512_native,
          scores_rows_avx512,   bf16_to_float_avx512_native, transpose_avx512_native,
          e4m3_to_float_avx2,   scores_bf16_avx512_native,   accumulate_bf16_avx512_native};
}

}  // namespace cobench::mla::detail
#endif
