// SPDX-License-Identifier: Apache-2.0
// The tensor-core split kernel of the MLA decode (kernels/mla/cuda/mla_split_tc.h): BF16
// mma.sync.m16n8k16 with FP32 accumulation for the scores and for P V.
//
// A block: one (32-head group, split, sequence), 8 warps. Shared memory holds the group's q
// (BF16, 32 x 576) and 32-token tiles of the cache in a cp.async pipeline (3 BF16 or 4 FP8 stages:
// the next tiles load while this one computes). Operand fragments come from shared memory with
// ldmatrix (V transposed by ldmatrix .trans). Per tile:
//   scores  warp w: heads 16 (w / 4) .. +16, tokens 8 (w % 4) .. +8, 36 k-steps over the 576
//           dims in four accumulator chains; the FP8 cache's four 128-dim latent groups accumulate
//           apart and are multiplied by their token's scale once (exact codes in the MMA,
//           DeepSeek's promotion)
//   softmax 8 threads a head row: online maximum, P = exp(s - m) into shared memory (FP32),
//           the rescale factor of the running sums
//   P V     warp w: heads 16 (w / 4) .. +16, output columns 128 (w % 4) .. +128 (64 FP32
//           accumulators a lane); P rounded to BF16 once, for the FP8 cache after multiplying it
//           by the token's scale of this warp's 128 columns (exactly one scale group)
// Tokens past the split's end are zero-filled (cp.async reads nothing for them) and score -inf.
// The fragment layouts of mma.m16n8k16 and ldmatrix are in core/cuda/ptx.cuh; with g = lane / 4
// and t = lane % 4, a lane's C registers are C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1].
#include "kernels/mla/cuda/mla_split_tc.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cmath>
#include <cstdint>

#include "core/cuda/cuda_check.h"
#include "core/cuda/ptx.cuh"
#include "core/error.h"

namespace cobench::mla::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kGroupHeads = 32;                         // two m16 tiles
constexpr int kTileTokens = 32;                         // four n8 tiles
constexpr int kQk = static_cast<int>(kQkDims);          // 576
constexpr int kV = static_cast<int>(kVDims);            // 512
constexpr int kLatent = static_cast<int>(kLatentDims);  // 512
constexpr int kLd = kQk + 8;                            // BF16 a row: rows 4 banks apart
constexpr int kSLd = 40;                                // FP32 a score row (8-byte pairs)
constexpr int kKSteps = kQk / 16;                       // 36
constexpr int kGroupSteps = static_cast<int>(kFp8ScaleGroup) / 16;        // 8
constexpr int kScaleGroups = kLatent / static_cast<int>(kFp8ScaleGroup);  // 4
constexpr int kColsPerWarp = kV / 4;       // 128: one FP8 scale group
constexpr int kNTiles = kColsPerWarp / 8;  // 16
static_assert(kColsPerWarp == kFp8ScaleGroup, "a P V warp's columns are one scale group");
static_assert(kWarps == 2 * 4, "2 head tiles x 4 token tiles (scores) or 4 column groups (P V)");

// Byte offsets into the dynamic shared memory, all multiples of 16.
constexpr int kTileBytes = kTileTokens * kLd * 2;         // one BF16 operand tile: 37376
constexpr int kQOff = 0;                                  // q: [32][kLd] BF16
constexpr int kSOff = kQOff + kGroupHeads * kLd * 2;      // scores / P: [32][kSLd] FP32
constexpr int kStatOff = kSOff + kGroupHeads * kSLd * 4;  // m, l, alpha: 3 x [32] FP32
constexpr int kBufOff = kStatOff + 3 * kGroupHeads * 4;   // the cp.async buffers
constexpr int kFp8RawBytes = kTileTokens * static_cast<int>(kFp8TokenBytes);  // 20992
constexpr int kBf16Stages = 3, kFp8Stages = 4;                 // tiles in the pipeline
constexpr int kBf16Smem = kBufOff + kBf16Stages * kTileBytes;  // 155008
constexpr int kFp8KOff = kBufOff + kFp8Stages * kFp8RawBytes;  // dequantized tile [32][kLd]
constexpr int kFp8ScaleOff = kFp8KOff + kTileBytes;            // scales [32][4] FP32
constexpr int kFp8Smem = kFp8ScaleOff + kTileTokens * kScaleGroups * 4;  // 164736
static_assert(kBf16Smem <= 227 * 1024 && kFp8Smem <= 227 * 1024, "an sm_90 block's maximum");
static_assert(kTileBytes % 16 == 0 && kSOff % 16 == 0 && kBufOff % 16 == 0 &&
                  kFp8RawBytes % 16 == 0 && kFp8KOff % 16 == 0 && kFp8ScaleOff % 16 == 0,
              "cp.async and vector accesses need 16-byte offsets");
static_assert(kBf16TokenBytes % 16 == 0 && kFp8TokenBytes % 16 == 0, "16-byte chunks a token");

__device__ __forceinline__ std::uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (lo) in the lower half
  std::uint32_t u;
  memcpy(&u, &v, 4);
  return u;
}

// Starts copying tokens [base, base + 32) of sequence `seq` (one page holds them all) into `dst`:
// BF16 rows of kLd elements, or FP8 tokens packed as stored. Tokens at or past `end` are
// zero-filled (nothing read).
template <bool kFp8>
__device__ void load_tile(const DeviceMlaCache& c, int seq, int base, int end, std::uint8_t* dst) {
  const std::int64_t page =
      c.block_table[static_cast<std::int64_t>(seq) * c.max_pages + base / c.page_tokens];
  const std::uint8_t* src = c.pool + (page * c.page_tokens + base % c.page_tokens) * c.token_bytes;
  constexpr int kChunks = static_cast<int>((kFp8 ? kFp8TokenBytes : kBf16TokenBytes) / 16);
  constexpr int kDstRow = kFp8 ? static_cast<int>(kFp8TokenBytes) : kLd * 2;
  for (int i = static_cast<int>(threadIdx.x); i < kTileTokens * kChunks; i += kThreads) {
    const int tok = i / kChunks, chunk = i % kChunks;
    const bool in = base + tok < end;
    ptx::cp_async16(dst + tok * kDstRow + chunk * 16,
                    in ? src + tok * c.token_bytes + chunk * 16 : src, in);
  }
}

// FP8 tile (as stored) -> BF16 codes [32][kLd] (exact: E4M3 fits BF16) and scales [32][4].
__device__ void dequantize_tile(const std::uint8_t* raw, std::uint16_t* k, float* scales) {
  constexpr int kTok = static_cast<int>(kFp8TokenBytes);
  for (int i = static_cast<int>(threadIdx.x); i < kTileTokens * (kLatent / 2); i += kThreads) {
    const int tok = i / (kLatent / 2), d = 2 * (i % (kLatent / 2));
    __nv_fp8x2_storage_t codes;
    memcpy(&codes, raw + tok * kTok + d, 2);
    const float2 f = __half22float2(__half2(__nv_cvt_fp8x2_to_halfraw2(codes, __NV_E4M3)));
    *reinterpret_cast<std::uint32_t*>(k + tok * kLd + d) = pack_bf16(f.x, f.y);
  }
  constexpr int kRopeWords = static_cast<int>(kRopeDims) / 2;
  constexpr int kRopeOff = kLatent + kScaleGroups * 4;
  static_assert(kTok % 4 == 0 && kRopeOff % 4 == 0, "word loads from a raw tile");
  for (int i = static_cast<int>(threadIdx.x); i < kTileTokens * kRopeWords; i += kThreads) {
    const int tok = i / kRopeWords, w = i % kRopeWords;
    *reinterpret_cast<std::uint32_t*>(k + tok * kLd + kLatent + 2 * w) =
        *reinterpret_cast<const std::uint32_t*>(raw + tok * kTok + kRopeOff + 4 * w);
  }
  for (int i = static_cast<int>(threadIdx.x); i < kTileTokens * kScaleGroups; i += kThreads)
    scales[i] = *reinterpret_cast<const float*>(raw + (i / kScaleGroups) * kTok + kLatent +
                                                4 * (i % kScaleGroups));
}

// Two k-steps of the scores, q[16 heads][32 dims] x K[8 tokens][32 dims]^T: the first 16 dims
// into acc0, the next 16 into acc1. `qrow` is this lane's row address in q's 16 x 16 tile
// (matrices: heads 0-7 / 8-15 x dims 0-7, then heads 0-7 / 8-15 x dims 8-15: a0 a1 a2 a3), `krow`
// in K's 8 x 32 block (matrices: dims 0-7, 8-15, 16-23, 24-31: b0 b1 of the first k-step, b0 b1
// of the second).
__device__ __forceinline__ void score_steps2(float (&acc0)[4], float (&acc1)[4],
                                             const std::uint16_t* qrow, const std::uint16_t* krow) {
  std::uint32_t a0[4], a1[4], b[4];
  ptx::ldmatrix_x4(a0, qrow);
  ptx::ldmatrix_x4(a1, qrow + 16);
  ptx::ldmatrix_x4(b, krow);
  const std::uint32_t b0[2] = {b[0], b[1]}, b1[2] = {b[2], b[3]};
  ptx::mma_m16n8k16_bf16(acc0, a0, b0);
  ptx::mma_m16n8k16_bf16(acc1, a1, b1);
}

// k-steps [ks0, ks1) (a multiple of 4 of them) of the scores into four accumulator chains, summed
// at the end: four chains of MMAs hide the MMA latency that one chain of 36 would expose.
__device__ __forceinline__ void score_steps(float (&sum)[4], const std::uint16_t* qrow,
                                            const std::uint16_t* krow, int ks0, int ks1) {
  float c[4][4] = {};
#pragma unroll
  for (int ks = ks0; ks < ks1; ks += 4) {
    score_steps2(c[0], c[1], qrow + 16 * ks, krow + 16 * ks);
    score_steps2(c[2], c[3], qrow + 16 * (ks + 2), krow + 16 * (ks + 2));
  }
  for (int e = 0; e < 4; ++e) sum[e] = (c[0][e] + c[1][e]) + (c[2][e] + c[3][e]);
}
static_assert(kKSteps % 4 == 0 && kGroupSteps % 4 == 0, "k-steps in fours");

template <bool kFp8>
__global__ void __launch_bounds__(kThreads, 1)
    split_tc_kernel(DeviceMlaCache c, const float* q, int heads, float scale, int splits,
                    float* part_out, float* part_lse) {
  extern __shared__ __align__(16) std::uint8_t smem[];
  auto* sq = reinterpret_cast<std::uint16_t*>(smem + kQOff);
  auto* ss = reinterpret_cast<float*>(smem + kSOff);
  float* sm = reinterpret_cast<float*>(smem + kStatOff);
  float* sl = sm + kGroupHeads;
  float* salpha = sl + kGroupHeads;
  // Pipeline stage i: a BF16 operand tile, or an FP8 tile as stored.
  constexpr int kStages = kFp8 ? kFp8Stages : kBf16Stages;
  const auto buf = [&](int i) { return smem + kBufOff + i * (kFp8 ? kFp8RawBytes : kTileBytes); };
  auto* sk8 = reinterpret_cast<std::uint16_t*>(smem + kFp8KOff);  // FP8 only
  auto* sscale = reinterpret_cast<float*>(smem + kFp8ScaleOff);   // FP8 only

  const int split = static_cast<int>(blockIdx.y), seq = static_cast<int>(blockIdx.z);
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, t = lane % 4;
  const int head0 = static_cast<int>(blockIdx.x) * kGroupHeads;
  const int rows = min(kGroupHeads, heads - head0);  // heads of this group
  const int len = c.lengths[seq];
  const int per = ((len + splits - 1) / splits + kTileTokens - 1) / kTileTokens * kTileTokens;
  const int t0 = min(len, split * per), t1 = min(len, t0 + per);

  // q (FP32) -> BF16 rows; heads past the last are zero.
  for (int i = tid; i < kGroupHeads * (kQk / 2); i += kThreads) {
    const int r = i / (kQk / 2), d = 2 * (i % (kQk / 2));
    float2 v = make_float2(0.0f, 0.0f);
    if (r < rows)
      v = *reinterpret_cast<const float2*>(
          q + (static_cast<std::int64_t>(seq) * heads + head0 + r) * kQk + d);
    *reinterpret_cast<std::uint32_t*>(sq + r * kLd + d) = pack_bf16(v.x, v.y);
  }
  if (tid < kGroupHeads) {
    sm[tid] = -INFINITY;
    sl[tid] = 0.0f;
  }
  // Prologue: tiles 0 .. kStages - 2 in flight, one commit group each (empty past the end).
  for (int i = 0; i < kStages - 1; ++i) {
    if (t0 + i * kTileTokens < t1) load_tile<kFp8>(c, seq, t0 + i * kTileTokens, t1, buf(i));
    ptx::cp_async_commit();
  }

  const int mt = warp / 4;             // head tile of this warp (scores and P V)
  const bool active = mt * 16 < rows;  // warp-uniform: a 16-head group has one tile
  const int r0 = mt * 16 + g, r1 = r0 + 8;
  float o[kNTiles][4] = {};
  int stage = 0;  // of tile i: i % kStages
  for (int base = t0; base < t1; base += kTileTokens, stage = (stage + 1) % kStages) {
    // Groups committed: kStages - 1 + i; at most kStages - 2 pending: tile i has landed.
    ptx::cp_async_wait<kStages - 2>();
    __syncthreads();  // ... for every thread; and the previous tile's P V is done with its stage
    const int next = base + (kStages - 1) * kTileTokens;  // into the previous tile's stage
    if (next < t1) load_tile<kFp8>(c, seq, next, t1, buf((stage + kStages - 1) % kStages));
    ptx::cp_async_commit();
    const std::uint16_t* kt = reinterpret_cast<const std::uint16_t*>(buf(stage));
    if constexpr (kFp8) {
      dequantize_tile(buf(stage), sk8, sscale);
      __syncthreads();
      kt = sk8;
    }

    // Scores of heads mt*16.. x tokens nt*8.., scaled, -inf past the split's end.
    if (active) {
      const int nt = warp % 4;
      // ldmatrix row addresses: q row mt*16 + (lane % 8) + 8 ((lane / 8) % 2), dims + 8 (lane /
      // 16); K token nt*8 + lane % 8, dims + 8 (lane / 8).
      const std::uint16_t* qrow =
          sq + (mt * 16 + lane % 8 + 8 * ((lane / 8) % 2)) * kLd + 8 * (lane / 16);
      const std::uint16_t* krow = kt + (nt * 8 + lane % 8) * kLd + 8 * (lane / 8);
      const int tok = nt * 8 + 2 * t;
      float acc[4] = {};
      if constexpr (kFp8) {
        for (int grp = 0; grp < kScaleGroups; ++grp) {
          float part[4];
          score_steps(part, qrow, krow, grp * kGroupSteps, (grp + 1) * kGroupSteps);
          const float s0 = sscale[tok * kScaleGroups + grp];
          const float s1 = sscale[(tok + 1) * kScaleGroups + grp];
          acc[0] = fmaf(part[0], s0, acc[0]);
          acc[1] = fmaf(part[1], s1, acc[1]);
          acc[2] = fmaf(part[2], s0, acc[2]);
          acc[3] = fmaf(part[3], s1, acc[3]);
        }
        float rope[4];  // the RoPE part, BF16
        score_steps(rope, qrow, krow, kScaleGroups * kGroupSteps, kKSteps);
        for (int e = 0; e < 4; ++e) acc[e] += rope[e];
      } else {
        score_steps(acc, qrow, krow, 0, kKSteps);
      }
      const bool in0 = base + tok < t1, in1 = base + tok + 1 < t1;
      ss[r0 * kSLd + tok] = in0 ? acc[0] * scale : -INFINITY;
      ss[r0 * kSLd + tok + 1] = in1 ? acc[1] * scale : -INFINITY;
      ss[r1 * kSLd + tok] = in0 ? acc[2] * scale : -INFINITY;
      ss[r1 * kSLd + tok + 1] = in1 ? acc[3] * scale : -INFINITY;
    }
    __syncthreads();

    // Online softmax: 8 consecutive lanes a head row, 4 tokens each (rows of an idle head tile
    // are skipped: their warps wrote nothing).
    {
      const int row = tid / 8, part = tid % 8;
      if ((row / 16) * 16 < rows) {
        float* srow = ss + row * kSLd + part * 4;
        float s[4], top = -INFINITY;
        for (int i = 0; i < 4; ++i) top = fmaxf(top, s[i] = srow[i]);
        for (int off = 4; off > 0; off /= 2)
          top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, off));
        const float m_old = sm[row], m_new = fmaxf(m_old, top);  // finite: a token is in
        float sum = 0.0f;
        for (int i = 0; i < 4; ++i) {
          const float p = __expf(s[i] - m_new);  // 0 past the end; NaN from a NaN slot
          srow[i] = p;
          sum += p;
        }
        for (int off = 4; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
        __syncwarp();  // every lane of the row has read sm[row]
        if (part == 0) {
          const float alpha = m_new == m_old ? 1.0f : __expf(m_old - m_new);
          salpha[row] = alpha;
          sl[row] = sl[row] * alpha + sum;
          sm[row] = m_new;
        }
      }
    }
    __syncthreads();

    // O[heads mt*16.., columns cg*128..] = O * alpha + P V.
    if (active) {
      const int cg = warp % 4;
      const float alpha0 = salpha[r0], alpha1 = salpha[r1];
#pragma unroll
      for (int n = 0; n < kNTiles; ++n) {
        o[n][0] *= alpha0;
        o[n][1] *= alpha0;
        o[n][2] *= alpha1;
        o[n][3] *= alpha1;
      }
#pragma unroll
      for (int ks = 0; ks < kTileTokens / 16; ++ks) {
        const int k0 = ks * 16 + 2 * t;  // tokens k0, k0 + 1, k0 + 8, k0 + 9
        float sc[4] = {1.0f, 1.0f, 1.0f, 1.0f};
        if constexpr (kFp8) {
          sc[0] = sscale[k0 * kScaleGroups + cg];
          sc[1] = sscale[(k0 + 1) * kScaleGroups + cg];
          sc[2] = sscale[(k0 + 8) * kScaleGroups + cg];
          sc[3] = sscale[(k0 + 9) * kScaleGroups + cg];
        }
        const float2 p00 = *reinterpret_cast<const float2*>(ss + r0 * kSLd + k0);
        const float2 p10 = *reinterpret_cast<const float2*>(ss + r1 * kSLd + k0);
        const float2 p08 = *reinterpret_cast<const float2*>(ss + r0 * kSLd + k0 + 8);
        const float2 p18 = *reinterpret_cast<const float2*>(ss + r1 * kSLd + k0 + 8);
        const std::uint32_t a[4] = {
            pack_bf16(p00.x * sc[0], p00.y * sc[1]), pack_bf16(p10.x * sc[0], p10.y * sc[1]),
            pack_bf16(p08.x * sc[2], p08.y * sc[3]), pack_bf16(p18.x * sc[2], p18.y * sc[3])};
        // ldmatrix .trans row addresses, two n-tiles a call: V token ks*16 + lane % 8 +
        // 8 ((lane / 8) % 2), columns cg*128 + 8 (lane / 16) + 16 j: b0 b1 of n-tile 2j, then of
        // n-tile 2j + 1.
        const std::uint16_t* vrow = kt + (ks * 16 + lane % 8 + 8 * ((lane / 8) % 2)) * kLd +
                                    cg * kColsPerWarp + 8 * (lane / 16);
#pragma unroll
        for (int j = 0; j < kNTiles / 2; ++j) {
          std::uint32_t bv[4];
          ptx::ldmatrix_x4_trans(bv, vrow + 16 * j);
          const std::uint32_t b0[2] = {bv[0], bv[1]}, b1[2] = {bv[2], bv[3]};
          ptx::mma_m16n8k16_bf16(o[2 * j], a, b0);
          ptx::mma_m16n8k16_bf16(o[2 * j + 1], a, b1);
        }
      }
    }
  }

  // Partial output O / l and lse = m + log(l) of this split; an empty split writes 0 and -inf.
  __syncthreads();  // an empty split's l and m come from other threads' initialization
  const std::int64_t row_base = (static_cast<std::int64_t>(seq) * splits + split) * heads + head0;
  if (active) {
    const int cg = warp % 4;
    const float l0 = sl[r0], l1 = sl[r1];
#pragma unroll
    for (int n = 0; n < kNTiles; ++n) {
      const int col = cg * kColsPerWarp + 8 * n + 2 * t;
      if (r0 < rows) {
        float* dst = part_out + (row_base + r0) * kV + col;
        dst[0] = l0 == 0.0f ? 0.0f : o[n][0] / l0;
        dst[1] = l0 == 0.0f ? 0.0f : o[n][1] / l0;
      }
      if (r1 < rows) {
        float* dst = part_out + (row_base + r1) * kV + col;
        dst[0] = l1 == 0.0f ? 0.0f : o[n][2] / l1;
        dst[1] = l1 == 0.0f ? 0.0f : o[n][3] / l1;
      }
    }
  }
  if (tid < rows) part_lse[row_base + tid] = sl[tid] == 0.0f ? -INFINITY : sm[tid] + logf(sl[tid]);
}

}  // namespace

int split_tc_blocks_per_sm(KvPrecision precision) {
  const bool fp8 = precision == KvPrecision::kFp8;
  const int smem = fp8 ? kFp8Smem : kBf16Smem;
  const auto kernel = fp8 ? split_tc_kernel<true> : split_tc_kernel<false>;
  // Above 48 KB the occupancy API counts the dynamic shared memory the kernel is allowed.
  COBENCH_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  int blocks = 0;
  COBENCH_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreads,
                                                                   static_cast<std::size_t>(smem)));
  return blocks;
}

void launch_split_tc(const DeviceMlaCache& c, const float* q, int heads, float scale, int splits,
                     float* part_out, float* part_lse, cudaStream_t stream) {
  COBENCH_CHECK(c.page_tokens % kTileTokens == 0,
                "the tensor-core MLA kernel needs pages of a multiple of 32 tokens");
  const bool fp8 = c.precision == KvPrecision::kFp8;
  const int smem = fp8 ? kFp8Smem : kBf16Smem;
  const auto kernel = fp8 ? split_tc_kernel<true> : split_tc_kernel<false>;
  // Per device: set before every launch, which may be on another device than the last.
  COBENCH_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  // Head groups vary fastest: the blocks reading one split's cache run together (L2 hits).
  const dim3 grid(static_cast<unsigned>((heads + kGroupHeads - 1) / kGroupHeads),
                  static_cast<unsigned>(splits), static_cast<unsigned>(c.batch));
  kernel<<<grid, kThreads, static_cast<std::size_t>(smem), stream>>>(c, q, heads, scale, splits,
                                                                     part_out, part_lse);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cobench::mla::cuda
