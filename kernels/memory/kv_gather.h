// SPDX-License-Identifier: Apache-2.0
// Paged KV gather: copying a sequence's pages, in block-table order, out of a shuffled page pool
// into one contiguous buffer (what offloading a context to host memory or to another device, or
// a kernel that needs contiguous KV, pays). Pages are `page_bytes` long; every 8-byte word of the
// pool holds (page id << 32 | word index), so a gather is checked word for word;
// clear_gather_output() poisons the output so that a check after timing needs a fresh gather.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cobench::memory {

struct KvGather {
  std::int64_t page_bytes = 0;            ///< a multiple of 8
  std::unique_ptr<std::uint64_t[]> pool;  ///< [pool pages, page_bytes / 8]
  std::vector<std::int32_t> block_table;  ///< pages to gather, shuffled over the pool
  std::unique_ptr<std::uint64_t[]> out;   ///< [block_table.size(), page_bytes / 8]

  std::int64_t gathered_bytes() const {
    return static_cast<std::int64_t>(block_table.size()) * page_bytes;
  }
};

/// A pool of `pages` + 1 pages (one never gathered), a block table of `pages` pages in a seeded
/// shuffled order, and the output buffer; pool and output are first-touched by `threads` threads.
KvGather make_kv_gather(std::int64_t page_bytes, std::int64_t pages, std::uint64_t seed = 1,
                        int threads = 0);

/// Copies every page in block-table order into `out`, split over `threads` threads.
void gather(KvGather& g, int threads = 0);

/// Poisons `out` (every byte 0xFF, a word no page holds), split over `threads` threads, so that
/// verify_gather() fails until a gather has written it again.
void clear_gather_output(KvGather& g, int threads = 0);

/// Empty when `out` holds exactly the pages of the block table, else the first difference.
std::string verify_gather(const KvGather& g);

}  // namespace cobench::memory
