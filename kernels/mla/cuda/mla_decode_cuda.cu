// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/mla/cuda/decode_common.h"
#include "kernels/mla/cuda/mla_decode_cuda.h"
#include "kernels/mla/cuda/mla_split_tc.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kHeadsPerWarp = 4;
constexpr int kHeadsPerBlock = kWarps * kHeadsPerWarp;  // 32
constexpr int kTileTokens = 16;
static_assert(kTileTokens <= kWarps * 32, "one thread looks up each token of a tile");
constexpr int kQk = static_cast<int>(kQkDims);  // 576 = 18 x 32
constexpr int kV = static_cast<int>(kVDims);    // 512 = 16 x 32
constexpr int kQkPerLane = kQk / 32;
constexpr int kVPerLane = kV / 32;

// Element e (< 576) of a cached token, dequantized.
__device__ float cached_value(const std::uint8_t* tok, int e, bool fp8) {
  if (!fp8 || e >= kLatentDims) {
    // FP8 layout: 512 codes, 4 FP32 scales (16 B), then the RoPE part in BF16.
    const int offset = fp8 ? static_cast<int>(kLatentDims + 16) + 2 * (e - kV) : 2 * e;
    std::uint16_t bits;
    memcpy(&bits, tok + offset, 2);
    return num::decode_bf16(bits);
  }
  float scale;
  memcpy(&scale, tok + kLatentDims + 4 * (e / kFp8ScaleGroup), 4);
  return num::decode_fp8(tok[e], num::Fp8Format::kE4M3) * scale;
}

__device__ float warp_sum(float x) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

__global__ void __launch_bounds__(kWarps * 32)
    split_kernel(DeviceMlaCache c, const float* q, int heads, float scale, int splits,
                 float* part_out, float* part_lse) {
  __shared__ float kv[kTileTokens][kQk];
  const int split = static_cast<int>(blockIdx.y), seq = static_cast<int>(blockIdx.z);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int head0 = static_cast<int>(blockIdx.x) * kHeadsPerBlock + warp * kHeadsPerWarp;
  const int len = c.lengths[seq];
  const int per = (len + splits - 1) / splits;
  const int t0 = split * per, t1 = min(len, t0 + per);
  const bool fp8 = c.precision == KvPrecision::kFp8;

  float qr[kHeadsPerWarp][kQkPerLane], acc[kHeadsPerWarp][kVPerLane];
  float m[kHeadsPerWarp], l[kHeadsPerWarp];
  for (int h = 0; h < kHeadsPerWarp; ++h) {
    const bool valid = head0 + h < heads;
    const float* qh = q + (static_cast<std::size_t>(seq) * heads + head0 + h) * kQk;
    for (int i = 0; i < kQkPerLane; ++i) qr[h][i] = valid ? qh[lane + 32 * i] : 0.0f;
    for (int i = 0; i < kVPerLane; ++i) acc[h][i] = 0.0f;
    m[h] = -INFINITY;
    l[h] = 0.0f;
  }
  __shared__ const std::uint8_t* token[kTileTokens];  // the tile's cached tokens in the pool
  for (int base = t0; base < t1; base += kTileTokens) {
    const int n = min(kTileTokens, t1 - base);
    __syncthreads();                          // the previous tile is consumed
    if (static_cast<int>(threadIdx.x) < n) {  // one block-table lookup per token, not per value
      const int pos = base + static_cast<int>(threadIdx.x);
      const std::int64_t page = c.block_table[seq * c.max_pages + pos / c.page_tokens];
      token[threadIdx.x] = c.pool + (page * c.page_tokens + pos % c.page_tokens) * c.token_bytes;
    }
    __syncthreads();
    for (int idx = static_cast<int>(threadIdx.x); idx < n * kQk; idx += kWarps * 32)
      kv[idx / kQk][idx % kQk] = cached_value(token[idx / kQk], idx % kQk, fp8);
    __syncthreads();
    for (int t = 0; t < n; ++t) {
      for (int h = 0; h < kHeadsPerWarp; ++h) {
        float s = 0.0f;
        for (int i = 0; i < kQkPerLane; ++i) s += qr[h][i] * kv[t][lane + 32 * i];
        s = warp_sum(s) * scale;  // the same on every lane: the branch below is warp-uniform
        const float top = fmaxf(m[h], s);
        if (top != m[h]) {  // a new maximum: rescale what was summed (exactly 1 otherwise)
          const float alpha = __expf(m[h] - top);
          l[h] *= alpha;
          for (int i = 0; i < kVPerLane; ++i) acc[h][i] *= alpha;
          m[h] = top;
        }
        const float p = __expf(s - top);  // NaN from a NaN slot: it reaches l and the output
        l[h] += p;
        for (int i = 0; i < kVPerLane; ++i) acc[h][i] = fmaf(p, kv[t][lane + 32 * i], acc[h][i]);
      }
    }
  }
  for (int h = 0; h < kHeadsPerWarp; ++h) {
    if (head0 + h >= heads) continue;
    const std::size_t row = (static_cast<std::size_t>(seq) * splits + split) * heads + head0 + h;
    const bool empty = l[h] == 0.0f;  // a split past the sequence's end
    for (int i = 0; i < kVPerLane; ++i)
      part_out[row * kV + lane + 32 * i] = empty ? 0.0f : acc[h][i] / l[h];
    if (lane == 0) part_lse[row] = empty ? -INFINITY : m[h] + logf(l[h]);
  }
}

}  // namespace

const char* gpu_kernel_name(GpuKernel k) { return k == GpuKernel::kTensorCore ? "tc" : "simt"; }

DeviceMlaCache device_view(const MlaCache& c, const UploadedPagedCache& d) {
  const PagedCache& p = c.paged;
  return {c.precision,   p.batch(),    p.max_pages,   p.page_tokens,
          p.token_bytes, d.pool_ptr(), d.table_ptr(), d.lengths_ptr()};
}

std::size_t mla_decode_cuda_workspace_bytes(std::int64_t batch, std::int64_t heads, int splits) {
  return static_cast<std::size_t>(batch * splits * heads * (kV + 1)) * sizeof(float);
}

int mla_decode_cuda_blocks_per_sm(GpuKernel kernel, KvPrecision precision) {
  if (kernel == GpuKernel::kTensorCore) return split_tc_blocks_per_sm(precision);
  int blocks = 0;
  COBENCH_CUDA_CHECK(
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, split_kernel, kWarps * 32, 0));
  return blocks;
}

void mla_decode_cuda(GpuKernel kernel, const DeviceMlaCache& c, const float* q, std::int64_t heads,
                     float scale, int splits, float* out, float* lse, void* workspace,
                     cudaStream_t stream) {
  COBENCH_CHECK(heads >= 1 && splits >= 1 && c.batch >= 1 && c.batch <= 65535,
                "need heads >= 1, splits >= 1 and 1 <= batch <= 65535");
  COBENCH_CHECK(c.token_bytes == token_bytes(c.precision), "token size does not match precision");
  COBENCH_CHECK(splits <= kMaxSplits, fmt::format("at most {} splits", kMaxSplits));
  // One split: its partial is the result (same layout, [batch, 1, heads, ...]); no combine.
  float* part_out = splits == 1 ? out : static_cast<float*>(workspace);
  float* part_lse = splits == 1 ? lse : part_out + c.batch * splits * heads * kV;
  if (kernel == GpuKernel::kTensorCore) {
    launch_split_tc(c, q, static_cast<int>(heads), scale, splits, part_out, part_lse, stream);
  } else {
    // Head groups vary fastest: the blocks reading one split's cache run together (L2 hits).
    const dim3 grid(static_cast<unsigned>((heads + kHeadsPerBlock - 1) / kHeadsPerBlock),
                    static_cast<unsigned>(splits), static_cast<unsigned>(c.batch));
    split_kernel<<<grid, kWarps * 32, 0, stream>>>(c, q, static_cast<int>(heads), scale, splits,
                                                   part_out, part_lse);
    COBENCH_CUDA_CHECK(cudaGetLastError());
  }
  if (splits > 1) combine_splits(part_out, part_lse, c.batch, heads, splits, kV, out, lse, stream);
}

void mla_decode_cuda_host(GpuKernel kernel, const MlaCache& c, const std::vector<float>& q,
                          std::int64_t heads, float scale, int splits, std::vector<float>& out,
                          std::vector<float>& lse) {
  const PagedCache& p = c.paged;
  COBENCH_CHECK(static_cast<std::int64_t>(q.size()) == p.batch() * heads * kQkDims,
                "q must be [batch, heads, 576]");
  run_decode_host(
      p, q, static_cast<std::size_t>(p.batch() * heads * kV),
      static_cast<std::size_t>(p.batch() * heads),
      mla_decode_cuda_workspace_bytes(p.batch(), heads, splits),
      [&](const UploadedPagedCache& d, const float* dq, float* dout, float* dlse, void* work) {
        mla_decode_cuda(kernel, device_view(c, d), dq, heads, scale, splits, dout, dlse, work,
                        nullptr);
      },
      out, lse);
}

}  // namespace cobench::mla::cuda
