// SPDX-License-Identifier: Apache-2.0
// A paged KV cache (vLLM/FlashMLA style): tokens live in fixed-size pages of a shared pool, and a
// block table maps each sequence's i-th page to a pool page; every sequence has its own length.
//
// PagedCache is the layout (any token size); the MLA latent cache stores DeepSeek-V3's 576-dim
// cached vector per token and layer, [c_t (512 latent); k_rope,t (64)], in one of two formats:
//   kBf16  576 BF16 values                                                     1152 B/token
//   kFp8   FlashMLA's layout: 512 E4M3 codes, 4 FP32 scales (one per 128 latent dims, amax/448),
//          then the 64-dim RoPE part in BF16: 512 + 4 * 4 + 64 * 2                656 B/token
// Slots no token has been written to hold NaN (every byte 0xFF: a NaN in BF16, FP8 E4M3 and
// FP32), so a kernel that reads past a sequence's length produces NaN and fails its check.
// C++17: the CUDA kernels include this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/aligned_allocator.h"

namespace cobench::mla {

inline constexpr std::int64_t kPageTokens = 64;
inline constexpr std::int64_t kLatentDims = 512;                  ///< kv_lora_rank
inline constexpr std::int64_t kRopeDims = 64;                     ///< qk_rope_head_dim
inline constexpr std::int64_t kQkDims = kLatentDims + kRopeDims;  ///< 576: what a score reads
inline constexpr std::int64_t kVDims = kLatentDims;               ///< 512: what the output sums
inline constexpr std::int64_t kFp8ScaleGroup = 128;               ///< latent dims per FP8 scale
inline constexpr std::int64_t kBf16TokenBytes = kQkDims * 2;      ///< 1152
inline constexpr std::int64_t kFp8TokenBytes =
    kLatentDims + (kLatentDims / kFp8ScaleGroup) * 4 + kRopeDims * 2;  ///< 656

enum class KvPrecision { kBf16, kFp8 };

const char* precision_name(KvPrecision p);
std::int64_t token_bytes(KvPrecision p);

/// The paged layout: pool [pages, page_tokens, token_bytes], block table [batch, max_pages].
struct PagedCache {
  std::int64_t page_tokens = kPageTokens;
  std::int64_t token_bytes = 0;
  std::int64_t pages = 0;                 ///< pool pages (sequences' pages plus spares)
  std::int64_t max_pages = 0;             ///< block table columns
  CacheAlignedVector<std::uint8_t> pool;  ///< starts on a cache line: kernels read whole lines
  std::vector<std::int32_t> block_table;  ///< -1: no page
  std::vector<std::int64_t> lengths;      ///< tokens written per sequence
  std::vector<std::int64_t> capacity;     ///< tokens each sequence's pages hold

  std::int64_t batch() const { return static_cast<std::int64_t>(lengths.size()); }
  std::int32_t page_of(std::int64_t seq, std::int64_t pos) const {
    return block_table[static_cast<std::size_t>(seq * max_pages + pos / page_tokens)];
  }
  /// The bytes of token `pos` of sequence `seq` (pos < capacity).
  const std::uint8_t* token(std::int64_t seq, std::int64_t pos) const {
    return pool.data() +
           (static_cast<std::int64_t>(page_of(seq, pos)) * page_tokens + pos % page_tokens) *
               token_bytes;
  }
  std::uint8_t* token(std::int64_t seq, std::int64_t pos) {
    return const_cast<std::uint8_t*>(static_cast<const PagedCache*>(this)->token(seq, pos));
  }
  /// Bytes of cache the sequences' tokens occupy (what a decode step must read).
  std::int64_t used_bytes() const;
  /// Throws cobench::Error unless sequence `seq` exists and has at least one token, and its block
  /// table row maps every page its length covers to a page of the pool (what every decode checks
  /// before it reads; slots past what was written are NaN, not out of bounds).
  void check_sequence(std::int64_t seq) const;
};

/// A pool with room for `capacity[s]` tokens per sequence (rounded up to whole pages) plus
/// `spare_pages` never assigned, all NaN-filled; lengths start at 0. Pages are handed out in a
/// shuffled order (seeded) so that no kernel can assume a sequence's pages are contiguous.
PagedCache make_paged_cache(std::int64_t token_bytes, const std::vector<std::int64_t>& capacity,
                            std::int64_t page_tokens = kPageTokens, std::int64_t spare_pages = 1,
                            std::uint64_t seed = 1);

struct MlaCache {
  KvPrecision precision = KvPrecision::kBf16;
  PagedCache paged;
};

MlaCache make_mla_cache(KvPrecision p, const std::vector<std::int64_t>& capacity,
                        std::uint64_t seed = 1);

/// Encodes one token's 576 values (latent then RoPE) into `out` (token_bytes(p) bytes).
void encode_mla_token(KvPrecision p, const float* kv, std::uint8_t* out);
/// Decodes one token (exact: what every kernel computes with) into 576 values.
void decode_mla_token(KvPrecision p, const std::uint8_t* in, float* kv);

/// Appends tokens [n, 576] to sequence `seq`; throws cobench::Error past its capacity.
void append_tokens(MlaCache& c, std::int64_t seq, const float* kv, std::int64_t n);

/// Fills every sequence to its capacity with pseudo-random N(0, 1)-like values (fast, seeded,
/// multithreaded; for benchmarks whose contexts are too long for append_tokens' callers).
void fill_random(MlaCache& c, std::uint64_t seed, int threads = 0);

/// Throws cobench::Error unless batch >= 1, context >= 1 and nan_slots >= 0 (the arguments of
/// the make_benchmark_cache functions, MLA's and GQA's); returns the capacities of the `batch`
/// sequences, context + nan_slots each.
std::vector<std::int64_t> benchmark_cache_capacities(std::int64_t batch, std::int64_t context,
                                                     std::int64_t nan_slots);

/// A benchmark's cache: `batch` sequences of `context` tokens of fill_random values (seeded), each
/// followed by `nan_slots` unwritten (NaN) slots that a read past the length would reach.
MlaCache make_benchmark_cache(KvPrecision p, std::int64_t batch, std::int64_t context,
                              std::int64_t nan_slots, std::uint64_t seed = 11);

/// The dequantized cache of one sequence, contiguous: [length, 576] in double.
std::vector<double> gather_sequence(const MlaCache& c, std::int64_t seq);

}  // namespace cobench::mla
