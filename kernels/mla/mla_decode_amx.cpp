// SPDX-License-Identifier: Apache-2.0
// The AMX decode of mla_decode_amx.h: call it only where cpu_isa_supported(CpuIsa::kAmx), which
// also asks the OS for the tile state. The file is compiled for baseline x86-64 and each function
// that uses AMX or AVX-512 says so (COBENCH_AMX): a whole-file -mavx512f would also compile the
// std:: templates this file instantiates (std::fill, std::vector's members) with AVX-512, and
// the linker may keep those copies for every other caller. Tiles (palette 1, each 16 rows x 64
// bytes):
//   0-3  FP32 accumulators: 16 heads x 16 tokens (scores) or 16 heads x 16 columns (P V)
//   4-5  A: 16 heads x 32 BF16 of Q or P, the _hi and _lo halves
//   6-7  B: 16 pairs x 16 columns of BF16 pairs (K^T or V), alternately
#include "kernels/mla/mla_decode_amx.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#define COBENCH_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512bf16")))

namespace cobench::mla::detail {
namespace {

constexpr std::int64_t kPairs = kQkDims / 2;  // 288 BF16 pairs in a cached token
constexpr std::int64_t kTile = 16;            // rows of a tile, FP32 columns of an accumulator

struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

// Loads the configuration on construction and releases the tiles on destruction: one task.
struct TileScope {
  COBENCH_AMX TileScope() {
    TileConfig cfg;
    for (int i = 0; i < 8; ++i) cfg.colsb[i] = 64, cfg.rows[i] = kTile;
    _tile_loadconfig(&cfg);
  }
  COBENCH_AMX ~TileScope() { _tile_release(); }
  TileScope(const TileScope&) = delete;
  TileScope& operator=(const TileScope&) = delete;
};

// Flushes denormal results to zero and reads denormal inputs as zero (MXCSR FTZ and DAZ) for one
// task, restoring the caller's mode after. The smallest softmax weights (the exponential clamps
// at e^-87) have denormal residuals x - x_hi, and weights times the later pages' factors or the
// FP8 scales can be denormal; each FP32 operation on one takes a microcode assist: with a sharply
// peaked query, splitting P cost more than the tile products (values that small move no output by
// more than 2^-126 of its magnitude).
struct FlushDenormals {
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
  unsigned saved;
};

// x[0..32) -> hi = bf16(x) (round to nearest even), lo = bf16(x - hi), 32 values each.
COBENCH_AMX inline void split32(__m512 a, __m512 b, std::uint16_t* hi, std::uint16_t* lo) {
  const __m512bh h = _mm512_cvtne2ps_pbh(b, a);  // low 16 from a, high 16 from b
  const __m512i hb = (__m512i)h;
  const __m512 ha =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(hb)), 16));
  const __m512 hbf = _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(hb, 1)), 16));
  const __m512bh l = _mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hbf), _mm512_sub_ps(a, ha));
  _mm512_storeu_si512(hi, hb);
  _mm512_storeu_si512(lo, (__m512i)l);
}

// x [count] FP32 (count a multiple of 32) -> hi, lo [count] BF16.
COBENCH_AMX void split_rows(const float* x, std::int64_t count, std::uint16_t* hi,
                            std::uint16_t* lo) {
  for (std::int64_t i = 0; i < count; i += 32)
    split32(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16), hi + i, lo + i);
}

// Tiles of P V's operands are stored whole, 1 KiB each with rows 64 bytes apart: rows 2 KiB apart
// (V's or O's rows) would fall into two sets of the L1 cache and evict each other.
constexpr std::int64_t kColumnTiles = kVDims / kTile;  // 32 tiles of 16 columns across V and O

// Element (r, j) of O [hp, 512] in the tiled layout: tile (r / 16, j / 16), 16 x 16 FP32.
inline std::int64_t o_index(std::int64_t r, std::int64_t j) {
  return ((r / kTile * kColumnTiles + j / kTile) * kTile + r % kTile) * kTile + j % kTile;
}

// V [64, 512] of BF16 rows (row stride ld elements) -> token pairs, tiled: tile (ks, jb) holds
// pairs [16 ks, 16 ks + 16) x columns [16 jb, 16 jb + 16), row tp: V[2 tp][j], V[2 tp + 1][j]
// for the tile's 16 j. What a B tile of P V reads.
COBENCH_AMX void pair_rows(const std::uint16_t* v, std::int64_t ld, std::uint16_t* vv) {
  alignas(64) std::uint16_t lo_idx[32], hi_idx[32];
  for (int i = 0; i < 32; ++i) {
    lo_idx[i] = static_cast<std::uint16_t>((i % 2) * 32 + i / 2);
    hi_idx[i] = static_cast<std::uint16_t>((i % 2) * 32 + 16 + i / 2);
  }
  const __m512i lo = _mm512_load_si512(lo_idx), hi = _mm512_load_si512(hi_idx);
  for (std::int64_t tp = 0; tp < kChunk / 2; ++tp) {
    const std::uint16_t* a = v + 2 * tp * ld;
    const std::uint16_t* b = a + ld;
    std::uint16_t* dst = vv + ((tp / kTile) * kColumnTiles * kTile + tp % kTile) * 2 * kTile;
    for (std::int64_t j = 0; j < kVDims; j += 32) {
      const __m512i x = _mm512_loadu_si512(a + j), y = _mm512_loadu_si512(b + j);
      std::uint16_t* tile = dst + j / kTile * kTile * 2 * kTile;
      _mm512_storeu_si512(tile, _mm512_permutex2var_epi16(x, lo, y));
      _mm512_storeu_si512(tile + kTile * 2 * kTile, _mm512_permutex2var_epi16(x, hi, y));
    }
  }
}

// Pages whose P V one pass over O accumulates: every pass loads and stores O's tiles, and each
// such boundary waits for the products still adding into them (the tile unit idles), so a pass
// sums 4 pages x 2 token steps x 2 (P_hi, P_lo) = 16 products into each accumulator.
constexpr std::int64_t kPassPages = 4;
constexpr std::int64_t kPageVv = kChunk * kVDims;  // BF16 elements of a page's V token pairs

// One task's buffers, kept by each worker thread. Per page of a pass: V as token pairs (pair_rows),
// scores s [hp, 64], the softmax's rescale factors [hp] and, for an FP8 cache, the scales
// [4 groups][64 tokens] (zero past n); the page being scored: K^T as BF16 pairs [288][64] (32-bit
// words).
struct Scratch {
  CacheAlignedVector<std::uint16_t> q_hi, q_lo, p_hi, p_lo, rows16, kt, vv;
  CacheAlignedVector<float> scales, tmp, s, alphas, factor;
  Partial part;
};

constexpr std::int64_t kGroups = kLatentDims / kFp8ScaleGroup;  // FP8 scale groups: 4
constexpr std::int64_t kGroupSteps = kFp8ScaleGroup / 32;       // 32-dim steps a group: 4

// Lays out page `slot` of the pass's K^T and V operands from BF16 rows [64, 576] (rows >= n zero).
COBENCH_AMX void lay_out(const std::uint16_t* rows, std::int64_t slot, Scratch& w) {
  // A 32-bit transpose moves the BF16 pairs as they are: kt[p * 64 + t] = rows[t][2p, 2p + 1].
  transpose_avx512_native(reinterpret_cast<const float*>(rows), kPairs, kPairs,
                          reinterpret_cast<float*>(w.kt.data()));
  pair_rows(rows, kQkDims, w.vv.data() + slot * kPageVv);
}

// BF16: the page's rows as they are. FP8: the E4M3 codes as BF16 (exact: 4-bit significands)
// with the scales kept apart, applied to the scores' groups and folded into P.
COBENCH_AMX void load_page(KvPrecision precision, const std::uint8_t* page, std::int64_t n,
                           std::int64_t slot, Scratch& w) {
  if (precision == KvPrecision::kBf16) {
    const auto* src = reinterpret_cast<const std::uint16_t*>(page);
    if (n < kChunk) {  // the slots past n are not the sequence's (NaN): zero rows instead
      std::memcpy(w.rows16.data(), src, static_cast<size_t>(n * kQkDims * 2));
      std::fill(w.rows16.begin() + n * kQkDims, w.rows16.end(), std::uint16_t{0});
      src = w.rows16.data();
    }
    lay_out(src, slot, w);
    return;
  }
  std::uint16_t* rows = w.rows16.data();
  float* page_scales = w.scales.data() + slot * kGroups * kChunk;
  std::fill(page_scales, page_scales + kGroups * kChunk, 0.0f);
  for (std::int64_t t = 0; t < n; ++t) {
    const std::uint8_t* tok = page + t * kFp8TokenBytes;
    float scales[kGroups];
    std::memcpy(scales, tok + kLatentDims, sizeof scales);
    for (std::int64_t g = 0; g < kGroups; ++g) page_scales[g * kChunk + t] = scales[g];
    e4m3_to_bf16_amx(tok, kLatentDims, rows + t * kQkDims);
    std::memcpy(rows + t * kQkDims + kLatentDims, tok + kLatentDims + sizeof scales, kRopeDims * 2);
  }
  std::fill(rows + n * kQkDims, rows + kChunk * kQkDims, std::uint16_t{0});
  lay_out(rows, slot, w);
}

// Scores' 32-dim steps [k0, k1) of Q_hi and Q_lo (16 heads at a, a_lo, row stride 576) added to
// tiles 0-3 (16 heads x 64 tokens); B, K^T's pairs, alternates between tiles 6 and 7.
#define COBENCH_AMX_SCORES_B(C, B, kt, ks, tb)                               \
  _tile_loadd(B, (kt) + ((ks)*kTile * kChunk + (tb)*kTile) * 2, kChunk * 4); \
  _tile_dpbf16ps(C, 4, B);                                                   \
  _tile_dpbf16ps(C, 5, B)

// Also prefetches lines [first, last) of pf into L2, spread over the steps.
COBENCH_AMX void scores_steps(const std::uint16_t* a, const std::uint16_t* a_lo,
                              const std::uint16_t* kt, std::int64_t k0, std::int64_t k1,
                              const std::uint8_t* pf, std::int64_t first, std::int64_t last) {
  for (std::int64_t ks = k0; ks < k1; ++ks) {
    for (std::int64_t i = first + (last - first) * (ks - k0) / (k1 - k0);
         i < first + (last - first) * (ks - k0 + 1) / (k1 - k0); ++i)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 64 * i), _MM_HINT_T1);
    _tile_loadd(4, a + ks * 32, kQkDims * 2);
    _tile_loadd(5, a_lo + ks * 32, kQkDims * 2);
    COBENCH_AMX_SCORES_B(0, 6, kt, ks, 0);
    COBENCH_AMX_SCORES_B(1, 7, kt, ks, 1);
    COBENCH_AMX_SCORES_B(2, 6, kt, ks, 2);
    COBENCH_AMX_SCORES_B(3, 7, kt, ks, 3);
  }
}

COBENCH_AMX void zero_accumulators() {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

COBENCH_AMX void store_accumulators(float* dst) {  // 16 rows x 64 FP32, row stride 64
  _tile_stored(0, dst, kChunk * 4);
  _tile_stored(1, dst + kTile, kChunk * 4);
  _tile_stored(2, dst + 2 * kTile, kChunk * 4);
  _tile_stored(3, dst + 3 * kTile, kChunk * 4);
}

COBENCH_AMX void load_accumulators(const float* src) {  // 16 rows x 64 FP32, row stride 64
  _tile_loadd(0, src, kChunk * 4);
  _tile_loadd(1, src + kTile, kChunk * 4);
  _tile_loadd(2, src + 2 * kTile, kChunk * 4);
  _tile_loadd(3, src + 3 * kTile, kChunk * 4);
}

// s [hp, 64] = Q K^T, over ranges of K's dims, each range for every head block before the next:
// a range's K^T (at most 36 KiB) stays in L1 while the head blocks' queries stream from L2.
// BF16: two halves, the second adding to the first's sums. FP8: the RoPE dims' scores, then each
// scale group's, times the group's per-token scales (the columns' lanes), added in FP32.
// Prefetches `next` into L2 meanwhile (the block table scatters pages, so no hardware prefetcher
// sees the next one coming).
COBENCH_AMX void scores(Scratch& w, KvPrecision precision, std::int64_t hp,
                        const float* page_scales, float* s, PrefetchRange next) {
  const std::uint16_t* kt = w.kt.data();
  const bool fp8 = precision == KvPrecision::kFp8;
  constexpr std::int64_t kSteps = kPairs / kTile, kHalf = kSteps / 2, kRope = kLatentDims / 32;
  // [k0, k1) of each range: BF16 two halves; FP8 RoPE, then the 4 scale groups.
  const std::int64_t bf16_ranges[][2] = {{0, kHalf}, {kHalf, kSteps}};
  const std::int64_t fp8_ranges[][2] = {{kRope, kSteps},
                                        {0, kGroupSteps},
                                        {kGroupSteps, 2 * kGroupSteps},
                                        {2 * kGroupSteps, 3 * kGroupSteps},
                                        {3 * kGroupSteps, kRope}};
  const std::int64_t ranges = fp8 ? 5 : 2;
  const std::int64_t lines = (next.bytes + 63) / 64, blocks = ranges * hp / kTile;
  std::int64_t block = 0;
  for (std::int64_t k = 0; k < ranges; ++k) {
    const std::int64_t k0 = fp8 ? fp8_ranges[k][0] : bf16_ranges[k][0];
    const std::int64_t k1 = fp8 ? fp8_ranges[k][1] : bf16_ranges[k][1];
    for (std::int64_t h0 = 0; h0 < hp; h0 += kTile, ++block) {
      float* dst = s + h0 * kChunk;
      if (k == 0 || fp8)
        zero_accumulators();
      else
        load_accumulators(dst);
      scores_steps(w.q_hi.data() + h0 * kQkDims, w.q_lo.data() + h0 * kQkDims, kt, k0, k1,
                   next.data, block * lines / blocks, (block + 1) * lines / blocks);
      if (k == 0 || !fp8) {
        store_accumulators(dst);
        continue;
      }
      store_accumulators(w.tmp.data());
      const float* sc = page_scales + (k - 1) * kChunk;
      for (std::int64_t t = 0; t < kChunk; t += 16) {
        const __m512 v = _mm512_loadu_ps(sc + t);
        for (std::int64_t r = 0; r < kTile; ++r)
          _mm512_storeu_ps(dst + r * kChunk + t,
                           _mm512_fmadd_ps(_mm512_loadu_ps(w.tmp.data() + r * kChunk + t), v,
                                           _mm512_loadu_ps(dst + r * kChunk + t)));
      }
    }
  }
}

// P (s after the softmax; columns >= n zero) times factor [hp] (the later pages' rescales) and,
// when given, `scale` [64] (an FP8 scale group's) -> hi, lo [hp, 64].
COBENCH_AMX void split_p(const float* s, std::int64_t hp, std::int64_t n, const float* factor,
                         const float* scale, std::uint16_t* hi, std::uint16_t* lo) {
  __m512 sc[4];
  for (int i = 0; i < 4; ++i) {
    const std::int64_t valid = std::min<std::int64_t>(16, std::max<std::int64_t>(0, n - 16 * i));
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1);
    sc[i] = _mm512_maskz_mov_ps(m, scale ? _mm512_loadu_ps(scale + 16 * i) : _mm512_set1_ps(1.0f));
  }
  for (std::int64_t r = 0; r < hp; ++r) {
    const float* x = s + r * kChunk;
    const __m512 f = _mm512_set1_ps(factor[r]);
    for (int i = 0; i < 4; i += 2)
      split32(_mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * i), sc[i]), f),
              _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * i + 16), sc[i + 1]), f),
              hi + r * kChunk + 16 * i, lo + r * kChunk + 16 * i);
  }
}

// o [hp, 512] = alpha o + sum over the pass's pages of P V (page i's first ksteps[i] x 32 tokens);
// p_hi, p_lo hold `sets` copies of each page's P [hp, 64] (FP8: one a scale group of 128
// columns), page-major.
COBENCH_AMX void accumulate(const Scratch& w, std::int64_t hp, std::int64_t pages,
                            const std::int64_t* ksteps, std::int64_t sets, const float* alpha,
                            float* o) {
  for (std::int64_t r = 0; r < hp; ++r)
    if (alpha[r] != 1.0f) {  // after the first pages the running max rarely moves
      const __m512 a = _mm512_set1_ps(alpha[r]);
      for (std::int64_t j = 0; j < kVDims; j += kTile) {
        float* x = o + o_index(r, j);
        _mm512_storeu_ps(x, _mm512_mul_ps(a, _mm512_loadu_ps(x)));
      }
    }
  // 2 x 2 accumulators (heads h0, h0 + 16 x columns j0, j0 + 16), so that each V tile serves two
  // head blocks and each P tile two column blocks: P_hi's products, then P_lo's.
  constexpr std::int64_t kT = kTile * kTile;
  // Head pairs outside, so that their P tiles stay in L1 across the columns (32 KiB a pass for a
  // BF16 cache; an FP8 cache's four scale groups make it 4 x 32 KiB, each group's used by its
  // 128 columns).
  for (std::int64_t h0 = 0; h0 < hp; h0 += 2 * kTile)
    for (std::int64_t j0 = 0; j0 < kVDims; j0 += 2 * kTile) {
      const std::int64_t set = sets == 1 ? 0 : j0 / kFp8ScaleGroup;
      float* c0 = o + o_index(h0, j0);          // tiles (h0, j0), (h0, j0 + 16)
      float* c1 = o + o_index(h0 + kTile, j0);  // tiles (h0 + 16, j0), (h0 + 16, j0 + 16)
      _tile_loadd(0, c0, kTile * 4);
      _tile_loadd(1, c0 + kT, kTile * 4);
      _tile_loadd(2, c1, kTile * 4);
      _tile_loadd(3, c1 + kT, kTile * 4);
      const std::int64_t jb = j0 / kTile;
      for (std::int64_t i = 0; i < pages; ++i) {
        const std::int64_t p_offset = ((i * sets + set) * hp + h0) * kChunk;
        for (std::int64_t ks = 0; ks < ksteps[i]; ++ks) {
          const std::uint16_t* v0 = w.vv.data() + i * kPageVv + (ks * kColumnTiles + jb) * 2 * kT;
          _tile_loadd(6, v0, 2 * kTile * 2);
          _tile_loadd(7, v0 + 2 * kT, 2 * kTile * 2);
          for (const std::uint16_t* pp : {w.p_hi.data() + p_offset, w.p_lo.data() + p_offset}) {
            _tile_loadd(4, pp + ks * 32, kChunk * 2);
            _tile_loadd(5, pp + kTile * kChunk + ks * 32, kChunk * 2);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
          }
        }
      }
      _tile_stored(0, c0, kTile * 4);
      _tile_stored(1, c0 + kT, kTile * 4);
      _tile_stored(2, c1, kTile * 4);
      _tile_stored(3, c1 + kT, kTile * 4);
    }
}

#undef COBENCH_AMX_SCORES_B

}  // namespace

COBENCH_AMX void e4m3_to_bf16_amx(const std::uint8_t* src, std::int64_t n, std::uint16_t* dst) {
  // E4M3 s.eeee.mmm with e > 0 is 2^(e - 7) 1.mmm: BF16 s.(e + 120).mmm0000, the code's low 7 bits
  // shifted up 4 plus 120 in the exponent field. e = 0 is m x 2^-9 (the 8 entries below, m = 0
  // the zero); s.1111.111 is NaN.
  alignas(64)
      std::uint16_t small[32] = {0x0000, 0x3B00, 0x3B80, 0x3BC0, 0x3C00, 0x3C20, 0x3C40, 0x3C60};
  const __m512i table = _mm512_load_si512(small);
  const __m512i mag_mask = _mm512_set1_epi16(0x7F), bias = _mm512_set1_epi16(120 << 7);
  const __m512i nan = _mm512_set1_epi16(0x7FC0), eight = _mm512_set1_epi16(8);
  for (std::int64_t i = 0; i < n; i += 32) {
    const __m512i c =
        _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    const __m512i mag = _mm512_and_si512(c, mag_mask);
    __m512i v = _mm512_add_epi16(_mm512_slli_epi16(mag, 4), bias);
    v = _mm512_mask_mov_epi16(v, _mm512_cmplt_epu16_mask(mag, eight),
                              _mm512_permutexvar_epi16(mag, table));
    v = _mm512_mask_mov_epi16(v, _mm512_cmpeq_epi16_mask(mag, mag_mask), nan);
    const __m512i sign = _mm512_slli_epi16(_mm512_srli_epi16(c, 7), 15);
    _mm512_storeu_si512(dst + i, _mm512_or_si512(v, sign));
  }
}

COBENCH_AMX void mla_pages_amx(const MlaCache& c, std::int64_t seq, std::int64_t first_page,
                               std::int64_t pages, const float* q, std::int64_t heads, float scale,
                               float* out, float* lse) {
  const PagedCache& p = c.paged;
  const std::int64_t hp = (heads + 31) / 32 * 32;  // heads padded to pairs of tiles
  thread_local Scratch w;
  const bool fp8 = c.precision == KvPrecision::kFp8;
  const std::int64_t sets = fp8 ? kGroups : 1;  // copies of P: FP8 folds each group's scales in
  w.q_hi.resize(static_cast<size_t>(hp * kQkDims));
  w.q_lo.resize(w.q_hi.size());
  w.p_hi.resize(static_cast<size_t>(kPassPages * sets * hp * kChunk));
  w.p_lo.resize(w.p_hi.size());
  for (auto* v : {&w.rows16, &w.kt}) v->resize(static_cast<size_t>(kChunk * kQkDims));
  w.vv.resize(static_cast<size_t>(kPassPages * kPageVv));
  w.scales.resize(static_cast<size_t>(kPassPages * kGroups * kChunk));
  w.tmp.resize(static_cast<size_t>(kTile * kChunk));
  w.s.resize(static_cast<size_t>(kPassPages * hp * kChunk));
  w.alphas.resize(static_cast<size_t>(kPassPages * hp));
  w.factor.resize(static_cast<size_t>(hp));
  split_rows(q, heads * kQkDims, w.q_hi.data(), w.q_lo.data());
  std::fill(w.q_hi.begin() + heads * kQkDims, w.q_hi.begin() + hp * kQkDims, std::uint16_t{0});
  std::fill(w.q_lo.begin() + heads * kQkDims, w.q_lo.begin() + hp * kQkDims, std::uint16_t{0});
  Partial& part = w.part;
  part.reset(hp, kVDims);
  const std::int64_t len = p.lengths[static_cast<size_t>(seq)], end = first_page + pages;
  {
    TileScope tiles;
    FlushDenormals ftz;
    for (std::int64_t pg0 = first_page; pg0 < end; pg0 += kPassPages) {
      const std::int64_t count = std::min(kPassPages, end - pg0);
      std::int64_t n[kPassPages], ksteps[kPassPages];
      for (std::int64_t i = 0; i < count; ++i) {
        n[i] = std::min(kChunk, len - (pg0 + i) * kChunk);
        ksteps[i] = n[i] > 32 ? 2 : 1;
        load_page(c.precision, p.token(seq, (pg0 + i) * kChunk), n[i], i, w);
        float* s = w.s.data() + i * hp * kChunk;
        PrefetchRange next;
        if (pg0 + i + 1 < end)
          next = {p.token(seq, (pg0 + i + 1) * kChunk),
                  std::min(kChunk, len - (pg0 + i + 1) * kChunk) * p.token_bytes};
        scores(w, c.precision, hp, w.scales.data() + i * kGroups * kChunk, s, next);
        softmax_avx512_native(s, hp, n[i], scale, part.m.data(), part.l.data(), part.alpha.data());
        std::copy(part.alpha.begin(), part.alpha.end(), w.alphas.begin() + i * hp);
      }
      // Page i's P is relative to the running max after page i: the later pages' rescales
      // bring it to the pass's final max, and O takes all of them.
      std::fill(w.factor.begin(), w.factor.end(), 1.0f);
      for (std::int64_t i = count - 1; i >= 0; --i) {
        for (std::int64_t g = 0; g < sets; ++g)
          split_p(w.s.data() + i * hp * kChunk, hp, n[i], w.factor.data(),
                  fp8 ? w.scales.data() + (i * kGroups + g) * kChunk : nullptr,
                  w.p_hi.data() + (i * sets + g) * hp * kChunk,
                  w.p_lo.data() + (i * sets + g) * hp * kChunk);
        for (std::int64_t r = 0; r < hp; ++r)
          w.factor[static_cast<size_t>(r)] *= w.alphas[static_cast<size_t>(i * hp + r)];
      }
      accumulate(w, hp, count, ksteps, sets, w.factor.data(), part.o.data());
    }
  }
  for (std::int64_t r = 0; r < heads; ++r) {
    const __m512 inv = _mm512_set1_ps(1.0f / part.l[static_cast<size_t>(r)]);
    for (std::int64_t j = 0; j < kVDims; j += kTile)  // a row of a tile: 16 contiguous floats
      _mm512_storeu_ps(out + r * kVDims + j,
                       _mm512_mul_ps(_mm512_loadu_ps(part.o.data() + o_index(r, j)), inv));
    lse[r] = part.m[static_cast<size_t>(r)] + std::log(part.l[static_cast<size_t>(r)]);
  }
}

}  // namespace cobench::mla::detail

#undef COBENCH_AMX
