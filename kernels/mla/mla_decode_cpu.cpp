// SPDX-License-Identifier: Apache-2.0
// Flash-decoding on the CPU. Tasks are (sequence, KV split): a split is a run of pages that one
// thread reads once, for every head, dequantizing each 64-token page into FP32 rows [64, 576]
// (which serve as V, the first 512 dims) and their transpose [576, 64] (K for the scores). A
// sequence with several splits writes one partial (output and log-sum-exp per head) per split,
// merged by the combine step; with one split the task writes the final output. CpuIsa::kAmx
// tasks run mla_pages_amx (mla_decode_amx.h) instead, over the same tasks and combine.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/amx.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/mla/attention_tile.h"
#include "kernels/mla/mla_decode.h"
#include "kernels/mla/mla_decode_amx.h"

namespace cobench::mla {
namespace {

using detail::kChunk;

struct Task {
  std::int64_t seq, first_page, pages, slot;  // slot: partial index, -1 for the final output
};

// Decodes n tokens of one page into rows [64, 576] (rows >= n zero) and kt [576, 64] (columns >= n
// zero).
void dequantize_page(KvPrecision precision, const std::uint8_t* page, std::int64_t n,
                     const detail::TileKernels& kernels, float* rows, float* kt) {
  const std::int64_t bytes = token_bytes(precision);
  for (std::int64_t t = 0; t < n; ++t) {
    const std::uint8_t* tok = page + t * bytes;
    float* row = rows + t * kQkDims;
    if (precision == KvPrecision::kBf16) {
      kernels.bf16_to_float(tok, kQkDims, row);
    } else {
      float scales[kLatentDims / kFp8ScaleGroup];
      std::memcpy(scales, tok + kLatentDims, sizeof scales);
      for (std::int64_t g = 0; g < kLatentDims / kFp8ScaleGroup; ++g)
        kernels.e4m3_to_float(tok + g * kFp8ScaleGroup, kFp8ScaleGroup, scales[g],
                              row + g * kFp8ScaleGroup);
      kernels.bf16_to_float(tok + kLatentDims + sizeof scales, kRopeDims, row + kLatentDims);
    }
  }
  std::fill(rows + n * kQkDims, rows + kChunk * kQkDims, 0.0f);
  kernels.transpose(rows, kQkDims, kQkDims, kt);
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAuto:
      return "auto";
    case CpuIsa::kPortable:
      return "portable";
    case CpuIsa::kAvx2:
      return "avx2-fma";
    case CpuIsa::kAvx512:
      return "avx512f";
    case CpuIsa::kAmx:
      return "amx-bf16";
  }
  return "?";
}

bool cpu_isa_supported(CpuIsa isa) {
#if defined(__x86_64__)
  if (isa == CpuIsa::kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == CpuIsa::kAvx512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  if (isa == CpuIsa::kAmx) return cpu_isa_supported(CpuIsa::kAvx512) && amx_bf16_usable();
#else
  if (isa == CpuIsa::kAvx2 || isa == CpuIsa::kAvx512 || isa == CpuIsa::kAmx) return false;
#endif
  return true;
}

CpuIsa best_cpu_isa() {
  if (cpu_isa_supported(CpuIsa::kAmx)) return CpuIsa::kAmx;
  if (cpu_isa_supported(CpuIsa::kAvx512)) return CpuIsa::kAvx512;
  if (cpu_isa_supported(CpuIsa::kAvx2)) return CpuIsa::kAvx2;
  return CpuIsa::kPortable;
}

void mla_decode_cpu(const MlaCache& c, const float* q, std::int64_t heads, float scale, float* out,
                    float* lse, const CpuDecodeOptions& options) {
  const PagedCache& p = c.paged;
  COBENCH_CHECK(heads >= 1, "MLA decode needs at least one head");
  COBENCH_CHECK(
      p.page_tokens == kChunk && p.token_bytes == token_bytes(c.precision),
      fmt::format("expected {}-token pages of {} B tokens", kChunk, token_bytes(c.precision)));
  const CpuIsa isa = detail::resolve_isa(options.isa);
  const detail::TileKernels kernels = detail::tile_kernels(isa);
  const int threads = thread_count(options.threads);
  std::int64_t total_pages = 0;
  for (std::int64_t s = 0; s < p.batch(); ++s) {
    p.check_sequence(s);
    total_pages += (p.lengths[static_cast<size_t>(s)] + kChunk - 1) / kChunk;
  }
  // Enough splits for four tasks per thread; a sequence's split never shares a page. An AMX task
  // costs more to start (the query split into BF16 halves, O's 256 KiB zeroed: about a page's
  // work), so its splits hold at least kAmxMinSplitPages pages (at batch 1 and 1K tokens, 2 tasks
  // of 8 pages instead of 8 of 2).
  constexpr std::int64_t kAmxMinSplitPages = 8;
  const std::int64_t split_pages =
      options.split_pages > 0
          ? options.split_pages
          : std::max<std::int64_t>(isa == CpuIsa::kAmx ? kAmxMinSplitPages : 1,
                                   (total_pages + 4 * threads - 1) / (4 * threads));
  std::vector<Task> tasks;
  std::vector<std::pair<std::int64_t, std::int64_t>> merges;  // (seq, first slot) of split seqs
  std::int64_t slots = 0;
  for (std::int64_t s = 0; s < p.batch(); ++s) {
    const std::int64_t pages = (p.lengths[static_cast<size_t>(s)] + kChunk - 1) / kChunk;
    const std::int64_t splits = (pages + split_pages - 1) / split_pages;
    if (splits > 1) merges.emplace_back(s, slots);
    for (std::int64_t i = 0; i < splits; ++i)
      tasks.push_back({s, i * split_pages, std::min(split_pages, pages - i * split_pages),
                       splits > 1 ? slots++ : -1});
  }
  std::vector<float> part_out(static_cast<size_t>(slots * heads * kVDims));
  std::vector<float> part_lse(static_cast<size_t>(slots * heads));

  parallel_for(static_cast<std::int64_t>(tasks.size()), threads, [&](std::int64_t i) {
#if defined(__x86_64__)
    if (isa == CpuIsa::kAmx) {
      const Task& t = tasks[static_cast<size_t>(i)];
      detail::mla_pages_amx(
          c, t.seq, t.first_page, t.pages, q + t.seq * heads * kQkDims, heads, scale,
          t.slot < 0 ? out + t.seq * heads * kVDims : part_out.data() + t.slot * heads * kVDims,
          t.slot < 0 ? lse + t.seq * heads : part_lse.data() + t.slot * heads);
      return;
    }
#endif
    thread_local detail::Partial part;
    thread_local CacheAlignedVector<float> rows(kChunk * kQkDims), kt(kQkDims * kChunk);
    const Task& t = tasks[static_cast<size_t>(i)];
    const std::int64_t len = p.lengths[static_cast<size_t>(t.seq)];
    part.reset(heads, kVDims);
    const float* qs = q + t.seq * heads * kQkDims;
    for (std::int64_t pg = t.first_page; pg < t.first_page + t.pages; ++pg) {
      const std::int64_t n = std::min(kChunk, len - pg * kChunk);
      dequantize_page(c.precision, p.token(t.seq, pg * kChunk), n, kernels, rows.data(), kt.data());
      // Pages are scattered (the block table), so no hardware prefetcher sees the next one
      // coming: P V prefetches it into L2 while this page's arithmetic runs.
      detail::PrefetchRange next;
      if (pg + 1 < t.first_page + t.pages)
        next = {p.token(t.seq, (pg + 1) * kChunk),
                std::min(kChunk, len - (pg + 1) * kChunk) * p.token_bytes};
      detail::attend_chunk(kernels, qs, kQkDims, kt.data(), rows.data(), kQkDims, n, scale, part,
                           next);
    }
    if (t.slot < 0)
      detail::finish(part, out + t.seq * heads * kVDims, lse + t.seq * heads);
    else
      detail::finish(part, part_out.data() + t.slot * heads * kVDims,
                     part_lse.data() + t.slot * heads);
  });
  // Combine: each split sequence's partials, in parallel over sequences.
  parallel_for(static_cast<std::int64_t>(merges.size()), threads, [&](std::int64_t i) {
    const auto [s, first] = merges[static_cast<size_t>(i)];
    const std::int64_t pages = (p.lengths[static_cast<size_t>(s)] + kChunk - 1) / kChunk;
    detail::combine(part_out.data() + first * heads * kVDims, part_lse.data() + first * heads,
                    (pages + split_pages - 1) / split_pages, heads, kVDims,
                    out + s * heads * kVDims, lse + s * heads);
  });
}

}  // namespace cobench::mla
