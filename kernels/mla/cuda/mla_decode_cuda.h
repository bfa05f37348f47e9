// SPDX-License-Identifier: Apache-2.0
// MLA decode on the GPU: a split-KV (flash-decoding) kernel over the paged latent cache
// (kernels/mla/paged_cache.h, BF16 or FP8) and its combine step. Shapes as mla_decode.h:
// q [batch, heads, 576], out [batch, heads, 512], lse [batch, heads], FP32, device pointers.
//   split kernel    grid (splits, ceil(heads / 32), batch), 8 warps of 4 heads each: a block
//                   stages 16 dequantized tokens of its split in shared memory (FP32), every warp
//                   scores them for its heads (warp reductions) and keeps an online softmax and
//                   its 4 x 512 output slice in registers; writes one partial (output, lse) per
//                   split
//   combine kernel  one block per (head, sequence) merges the splits through their lse
// SIMT FP32 arithmetic (no tensor cores): a correct baseline for sm_90a, compute-bound at 128
// heads (242 FLOP per BF16 cache byte against an H200's ~67 TFLOP/s of FP32 SIMT caps it near
// 0.28 TB/s, ~6% of HBM); reaching the memory bound takes tensor cores (FlashMLA's WGMMA).
// C++17 (CUDA translation units include it).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/mla/paged_cache.h"

namespace cobench::mla::cuda {

/// Device copies of a cache's arrays (pointers into device memory).
struct DeviceMlaCache {
  KvPrecision precision = KvPrecision::kBf16;
  std::int64_t batch = 0, max_pages = 0, page_tokens = kPageTokens, token_bytes = 0;
  const std::uint8_t* pool = nullptr;
  const std::int32_t* block_table = nullptr;  ///< [batch, max_pages]
  const std::int32_t* lengths = nullptr;      ///< [batch], each >= 1
};

/// Workspace bytes mla_decode_cuda needs: partial outputs and lse per split.
std::size_t mla_decode_cuda_workspace_bytes(std::int64_t batch, std::int64_t heads, int splits);

/// Launches the split and combine kernels on `stream` (no synchronization); throws
/// cobench::Error on a launch failure.
void mla_decode_cuda(const DeviceMlaCache& c, const float* q, std::int64_t heads, float scale,
                     int splits, float* out, float* lse, void* workspace, cudaStream_t stream);

/// Uploads the cache and q, runs, waits and downloads out and lse (for tests and checks).
void mla_decode_cuda_host(const MlaCache& c, const std::vector<float>& q, std::int64_t heads,
                          float scale, int splits, std::vector<float>& out,
                          std::vector<float>& lse);

}  // namespace cobench::mla::cuda
