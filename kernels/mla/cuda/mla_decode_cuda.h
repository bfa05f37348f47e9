// SPDX-License-Identifier: Apache-2.0
// MLA decode on the GPU: split-KV (flash-decoding) kernels over the paged latent cache
// (kernels/mla/paged_cache.h, BF16 or FP8) and their combine step. Shapes as mla_decode.h:
// q [batch, heads, 576], out [batch, heads, 512], lse [batch, heads], FP32, device pointers.
// Two split kernels, each writing one partial (output, lse) per split:
//   kTensorCore  BF16 mma.sync, 32 heads x 32-token tiles in a cp.async pipeline of 3 stages
//                (BF16 cache) or 4 (FP8 cache): the next 2 or 3 tiles load while one computes
//                (mla_split_tc.h); q and P rounded to BF16 as in FlashMLA
//   kSimt        grid (ceil(heads / 32), splits, batch), 8 warps of 4 heads each: a block stages
//                16 dequantized tokens of its split in shared memory (FP32), every warp scores
//                them for its heads (warp reductions) and keeps an online softmax and its 4 x 512
//                output slice in registers. FP32 throughout: the accuracy baseline, but
//                compute-bound at 128 heads (242 FLOP per BF16 cache byte against an H200's
//                ~67 TFLOP/s of FP32 SIMT caps it near 0.28 TB/s, ~6% of HBM)
//   combine      merges the splits through their lse: grid (heads, batch, 4 x 128 output
//                columns); with one split the split kernel writes out and lse itself, no combine
// C++17 (CUDA translation units include it).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/mla/cuda/decode_common.h"
#include "kernels/mla/paged_cache.h"

namespace cobench::mla::cuda {

enum class GpuKernel { kTensorCore, kSimt };

/// "tc" or "simt".
const char* gpu_kernel_name(GpuKernel k);

/// Device copies of a cache's arrays (pointers into device memory).
struct DeviceMlaCache {
  KvPrecision precision = KvPrecision::kBf16;
  std::int64_t batch = 0, max_pages = 0, page_tokens = kPageTokens, token_bytes = 0;
  const std::uint8_t* pool = nullptr;
  const std::int32_t* block_table = nullptr;  ///< [batch, max_pages]
  const std::int32_t* lengths = nullptr;      ///< [batch], each >= 1
};

/// The device view of a cache uploaded with UploadedPagedCache.
DeviceMlaCache device_view(const MlaCache& c, const UploadedPagedCache& d);

/// Blocks of `kernel`'s split kernel an SM holds at once (the occupancy API: registers, shared
/// memory), for a cache in `precision`.
int mla_decode_cuda_blocks_per_sm(GpuKernel kernel, KvPrecision precision);

/// Workspace bytes mla_decode_cuda needs: partial outputs and lse per split.
std::size_t mla_decode_cuda_workspace_bytes(std::int64_t batch, std::int64_t heads, int splits);

/// Launches `kernel`'s split kernel and the combine kernel on `stream` (no synchronization);
/// throws cobench::Error on a launch failure.
void mla_decode_cuda(GpuKernel kernel, const DeviceMlaCache& c, const float* q, std::int64_t heads,
                     float scale, int splits, float* out, float* lse, void* workspace,
                     cudaStream_t stream);

/// Uploads the cache and q, runs, waits and downloads out and lse (for tests and checks).
void mla_decode_cuda_host(GpuKernel kernel, const MlaCache& c, const std::vector<float>& q,
                          std::int64_t heads, float scale, int splits, std::vector<float>& out,
                          std::vector<float>& lse);

}  // namespace cobench::mla::cuda
