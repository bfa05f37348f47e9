// SPDX-License-Identifier: Apache-2.0
// The baselines MLA is measured against: grouped-query attention decode (Qwen2.5-72B: 64 query
// heads, 8 KV heads, head dim 128) and multi-head attention (as many KV heads as query heads),
// over a paged BF16 cache with the same 64-token pages. A token stores, per KV head, its key and
// value: 2 x 8 x 128 x 2 = 4096 B per token and layer for Qwen2.5-72B (MLA: 1152 BF16, 656 FP8),
// laid out per page as [kv_heads, 2, 64 tokens, head_dim] (vLLM's per-head blocks), so that a
// KV head's keys or values of one page are contiguous. Shapes: q [batch, q_heads, head_dim] with
// query head h reading KV head h / (q_heads / kv_heads); out like q; lse [batch, q_heads].
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/mla/mla_decode.h"
#include "kernels/mla/paged_cache.h"

namespace cobench::mla {

struct GqaShape {
  std::int64_t q_heads = 64;
  std::int64_t kv_heads = 8;
  std::int64_t head_dim = 128;

  std::int64_t group() const { return q_heads / kv_heads; }
  std::int64_t token_bytes() const { return kv_heads * 2 * head_dim * 2; }
  double scale() const;  ///< 1 / sqrt(head_dim)
};

/// Qwen2.5-72B's attention (GQA) and the same model with one KV head per query head (MHA).
GqaShape qwen25_72b_gqa();
GqaShape qwen25_72b_mha();

struct GqaCache {
  GqaShape shape;
  PagedCache paged;
};

GqaCache make_gqa_cache(const GqaShape& s, const std::vector<std::int64_t>& capacity,
                        std::uint64_t seed = 1);

/// Fills every sequence to its capacity with pseudo-random BF16 values of unit variance.
void fill_random(GqaCache& c, std::uint64_t seed, int threads = 0);

/// A benchmark's cache: `batch` sequences of `context` tokens of fill_random values (seeded), each
/// followed by `nan_slots` unwritten (NaN) slots (every KV head's key and value rows).
GqaCache make_benchmark_cache(const GqaShape& s, std::int64_t batch, std::int64_t context,
                              std::int64_t nan_slots, std::uint64_t seed = 11);

/// One sequence in FP64: q [q_heads, head_dim] -> out [q_heads, head_dim], lse [q_heads].
void gqa_decode_ref_seq(const GqaCache& c, std::int64_t seq, const double* q, double scale,
                        double* out, double* lse);

/// Flash-decoding on the CPU: (sequence, KV head, KV split) tasks; each reads its KV head's pages
/// once for the query heads of its group (detail::attend_chunk_bf16_rows: on AVX-512 the kernels
/// read the BF16 rows directly, elsewhere they are converted 16 tokens at a time) and prefetching
/// its next page meanwhile.
void gqa_decode_cpu(const GqaCache& c, const float* q, float scale, float* out, float* lse,
                    const CpuDecodeOptions& options = {});

}  // namespace cobench::mla
