// SPDX-License-Identifier: Apache-2.0
// The baselines of the GPU MLA decode: GQA (Qwen2.5-72B: 64 query heads, 8 KV heads, head dim
// 128) and MHA decode over the paged BF16 cache of kernels/mla/gqa_decode.h (pages
// [kv_heads, 2, 64 tokens, head_dim]), split-KV with the combine step of decode_common.h. Shapes
// as gqa_decode.h: q [batch, q_heads, 128], out likewise, lse [batch, q_heads], FP32, device
// pointers.
//   split kernel  grid (kv_heads, splits, batch), one warp per query head of the KV head's group
//                 (1 to 16 warps a block); a block stages the keys (padded rows) and values of its
//                 KV head for each page of its split in shared memory; each lane scores two of
//                 the page's 64 tokens for its warp's head over all 128 dims, the warp updates its
//                 online softmax once a page, then sums P V with 4 output dims a lane. FP32
//                 arithmetic; the cache moves 4096 B per token and layer for Qwen2.5-72B's GQA
//                 (32768 B MHA) against MLA's 1152 / 656, at 8 (1) FLOP per byte: memory-bound.
// Split boundaries are whole pages (64 tokens). C++17 (the CUDA translation units include it).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/mla/cuda/decode_common.h"
#include "kernels/mla/gqa_decode.h"

namespace cobench::mla::cuda {

/// Device copies of a GQA cache's arrays.
struct DeviceGqaCache {
  GqaShape shape;
  std::int64_t batch = 0, max_pages = 0, page_tokens = kPageTokens, token_bytes = 0;
  const std::uint8_t* pool = nullptr;
  const std::int32_t* block_table = nullptr;  ///< [batch, max_pages]
  const std::int32_t* lengths = nullptr;      ///< [batch], each >= 1
};

/// The device view of a cache uploaded with UploadedPagedCache.
DeviceGqaCache device_view(const GqaCache& c, const UploadedPagedCache& d);

/// Split-kernel blocks of this shape one SM holds at once (CUDA's occupancy calculator).
int gqa_decode_cuda_blocks_per_sm(const GqaShape& s);

/// Workspace bytes gqa_decode_cuda needs (0 for one split).
std::size_t gqa_decode_cuda_workspace_bytes(const GqaShape& s, std::int64_t batch, int splits);

/// Launches the split kernel and, for splits > 1, the combine step on `stream` (no
/// synchronization); throws cobench::Error on a bad shape or a launch failure.
void gqa_decode_cuda(const DeviceGqaCache& c, const float* q, float scale, int splits, float* out,
                     float* lse, void* workspace, cudaStream_t stream);

/// Uploads the cache and q, runs, waits and downloads out and lse (for tests and checks).
void gqa_decode_cuda_host(const GqaCache& c, const std::vector<float>& q, float scale, int splits,
                          std::vector<float>& out, std::vector<float>& lse);

}  // namespace cobench::mla::cuda
