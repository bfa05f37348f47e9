// SPDX-License-Identifier: Apache-2.0
// What the split-KV decodes (MLA and its GQA/MHA baselines) share: the upload of a paged cache,
// the host round trip, and the combine step, which merges per-split partial outputs (each
// normalized by its own softmax sum) through their log-sum-exp:
//   lse = log sum_s exp(lse_s),  out = sum_s exp(lse_s - lse) out_s
// An empty split (lse -inf, output 0) weighs 0. Grid (heads, batch, cols / 128), 128 threads, one
// output column each; the split weights are computed once a block into shared memory.
// C++17 (the CUDA translation units include it).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/cuda/device_buffer.h"
#include "kernels/mla/paged_cache.h"

namespace cobench::mla::cuda {

/// At most this many splits (their weights fit in shared memory).
inline constexpr int kMaxSplits = 8192;

/// Device pointers: part_out [batch, splits, heads, cols], part_lse [batch, splits, heads] ->
/// out [batch, heads, cols], lse [batch, heads]; cols a multiple of 128. Launches on `stream`;
/// throws cobench::Error on bad arguments or a launch failure.
void combine_splits(const float* part_out, const float* part_lse, std::int64_t batch,
                    std::int64_t heads, int splits, int cols, float* out, float* lse,
                    cudaStream_t stream);

/// A paged cache's arrays on the device: the pool, the block table and the lengths as int32
/// (every sequence needs a cached token: checked).
struct UploadedPagedCache {
  explicit UploadedPagedCache(const PagedCache& p);
  DeviceBuffer<std::uint8_t> pool;
  DeviceBuffer<std::int32_t> block_table, lengths;
  const std::uint8_t* pool_ptr() const { return pool.get(); }
  const std::int32_t* table_ptr() const { return block_table.get(); }
  const std::int32_t* lengths_ptr() const { return lengths.get(); }
};

/// The host wrappers' round trip: uploads the cache and q, calls `launch(cache, q, out, lse,
/// workspace)` with device pointers, waits, and downloads `out_count` outputs and `lse_count` lse
/// values.
using DecodeLaunch =
    std::function<void(const UploadedPagedCache&, const float*, float*, float*, void*)>;
void run_decode_host(const PagedCache& p, const std::vector<float>& q, std::size_t out_count,
                     std::size_t lse_count, std::size_t workspace_bytes, const DecodeLaunch& launch,
                     std::vector<float>& out, std::vector<float>& lse);

}  // namespace cobench::mla::cuda
