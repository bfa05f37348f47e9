// SPDX-License-Identifier: Apache-2.0
#include "kernels/mla/cuda/gqa_decode_cuda.h"

#include <fmt/format.h>

#include <cmath>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/mla/cuda/decode_common.h"

namespace cobench::mla::cuda {
namespace {

constexpr int kDim = 128;                             // the head dim this kernel takes
constexpr int kPerLane = kDim / 32;                   // 4 output dims a lane
constexpr int kPage = static_cast<int>(kPageTokens);  // 64 tokens a page: 2 a lane
constexpr int kRowBytes = kDim * 2;                   // one key or value row, BF16
constexpr int kChunks = kRowBytes / 16;               // 16-byte loads a row
constexpr int kKeyWords = kDim / 2 + 1;  // a staged key row in BF16 pairs, padded to 65 words:
                                         // 32 lanes reading word w of 32 rows hit 32 banks
constexpr int kMaxGroup = 16;            // query heads a KV head: warps a block
static_assert(kPage == 64, "two tokens a lane");

__device__ float warp_sum(float x) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;  // the same on every lane: each step adds the same two values in either order
}

__device__ float warp_max(float x) {
  for (int o = 16; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Two BF16 (the lower index in the lower half) as FP32.
__device__ float2 bf16x2(std::uint32_t w) {
  return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xFFFF0000u));
}

// Grid (KV heads, splits, batch), one warp per query head of the KV head's group. Per page of the
// split: the block stages the KV head's keys (padded rows) and values in shared memory; each lane
// scores two tokens (lane, lane + 32) for its warp's head over all 128 dims (q from shared memory,
// read as broadcasts), the warp updates its online softmax once for the page, then sums P V with
// each lane owning 4 output dims (P passed by shuffles).
__global__ void __launch_bounds__(kMaxGroup * 32)
    gqa_split_kernel(DeviceGqaCache c, const float* q, float scale, int splits, float* part_out,
                     float* part_lse) {
  __shared__ std::uint32_t keys[kPage][kKeyWords];             // 16.25 KiB
  __shared__ __align__(16) std::uint16_t values[kPage][kDim];  // 16 KiB
  __shared__ __align__(16) float qs[kMaxGroup][kDim];          // the group's queries, 8 KiB
  const int kvh = static_cast<int>(blockIdx.x), split = static_cast<int>(blockIdx.y);
  const int seq = static_cast<int>(blockIdx.z);
  const int tid = static_cast<int>(threadIdx.x), threads = static_cast<int>(blockDim.x);
  const int warp = tid / 32, lane = tid % 32;
  const int q_heads = static_cast<int>(c.shape.q_heads);
  const int group = q_heads / static_cast<int>(c.shape.kv_heads);
  const int head = kvh * group + warp;  // this warp's query head
  const int len = c.lengths[seq];
  const int pages = (len + kPage - 1) / kPage;
  const int per = (pages + splits - 1) / splits;  // pages a split
  const int p0 = min(pages, split * per), p1 = min(pages, p0 + per);

  // The group's query heads are consecutive: their rows of q are one block.
  const float* qg = q + (static_cast<std::int64_t>(seq) * q_heads + kvh * group) * kDim;
  for (int i = tid; i < group * kDim; i += threads) qs[i / kDim][i % kDim] = qg[i];
  float acc[kPerLane] = {}, m = -INFINITY, l = 0.0f;
  const std::int64_t page_bytes = c.page_tokens * c.token_bytes;
  for (int pg = p0; pg < p1; ++pg) {
    const int n = min(kPage, len - pg * kPage);  // tokens of this page in the sequence
    const std::int64_t page = c.block_table[static_cast<std::int64_t>(seq) * c.max_pages + pg];
    // KV head kvh's keys, then its values: [2][64 tokens][128] BF16, contiguous in the page.
    const std::uint8_t* src =
        c.pool + page * page_bytes + static_cast<std::int64_t>(kvh) * 2 * kPage * kRowBytes;
    __syncthreads();  // every warp is done with the previous page (and q is staged)
    for (int i = tid; i < n * kChunks; i += threads) {
      const int r = i / kChunks, ch = i % kChunks;
      const uint4 k = *reinterpret_cast<const uint4*>(src + r * kRowBytes + ch * 16);
      std::uint32_t* kd = &keys[r][ch * 4];
      kd[0] = k.x, kd[1] = k.y, kd[2] = k.z, kd[3] = k.w;
      *reinterpret_cast<uint4*>(&values[r][ch * 8]) =
          *reinterpret_cast<const uint4*>(src + (kPage + r) * kRowBytes + ch * 16);
    }
    __syncthreads();
    // Scores of tokens lane and lane + 32 (rows past n are not staged: row 0 is read instead and
    // the score is -inf).
    const bool in0 = lane < n, in1 = lane + 32 < n;
    const std::uint32_t* k0 = keys[in0 ? lane : 0];
    const std::uint32_t* k1 = keys[in1 ? lane + 32 : 0];
    const float* qh = qs[warp];
    float s0 = 0.0f, s1 = 0.0f;
#pragma unroll 8
    for (int w = 0; w < kDim / 2; ++w) {
      const float2 qv = *reinterpret_cast<const float2*>(qh + 2 * w);
      const float2 a = bf16x2(k0[w]), b = bf16x2(k1[w]);
      s0 = fmaf(qv.y, a.y, fmaf(qv.x, a.x, s0));
      s1 = fmaf(qv.y, b.y, fmaf(qv.x, b.x, s1));
    }
    s0 = in0 ? s0 * scale : -INFINITY;
    s1 = in1 ? s1 * scale : -INFINITY;
    const float top = fmaxf(m, warp_max(fmaxf(s0, s1)));  // warp-uniform: so is the branch
    if (top != m) {  // a new maximum: rescale what was summed (exactly 1 otherwise)
      const float alpha = __expf(m - top);
      l *= alpha;
      for (int i = 0; i < kPerLane; ++i) acc[i] *= alpha;
      m = top;
    }
    const float e0 = __expf(s0 - top), e1 = __expf(s1 - top);  // 0 past n; NaN from a NaN key
    l += warp_sum(e0 + e1);
    for (int t = 0; t < n; ++t) {
      const float p = __shfl_sync(0xffffffffu, t < 32 ? e0 : e1, t % 32);
      const uint2 v = *reinterpret_cast<const uint2*>(&values[t][kPerLane * lane]);
      const float2 va = bf16x2(v.x), vb = bf16x2(v.y);
      acc[0] = fmaf(p, va.x, acc[0]);
      acc[1] = fmaf(p, va.y, acc[1]);
      acc[2] = fmaf(p, vb.x, acc[2]);
      acc[3] = fmaf(p, vb.y, acc[3]);
    }
  }
  const std::int64_t row = (static_cast<std::int64_t>(seq) * splits + split) * q_heads + head;
  const bool empty = l == 0.0f;  // a split past the sequence's end
  for (int i = 0; i < kPerLane; ++i)
    part_out[row * kDim + kPerLane * lane + i] = empty ? 0.0f : acc[i] / l;
  if (lane == 0) part_lse[row] = empty ? -INFINITY : m + logf(l);
}

void check_shape(const GqaShape& s, std::int64_t page_tokens, std::int64_t token_bytes) {
  COBENCH_CHECK(s.head_dim == kDim,
                fmt::format("the GPU GQA kernel takes head dim {}, not {}", kDim, s.head_dim));
  COBENCH_CHECK(s.kv_heads >= 1 && s.q_heads % s.kv_heads == 0 && s.group() <= kMaxGroup,
                fmt::format("query heads ({}) must be a multiple of KV heads ({}), at most {} "
                            "a KV head",
                            s.q_heads, s.kv_heads, kMaxGroup));
  COBENCH_CHECK(page_tokens == kPageTokens && token_bytes == s.token_bytes(),
                "the cache does not have this shape's layout (64-token pages)");
}

}  // namespace

DeviceGqaCache device_view(const GqaCache& c, const UploadedPagedCache& d) {
  const PagedCache& p = c.paged;
  return {c.shape,       p.batch(),    p.max_pages,   p.page_tokens,
          p.token_bytes, d.pool_ptr(), d.table_ptr(), d.lengths_ptr()};
}

int gqa_decode_cuda_blocks_per_sm(const GqaShape& s) {
  check_shape(s, kPageTokens, s.token_bytes());
  int blocks = 0;
  COBENCH_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &blocks, gqa_split_kernel, static_cast<int>(32 * s.group()), 0));
  return blocks;
}

std::size_t gqa_decode_cuda_workspace_bytes(const GqaShape& s, std::int64_t batch, int splits) {
  if (splits <= 1) return 0;
  return static_cast<std::size_t>(batch * splits * s.q_heads * (s.head_dim + 1)) * sizeof(float);
}

void gqa_decode_cuda(const DeviceGqaCache& c, const float* q, float scale, int splits, float* out,
                     float* lse, void* workspace, cudaStream_t stream) {
  check_shape(c.shape, c.page_tokens, c.token_bytes);
  COBENCH_CHECK(splits >= 1 && splits <= kMaxSplits && c.batch >= 1 && c.batch <= 65535,
                fmt::format("need 1 <= splits <= {} and 1 <= batch <= 65535", kMaxSplits));
  // One split: its partial is the result (same layout); no combine.
  float* part_out = splits == 1 ? out : static_cast<float*>(workspace);
  float* part_lse = splits == 1 ? lse : part_out + c.batch * splits * c.shape.q_heads * kDim;
  const dim3 grid(static_cast<unsigned>(c.shape.kv_heads), static_cast<unsigned>(splits),
                  static_cast<unsigned>(c.batch));
  gqa_split_kernel<<<grid, static_cast<unsigned>(32 * c.shape.group()), 0, stream>>>(
      c, q, scale, splits, part_out, part_lse);
  COBENCH_CUDA_CHECK(cudaGetLastError());
  if (splits > 1)
    combine_splits(part_out, part_lse, c.batch, c.shape.q_heads, splits, kDim, out, lse, stream);
}

void gqa_decode_cuda_host(const GqaCache& c, const std::vector<float>& q, float scale, int splits,
                          std::vector<float>& out, std::vector<float>& lse) {
  const PagedCache& p = c.paged;
  const GqaShape& s = c.shape;
  COBENCH_CHECK(static_cast<std::int64_t>(q.size()) == p.batch() * s.q_heads * s.head_dim,
                "q must be [batch, q_heads, head_dim]");
  run_decode_host(
      p, q, q.size(), static_cast<std::size_t>(p.batch() * s.q_heads),
      gqa_decode_cuda_workspace_bytes(s, p.batch(), splits),
      [&](const UploadedPagedCache& d, const float* dq, float* dout, float* dlse, void* work) {
        gqa_decode_cuda(device_view(c, d), dq, scale, splits, dout, dlse, work, nullptr);
      },
      out, lse);
}

}  // namespace cobench::mla::cuda
