// SPDX-License-Identifier: Apache-2.0
#include "kernels/memory/kv_gather.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/parallel_for.h"

namespace cobench::memory {
namespace {

// Runs body(first, last) over [0, n) cut into `threads` contiguous ranges.
template <class F>
void parallel_ranges(std::int64_t n, int threads, const F& body) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t first = n * t / threads, last = n * (t + 1) / threads;
    if (t + 1 == threads)
      body(first, last);
    else
      pool.emplace_back(body, first, last);
  }
  for (auto& th : pool) th.join();
}

}  // namespace

KvGather make_kv_gather(std::int64_t page_bytes, std::int64_t pages, std::uint64_t seed,
                        int threads) {
  COBENCH_CHECK(page_bytes > 0 && page_bytes % 8 == 0 && pages > 0,
                fmt::format("page size {} must be a positive multiple of 8, pages {} positive",
                            page_bytes, pages));
  KvGather g;
  g.page_bytes = page_bytes;
  const std::int64_t words = page_bytes / 8;
  // Uninitialized storage, first touched in parallel by the threads that will use it.
  g.pool =
      std::make_unique_for_overwrite<std::uint64_t[]>(static_cast<size_t>((pages + 1) * words));
  g.out = std::make_unique_for_overwrite<std::uint64_t[]>(static_cast<size_t>(pages * words));
  threads = thread_count(threads);
  parallel_ranges(pages + 1, threads, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t p = first; p < last; ++p)
      for (std::int64_t w = 0; w < words; ++w)
        g.pool[static_cast<size_t>(p * words + w)] =
            (static_cast<std::uint64_t>(p) << 32) | static_cast<std::uint64_t>(w);
  });
  std::vector<std::int32_t> order(static_cast<size_t>(pages + 1));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  g.block_table.assign(order.begin(), order.begin() + pages);
  gather(g, threads);  // first touch of the output
  return g;
}

void gather(KvGather& g, int threads) {
  const std::int64_t words = g.page_bytes / 8;
  parallel_ranges(static_cast<std::int64_t>(g.block_table.size()), thread_count(threads),
                  [&](std::int64_t first, std::int64_t last) {
                    for (std::int64_t i = first; i < last; ++i)
                      std::memcpy(g.out.get() + i * words,
                                  g.pool.get() + g.block_table[static_cast<size_t>(i)] * words,
                                  static_cast<size_t>(g.page_bytes));
                  });
}

void clear_gather_output(KvGather& g, int threads) {
  const std::int64_t words = g.page_bytes / 8;
  parallel_ranges(static_cast<std::int64_t>(g.block_table.size()), thread_count(threads),
                  [&](std::int64_t first, std::int64_t last) {
                    std::memset(g.out.get() + first * words, 0xFF,
                                static_cast<size_t>((last - first) * g.page_bytes));
                  });
}

std::string verify_gather(const KvGather& g) {
  const std::int64_t words = g.page_bytes / 8;
  for (size_t i = 0; i < g.block_table.size(); ++i)
    for (std::int64_t w = 0; w < words; ++w) {
      const std::uint64_t want =
          (static_cast<std::uint64_t>(g.block_table[i]) << 32) | static_cast<std::uint64_t>(w);
      const std::uint64_t got = g.out[i * static_cast<size_t>(words) + static_cast<size_t>(w)];
      if (got != want)
        return fmt::format("gathered page {} word {}: {:#x}, expected {:#x}", i, w, got, want);
    }
  return "";
}

}  // namespace cobench::memory
