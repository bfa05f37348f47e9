// SPDX-License-Identifier: Apache-2.0
// One 128 x 128 output tile of the block-scaled FP8 GEMM with warpgroup-level WGMMA (sm_90a):
// two warpgroups, each wgmma.mma_async m64n128k32 E4M3 on 64 rows x all 128 columns, operands
// read by the tensor cores straight from shared memory (no fragment loads). K blocks stream
// through a 6-stage cp.async pipeline (192 KiB). Promotion as DeepGEMM does it: the WGMMAs of an
// interval chain in FP32 registers (the tensor-core accumulator), then the warpgroup waits for
// them and adds the partial sum times the A-row scale x B-block scale into a second set of FP32
// registers on the CUDA cores. An interval that spans a K-block boundary keeps the partial sum in
// the new block's scales (old / new), as the mma.sync tile does.
//
// The shared-memory layout of a stage and the fragment maps are in wgmma_layout.h (checked on the
// CPU by tests/gpu/wgmma_layout_test.cpp).
#pragma once

#include "core/cuda/ptx.cuh"
#include "kernels/gemm/cuda/fp8_gemm_tile_common.cuh"
#include "kernels/gemm/cuda/wgmma_fp8.cuh"
#include "kernels/gemm/cuda/wgmma_layout.h"

namespace cobench::gemm::cuda::tile {

struct WgmmaTile {
  static constexpr int kStageBytes = kBm * kBk;  // 16 KiB
  static constexpr int kStages = 6;              // five K blocks load while one computes
  static constexpr int kSmemBytes = 2 * kStages * kStageBytes;
};

// Starts copying rows [row0, row0 + 128) of K block `kblk` into stage `s` (wgmma_layout.h).
__device__ __forceinline__ void load_wgmma_stage(std::uint8_t* s, const std::uint8_t* g,
                                                 long long ld, int row0, int end, int kblk) {
  static_assert(wgmma_layout::kChunks == kBm * (kBk / 16));
  for (int i = threadIdx.x; i < wgmma_layout::kChunks; i += kThreads) {
    bool in;
    const std::uint8_t* src = chunk_source(g, ld, row0 + wgmma_layout::load_row(i), end, kblk,
                                           wgmma_layout::load_chunk(i), in);
    ptx::cp_async16(s + 16 * i, src, in);
  }
}

// The four k-steps of one K block for this warpgroup, `kSteps` WGMMAs between waits: all four
// when promotions fall on K-block boundaries, else one (a promotion may come after any k-step).
// Every batch is waited for before `part` is read, so `part` is complete at the end. `at`, `bt`:
// the K block's A and B stages.
template <int kSteps>
__device__ __forceinline__ void mma_k_block(float (&part)[64], float (&acc)[64],
                                            const float (&sa)[2], float sb, const std::uint8_t* at,
                                            const std::uint8_t* bt, int& since, int promote,
                                            bool last_block) {
  namespace wl = wgmma_layout;
  const int wg = static_cast<int>(threadIdx.x / 128);
#pragma unroll
  for (int k0 = 0; k0 < kBk / 32; k0 += kSteps) {
    wgmma_fence_operands(part);  // the CUDA cores' last writes to `part` stay above the fence
    wgmma_fence();               // `part` was last touched by the CUDA cores
#pragma unroll
    for (int ks = k0; ks < k0 + kSteps; ++ks)  // a new partial sum starts with accumulate = false
      wgmma_m64n128k32_e4m3(
          part, wgmma_descriptor(at + wl::a_start(wg, ks), wl::kLeadingBytes, wl::kStrideBytes),
          wgmma_descriptor(bt + wl::b_start(ks), wl::kLeadingBytes, wl::kStrideBytes),
          ks > k0 || since > 0);
    wgmma_commit_and_wait();
    wgmma_fence_operands(part);
    since += 32 * kSteps;
    if ((promote > 0 && since == promote) || (last_block && k0 + kSteps == kBk / 32)) {
#pragma unroll
      for (int j = 0; j < 64; ++j) acc[j] += part[j] * (sa[(j / 2) % 2] * sb);
      since = 0;
    }
  }
}

// Rows [m0, m_end) of A and D, columns [n0, n0 + 128) of D.
__device__ void gemm_tile_wgmma(const Operands& p, int m0, int m_end, int n0) {
  constexpr int kStages = WgmmaTile::kStages, kStage = WgmmaTile::kStageBytes;
  namespace wl = wgmma_layout;
  extern __shared__ __align__(128) std::uint8_t smem[];
  std::uint8_t* as = smem;                     // [kStages][kStage]
  std::uint8_t* bs = smem + kStages * kStage;  // [kStages][kStage]
  const int lane = threadIdx.x % 32, wg = threadIdx.x / 128, wq = (threadIdx.x / 32) % 4;
  const int row = m0 + 64 * wg + wl::d_row(wq, lane, 0);  // this thread's rows: row, row + 8
  float part[64] = {}, acc[64] = {};  // register j: row m0 + 64 wg + d_row(j), column d_col(j)
  float sa[2] = {1, 1}, sb = 1;  // scales of the current K block: this thread's rows, B's block
  int since = 0;                 // K elements in `part` since the last promotion
  for (int s = 0; s < kStages - 1; ++s) {  // prologue: one commit group each, empty past the end
    if (s < p.k_blocks) {
      load_wgmma_stage(as + s * kStage, p.a, p.ld, m0, m_end, s);
      load_wgmma_stage(bs + s * kStage, p.b, p.ld, n0, p.n, s);
    }
    ptx::cp_async_commit();
  }
  for (int kb = 0; kb < p.k_blocks; ++kb) {
    const float new_sa[2] = {a_scale(p, row, m_end, kb), a_scale(p, row + 8, m_end, kb)};
    const float new_sb = b_scale(p, n0, kb);
    if (since > 0)  // an interval spans the K-block boundary: keep `part` in the new scales
#pragma unroll
      for (int j = 0; j < 64; ++j)
        part[j] *= (sa[(j / 2) % 2] / new_sa[(j / 2) % 2]) * (sb / new_sb);
    sa[0] = new_sa[0], sa[1] = new_sa[1], sb = new_sb;

    // Groups committed: kStages - 1 + kb; at most kStages - 2 pending: block kb has landed. The
    // copies wrote through the generic proxy and WGMMA reads through the async proxy: each thread
    // fences its own writes, then the barrier publishes them to both warpgroups. The barrier also
    // says every WGMMA of block kb - 1 has completed (each warpgroup waited for its own).
    ptx::cp_async_wait<kStages - 2>();
    fence_proxy_async_shared();
    __syncthreads();
    if (kb + kStages - 1 < p.k_blocks) {  // into block kb - 1's stage
      const int s = (kb + kStages - 1) % kStages;
      load_wgmma_stage(as + s * kStage, p.a, p.ld, m0, m_end, kb + kStages - 1);
      load_wgmma_stage(bs + s * kStage, p.b, p.ld, n0, p.n, kb + kStages - 1);
    }
    ptx::cp_async_commit();
    const std::uint8_t* at = as + (kb % kStages) * kStage;
    const std::uint8_t* bt = bs + (kb % kStages) * kStage;
    const bool last = kb == p.k_blocks - 1;
    if (p.promote % kBk == 0)  // 128, 256, ... or 0: promotions fall on K-block boundaries
      mma_k_block<kBk / 32>(part, acc, sa, sb, at, bt, since, p.promote, last);
    else
      mma_k_block<1>(part, acc, sa, sb, at, bt, since, p.promote, last);
  }
#pragma unroll
  for (int j = 0; j < 64; ++j) {
    const int r = m0 + 64 * wg + wl::d_row(wq, lane, j), col = n0 + wl::d_col(lane, j);
    if (r < m_end && col < p.n) p.d[static_cast<long long>(r) * p.n + col] = acc[j];
  }
}

}  // namespace cobench::gemm::cuda::tile
