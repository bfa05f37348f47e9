// SPDX-License-Identifier: Apache-2.0
// The CPU decode kernels' inner loop (internal to kernels/mla): a group of query rows attends to
// one chunk of at most 64 dequantized tokens with an online softmax in FP32 (flash attention).
// Per chunk: S = Q K^T over dq dims (K given transposed, [dq, 64]), softmax update of the running
// max m, sum l and output O [rows, dv] (rescaled by alpha = exp(m_old - m_new)), O += P V.
// The three steps have AVX-512, AVX2+FMA and portable versions, picked once per call; GQA and MHA
// read BF16 rows through kernels of their own (AVX-512 only; elsewhere the rows are converted).
#pragma once

#include <cstdint>
#include <vector>

#include "core/aligned_allocator.h"
#include "kernels/mla/mla_decode.h"

namespace cobench::mla::detail {

inline constexpr std::int64_t kChunk = 64;  ///< tokens per chunk: one page

/// Memory the next chunk will read (the cache's next page, which the block table may put
/// anywhere): the P V kernels prefetch it into L2 a few lines at a time while they run. A hint:
/// results do not depend on it; {} for none.
struct PrefetchRange {
  const std::uint8_t* data = nullptr;
  std::int64_t bytes = 0;
};

struct TileKernels {
  /// s[r * 64 + t] = sum_d q[r * dq + d] kt[d * 64 + t] for r < rows, t < n (columns up to the
  /// next multiple of 16 or 32 may be written; kt must be finite there).
  void (*scores)(const float* q, std::int64_t rows, std::int64_t dq, const float* kt,
                 std::int64_t n, float* s);
  /// Per row: x = s * scale (t < n); m' = max(m, max x); alpha = exp(m - m'); s = exp(x - m');
  /// l = l alpha + sum s; m = m'.
  void (*softmax)(float* s, std::int64_t rows, std::int64_t n, float scale, float* m, float* l,
                  float* alpha);
  /// o[r * dv + j] = alpha[r] o[r * dv + j] + sum_{t < n} p[r * 64 + t] v[t * ldv + j];
  /// dv is a multiple of 32. Prefetches `next` (the AVX2 and AVX-512 kernels; portable: no).
  void (*accumulate)(const float* p, std::int64_t rows, const float* v, std::int64_t ldv,
                     std::int64_t n, std::int64_t dv, const float* alpha, float* o,
                     PrefetchRange next);
  /// s[r * 64 + t] = sum_d q[r * dq + d] k[t * ldk + d] for r < rows, t < n: K row-major, for
  /// few rows (GQA, MHA); dq is a multiple of 8. Prefetches `next` (AVX-512; others: no).
  void (*scores_rows)(const float* q, std::int64_t rows, std::int64_t dq, const float* k,
                      std::int64_t ldk, std::int64_t n, float* s, PrefetchRange next);
  /// dst[i] = the BF16 value stored at src + 2 i (any alignment), i < n.
  void (*bf16_to_float)(const std::uint8_t* src, std::int64_t n, float* dst);
  /// kt[d * 64 + t] = rows[t * ldr + d] for t < 64, d < dq: one chunk's K transposed for scores;
  /// dq is a multiple of 16.
  void (*transpose)(const float* rows, std::int64_t ldr, std::int64_t dq, float* kt);
  /// dst[i] = the E4M3 value of src[i] times scale, i < n (NaN codes give NaN): the FP8 cache's
  /// latent, one scale group at a time.
  void (*e4m3_to_float)(const std::uint8_t* src, std::int64_t n, float scale, float* dst);
  /// scores_rows straight from BF16 keys: s[r * 64 + t] = sum_d q[r, d] k[t, d] for r < rows,
  /// t < n, with q [rows, dq] in the pair-split layout (to_pair_split) and k BF16 rows of ldk
  /// elements; dq a multiple of 32. Prefetches `next`. nullptr where the ISA has none (AVX2,
  /// portable): attend_chunk_bf16_rows then converts the keys to floats first.
  void (*scores_bf16)(const float* q_split, std::int64_t rows, std::int64_t dq,
                      const std::uint8_t* k, std::int64_t ldk, std::int64_t n, float* s,
                      PrefetchRange next);
  /// accumulate straight from BF16 values: o [rows, dv] in the pair-split layout, v BF16 rows of
  /// ldv elements, dv a multiple of 32; nullptr where scores_bf16 is.
  void (*accumulate_bf16)(const float* p, std::int64_t rows, const std::uint8_t* v,
                          std::int64_t ldv, std::int64_t n, std::int64_t dv, const float* alpha,
                          float* o_split, PrefetchRange next);
};

/// The pair-split layout of a row of n floats (n a multiple of 32): in each block of 32, the 16
/// elements of even index, then the 16 of odd index. A 32-bit word of BF16 data holds an even
/// element in its low half and the next (odd) one in its high half, so a shift and a mask turn 32
/// BF16 values into two vectors of this layout, with no conversion stored to memory.
void to_pair_split(const float* x, std::int64_t n, float* out);
/// The inverse of to_pair_split.
void from_pair_split(const float* x, std::int64_t n, float* out);

/// TileKernels::transpose in plain C++ (the portable and AVX2 tables use it).
void transpose_portable(const float* rows, std::int64_t ldr, std::int64_t dq, float* kt);

#if defined(__x86_64__)
/// The AVX2+FMA and AVX-512F kernels (attention_tile_x86.cpp); call only where the CPU has them.
TileKernels tile_kernels_avx2();
TileKernels tile_kernels_avx512();
/// TileKernels::scores, ::softmax, ::accumulate and ::transpose in native AVX-512F
/// (attention_tile_avx512.cpp, from attention_tile_avx512.inc); call only where the CPU has
/// AVX-512F.
void scores_avx512_native(const float* q, std::int64_t rows, std::int64_t dq, const float* kt,
                          std::int64_t n, float* s);
void accumulate_avx512_native(const float* p, std::int64_t rows, const float* v, std::int64_t ldv,
                              std::int64_t n, std::int64_t dv, const float* alpha, float* o,
                              PrefetchRange next);
void softmax_avx512_native(float* s, std::int64_t rows, std::int64_t n, float scale, float* m,
                           float* l, float* alpha);
void transpose_avx512_native(const float* rows, std::int64_t ldr, std::int64_t dq, float* kt);
void scores_rows_avx512_native(const float* q, std::int64_t rows, std::int64_t dq, const float* k,
                               std::int64_t ldk, std::int64_t n, float* s, PrefetchRange next);
void bf16_to_float_avx512_native(const std::uint8_t* src, std::int64_t n, float* dst);
void scores_bf16_avx512_native(const float* q_split, std::int64_t rows, std::int64_t dq,
                               const std::uint8_t* k, std::int64_t ldk, std::int64_t n, float* s,
                               PrefetchRange next);
void accumulate_bf16_avx512_native(const float* p, std::int64_t rows, const std::uint8_t* v,
                                   std::int64_t ldv, std::int64_t n, std::int64_t dv,
                                   const float* alpha, float* o_split, PrefetchRange next);
#endif

/// kAuto resolved to best_cpu_isa(); throws cobench::Error for an ISA this CPU lacks.
CpuIsa resolve_isa(CpuIsa isa);
TileKernels tile_kernels(CpuIsa resolved);

/// The running state of `rows` query rows: max, sum and unnormalized output.
struct Partial {
  std::int64_t rows = 0, dv = 0;
  // On cache lines, as the pages: the kernels load whole 64-byte lines of o, s and q.
  CacheAlignedVector<float> m, l, alpha, o, s;
  CacheAlignedVector<float> ones;  ///< rows x 1.0f: the rescale of a chunk's later pieces
  CacheAlignedVector<float>
      q;                    ///< the query [rows, dv] of attend_chunk_bf16_rows (start_bf16_rows)
  bool pair_split = false;  ///< q and o are in the pair-split layout (to_pair_split)
  void reset(std::int64_t rows, std::int64_t dv);
};

/// One chunk of n <= 64 tokens: kt [dq, 64] (finite in every column), v [n, ldv]; `next` is
/// prefetched meanwhile.
void attend_chunk(const TileKernels& k, const float* q, std::int64_t dq, const float* kt,
                  const float* v, std::int64_t ldv, std::int64_t n, float scale, Partial& p,
                  PrefetchRange next = {});

/// Tokens a BF16 chunk is converted at a time by attend_chunk_bf16_rows: 16 rows of a 128-dim
/// head are 8 KiB of floats, which stay in L1 (a whole chunk's 32 KiB of keys and 32 KiB of
/// values would not: storing them was the GQA kernel's bottleneck).
inline constexpr std::int64_t kBf16Piece = 16;

/// Resets p for attend_chunk_bf16_rows over q [rows, d] (d a multiple of 32), keeping q in the
/// layout the kernels read: pair-split where the ISA has scores_bf16 and accumulate_bf16, else as
/// given.
void start_bf16_rows(const TileKernels& kern, const float* q, std::int64_t rows, std::int64_t d,
                     Partial& p);

/// One chunk of n <= 64 tokens whose keys and values are BF16 rows, K and V row-major [n, d]
/// (GQA, MHA), for the query start_bf16_rows gave p; P V over all d. With scores_bf16 and
/// accumulate_bf16 the kernels read the BF16 rows themselves; otherwise the rows are converted
/// kBf16Piece tokens at a time into `scratch` (kBf16Piece x d floats). `next_k` is prefetched
/// while the scores are computed, `next_v` while P V is. The result is that of one call of each
/// kernel over the whole chunk. (MLA's 128 query rows stay on dequantized pages and attend_chunk,
/// whose transposed tiles reuse each loaded key for 12 rows, not 4.)
void attend_chunk_bf16_rows(const TileKernels& kern, const std::uint8_t* k, const std::uint8_t* v,
                            std::int64_t n, float scale, Partial& p, float* scratch,
                            PrefetchRange next_k = {}, PrefetchRange next_v = {});

/// out [rows, dv] = o / l (in the usual layout where o is pair-split), lse [rows] = m + log l.
void finish(const Partial& p, float* out, float* lse);

/// Merges `splits` partial results of the same rows: outs [splits, rows * dv], lses
/// [splits, rows] -> out [rows, dv], lse [rows].
void combine(const float* outs, const float* lses, std::int64_t splits, std::int64_t rows,
             std::int64_t dv, float* out, float* lse);

}  // namespace cobench::mla::detail
