// SPDX-License-Identifier: Apache-2.0
#include "kernels/mla/gqa_decode.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/mla/attention_tile.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla {
namespace {

using detail::kChunk;

float bf16_at(const std::uint8_t* p) {
  std::uint16_t bits;
  std::memcpy(&bits, p, 2);
  return num::decode_bf16(bits);
}

// The key (part 0) or value (part 1) row of KV head `h` for token `pos` of sequence `seq`. A
// page holds [kv_heads, 2, page_tokens, head_dim] BF16 (vLLM's per-head block layout), so one KV
// head's keys (or values) for a page's tokens are contiguous: a task streams them.
const std::uint8_t* row_of(const GqaCache& c, std::int64_t seq, std::int64_t pos, std::int64_t h,
                           int part) {
  const PagedCache& p = c.paged;
  const std::uint8_t* page = p.pool.data() + static_cast<std::int64_t>(p.page_of(seq, pos)) *
                                                 p.page_tokens * p.token_bytes;
  return page + ((h * 2 + part) * p.page_tokens + pos % p.page_tokens) * c.shape.head_dim * 2;
}

void check_cache(const GqaCache& c) {
  const GqaShape& s = c.shape;
  COBENCH_CHECK(s.kv_heads >= 1 && s.q_heads % s.kv_heads == 0 && s.head_dim % 32 == 0,
                fmt::format("query heads ({}) must be a multiple of KV heads ({}), head dim ({}) "
                            "of 32",
                            s.q_heads, s.kv_heads, s.head_dim));
  COBENCH_CHECK(c.paged.token_bytes == s.token_bytes() && c.paged.page_tokens == kChunk,
                "the cache does not have this shape's layout");
  for (std::int64_t seq = 0; seq < c.paged.batch(); ++seq) c.paged.check_sequence(seq);
}

}  // namespace

double GqaShape::scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }

GqaShape qwen25_72b_gqa() { return {64, 8, 128}; }
GqaShape qwen25_72b_mha() { return {64, 64, 128}; }

GqaCache make_gqa_cache(const GqaShape& s, const std::vector<std::int64_t>& capacity,
                        std::uint64_t seed) {
  return GqaCache{s, make_paged_cache(s.token_bytes(), capacity, kPageTokens, 1, seed)};
}

void fill_random(GqaCache& c, std::uint64_t seed, int threads) {
  PagedCache& p = c.paged;
  threads = thread_count(threads);
  parallel_for(p.batch(), threads, [&](std::int64_t seq) {
    std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(seq);
    for (std::int64_t t = 0; t < p.capacity[static_cast<size_t>(seq)]; ++t)
      for (std::int64_t h = 0; h < c.shape.kv_heads; ++h)
        for (int part = 0; part < 2; ++part) {
          std::uint8_t* row = const_cast<std::uint8_t*>(row_of(c, seq, t, h, part));
          for (std::int64_t i = 0; i < c.shape.head_dim; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;  // an LCG
            const float x = (static_cast<float>(state >> 40) * 0x1p-24f - 0.5f) * 3.4641016f;
            const std::uint16_t b = num::encode_bf16(x);
            std::memcpy(row + 2 * i, &b, 2);
          }
        }
  });
  p.lengths = p.capacity;
}

GqaCache make_benchmark_cache(const GqaShape& s, std::int64_t batch, std::int64_t context,
                              std::int64_t nan_slots, std::uint64_t seed) {
  GqaCache c = make_gqa_cache(s, benchmark_cache_capacities(batch, context, nan_slots));
  fill_random(c, seed);
  for (std::int64_t seq = 0; seq < batch; ++seq) {
    for (std::int64_t t = context; t < context + nan_slots; ++t)
      for (std::int64_t h = 0; h < s.kv_heads; ++h)
        for (int part = 0; part < 2; ++part)
          std::memset(const_cast<std::uint8_t*>(row_of(c, seq, t, h, part)), 0xFF,
                      static_cast<size_t>(s.head_dim * 2));
    c.paged.lengths[static_cast<size_t>(seq)] = context;
  }
  return c;
}

void gqa_decode_ref_seq(const GqaCache& c, std::int64_t seq, const double* q, double scale,
                        double* out, double* lse) {
  check_cache(c);
  const GqaShape& s = c.shape;
  const std::int64_t n = c.paged.lengths[static_cast<size_t>(seq)], d = s.head_dim;
  std::vector<double> w(static_cast<size_t>(n));
  for (std::int64_t h = 0; h < s.q_heads; ++h) {
    const std::int64_t kvh = h / s.group();
    for (std::int64_t t = 0; t < n; ++t) {
      const std::uint8_t* k = row_of(c, seq, t, kvh, 0);
      double dot = 0;
      for (std::int64_t i = 0; i < d; ++i) dot += q[h * d + i] * bf16_at(k + 2 * i);
      w[static_cast<size_t>(t)] = dot * scale;
    }
    double top = w[0];
    for (double x : w) top = std::max(top, x);
    double sum = 0;
    for (double& x : w) sum += (x = std::exp(x - top));
    lse[h] = top + std::log(sum);
    for (std::int64_t i = 0; i < d; ++i) out[h * d + i] = 0;
    for (std::int64_t t = 0; t < n; ++t) {
      const std::uint8_t* v = row_of(c, seq, t, kvh, 1);
      for (std::int64_t i = 0; i < d; ++i)
        out[h * d + i] += w[static_cast<size_t>(t)] / sum * bf16_at(v + 2 * i);
    }
  }
}

void gqa_decode_cpu(const GqaCache& c, const float* q, float scale, float* out, float* lse,
                    const CpuDecodeOptions& options) {
  check_cache(c);
  const GqaShape& s = c.shape;
  const PagedCache& p = c.paged;
  const std::int64_t d = s.head_dim, g = s.group();
  const detail::TileKernels kernels = detail::tile_kernels(detail::resolve_isa(options.isa));
  const int threads = thread_count(options.threads);
  std::int64_t total_pages = 0;
  for (std::int64_t n : p.lengths) total_pages += (n + kChunk - 1) / kChunk;
  const std::int64_t split_pages =
      options.split_pages > 0
          ? options.split_pages
          : std::max<std::int64_t>(1, (total_pages * s.kv_heads + 4 * threads - 1) / (4 * threads));
  struct Task {
    std::int64_t seq, kv_head, first_page, pages, slot;
  };
  std::vector<Task> tasks;
  std::vector<std::pair<std::int64_t, std::int64_t>> merges;  // (seq, first slot)
  std::int64_t slots = 0;
  for (std::int64_t seq = 0; seq < p.batch(); ++seq) {
    const std::int64_t pages = (p.lengths[static_cast<size_t>(seq)] + kChunk - 1) / kChunk;
    const std::int64_t splits = (pages + split_pages - 1) / split_pages;
    if (splits > 1) merges.emplace_back(seq, slots);
    for (std::int64_t i = 0; i<splits; ++i, slots += splits> 1)
      for (std::int64_t h = 0; h < s.kv_heads; ++h)
        tasks.push_back({seq, h, i * split_pages, std::min(split_pages, pages - i * split_pages),
                         splits > 1 ? slots : -1});
  }
  // A partial slot holds every query head of its sequence's split.
  std::vector<float> part_out(static_cast<size_t>(slots * s.q_heads * d));
  std::vector<float> part_lse(static_cast<size_t>(slots * s.q_heads));
  parallel_for(static_cast<std::int64_t>(tasks.size()), threads, [&](std::int64_t i) {
    thread_local detail::Partial part;
    thread_local CacheAlignedVector<float> scratch;
    scratch.resize(static_cast<size_t>(detail::kBf16Piece * d));
    const Task& t = tasks[static_cast<size_t>(i)];
    const std::int64_t len = p.lengths[static_cast<size_t>(t.seq)];
    detail::start_bf16_rows(kernels, q + (t.seq * s.q_heads + t.kv_head * g) * d, g, d, part);
    for (std::int64_t pg = t.first_page; pg < t.first_page + t.pages; ++pg) {
      const std::int64_t n = std::min(kChunk, len - pg * kChunk);
      // One KV head's keys, then values, for the page's tokens: contiguous rows. The next page's
      // are fetched meanwhile (a hint: only the AVX-512 kernels prefetch).
      detail::PrefetchRange next_k, next_v;
      if (pg + 1 < t.first_page + t.pages) {
        const std::int64_t next = std::min(kChunk, len - (pg + 1) * kChunk);
        next_k = {row_of(c, t.seq, (pg + 1) * kChunk, t.kv_head, 0), next * d * 2};
        next_v = {row_of(c, t.seq, (pg + 1) * kChunk, t.kv_head, 1), next * d * 2};
      }
      detail::attend_chunk_bf16_rows(kernels, row_of(c, t.seq, pg * kChunk, t.kv_head, 0),
                                     row_of(c, t.seq, pg * kChunk, t.kv_head, 1), n, scale, part,
                                     scratch.data(), next_k, next_v);
    }
    const std::int64_t row0 = t.kv_head * g;
    if (t.slot < 0)
      detail::finish(part, out + (t.seq * s.q_heads + row0) * d, lse + t.seq * s.q_heads + row0);
    else
      detail::finish(part, part_out.data() + (t.slot * s.q_heads + row0) * d,
                     part_lse.data() + t.slot * s.q_heads + row0);
  });
  parallel_for(static_cast<std::int64_t>(merges.size()), threads, [&](std::int64_t i) {
    const auto [seq, first] = merges[static_cast<size_t>(i)];
    const std::int64_t pages = (p.lengths[static_cast<size_t>(seq)] + kChunk - 1) / kChunk;
    detail::combine(part_out.data() + first * s.q_heads * d, part_lse.data() + first * s.q_heads,
                    (pages + split_pages - 1) / split_pages, s.q_heads, d,
                    out + seq * s.q_heads * d, lse + seq * s.q_heads);
  });
}

}  // namespace cobench::mla
