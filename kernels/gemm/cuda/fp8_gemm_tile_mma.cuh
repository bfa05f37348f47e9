// SPDX-License-Identifier: Apache-2.0
// One 128 x 128 output tile of the block-scaled FP8 GEMM with warp-level mma.sync m16n8k32 E4M3
// (sm_89 and later: the sm_100a build's kernel): 8 warps of 64 x 32, K blocks in a 4-stage
// cp.async pipeline of 144-byte rows (the 8 rows an ldmatrix touches hit 8 different 4-bank
// groups), fragments loaded with ldmatrix.x4. Each warp keeps the tensor-core partial sums in FP32
// registers and, every `promote` K elements, adds them times the current A-row scale x B-block
// scale into a separate FP32 accumulator (the technical report's promotion). An interval that
// spans a K-block boundary keeps the partial sum in the new block's scales (old / new).
#pragma once

#include "core/cuda/ptx.cuh"
#include "kernels/gemm/cuda/fp8_gemm_tile_common.cuh"

namespace cobench::gemm::cuda::tile {

struct MmaTile {
  static constexpr int kSmemLd = kBk + 16;
  static constexpr int kStages = 4;  // three K blocks load while one computes
  using Stage = std::uint8_t[kBm][kSmemLd];
  static constexpr int kSmemBytes = 2 * kStages * static_cast<int>(sizeof(Stage));
};

// Starts copying rows [row0, row0 + 128) of K block `kblk` into `s` (16 bytes a copy).
__device__ __forceinline__ void load_mma_stage(MmaTile::Stage& s, const std::uint8_t* g,
                                               long long ld, int row0, int end, int kblk) {
  for (int i = threadIdx.x; i < kBm * (kBk / 16); i += kThreads) {
    const int r = i / (kBk / 16), c = i % (kBk / 16);
    bool in;
    const std::uint8_t* src = chunk_source(g, ld, row0 + r, end, kblk, c, in);
    ptx::cp_async16(&s[r][16 * c], src, in);
  }
}

// Rows [m0, m_end) of A and D, columns [n0, n0 + 128) of D.
__device__ void gemm_tile_mma(const Operands& p, int m0, int m_end, int n0) {
  constexpr int kStages = MmaTile::kStages;
  extern __shared__ __align__(128) std::uint8_t smem[];
  auto* as = reinterpret_cast<MmaTile::Stage*>(smem);  // [kStages]
  auto* bs = as + kStages;                             // [kStages]
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
  const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;  // 2 x 4 warps of 64 x 32
  float part[4][4][4] = {}, acc[4][4][4] = {};
  float sa[4][2] = {{1, 1}, {1, 1}, {1, 1}, {1, 1}},
        sb = 1;   // scales of the current K block: this thread's 8 rows, B's block
  int since = 0;  // K elements in `part` since the last promotion
  // Prologue: K blocks 0 .. kStages - 2 in flight, one commit group each (empty past the end).
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < p.k_blocks) {
      load_mma_stage(as[s], p.a, p.ld, m0, m_end, s);
      load_mma_stage(bs[s], p.b, p.ld, n0, p.n, s);
    }
    ptx::cp_async_commit();
  }
  // ldmatrix row addresses of this lane: A rows wm + mi*16 + (lane % 8) + 8 ((lane / 8) % 2),
  // bytes + 16 (lane / 16) (matrices a0 a1 a2 a3); B rows wn + (ni + lane / 16) * 8 + lane % 8
  // for n-tiles ni, ni + 1, bytes + 16 ((lane / 8) % 2) (b0 b1 of ni, then of ni + 1).
  const int a_row = wm + lane % 8 + 8 * ((lane / 8) % 2), a_col = 16 * (lane / 16);
  const int b_row = wn + 8 * (lane / 16) + lane % 8, b_col = 16 * ((lane / 8) % 2);
  for (int kb = 0; kb < p.k_blocks; ++kb) {
    float new_sa[4][2];
    for (int mi = 0; mi < 4; ++mi)
      for (int h = 0; h < 2; ++h)
        new_sa[mi][h] = a_scale(p, m0 + wm + mi * 16 + g + 8 * h, m_end, kb);
    const float new_sb = b_scale(p, n0, kb);
    if (since > 0)  // an interval spans the K-block boundary: keep `part` in the new scales
      for (int mi = 0; mi < 4; ++mi)
        for (int ni = 0; ni < 4; ++ni)
          for (int e = 0; e < 4; ++e)
            part[mi][ni][e] *= (sa[mi][e / 2] / new_sa[mi][e / 2]) * (sb / new_sb);
    for (int mi = 0; mi < 4; ++mi)
      for (int h = 0; h < 2; ++h) sa[mi][h] = new_sa[mi][h];
    sb = new_sb;

    // Groups committed: kStages - 1 + kb; at most kStages - 2 pending: block kb has landed.
    ptx::cp_async_wait<kStages - 2>();
    __syncthreads();  // ... for every thread; and every warp is done with block kb - 1's stage
    if (kb + kStages - 1 < p.k_blocks) {  // into block kb - 1's stage
      load_mma_stage(as[(kb + kStages - 1) % kStages], p.a, p.ld, m0, m_end, kb + kStages - 1);
      load_mma_stage(bs[(kb + kStages - 1) % kStages], p.b, p.ld, n0, p.n, kb + kStages - 1);
    }
    ptx::cp_async_commit();
    const MmaTile::Stage& at = as[kb % kStages];
    const MmaTile::Stage& bt = bs[kb % kStages];
    for (int ks = 0; ks < kBk / 32; ++ks) {
      std::uint32_t fa[4][4], fb[4][2];
      for (int mi = 0; mi < 4; ++mi)
        ptx::ldmatrix_x4(fa[mi], &at[a_row + mi * 16][ks * 32 + a_col]);
      for (int ni = 0; ni < 4; ni += 2) {
        std::uint32_t r[4];
        ptx::ldmatrix_x4(r, &bt[b_row + ni * 8][ks * 32 + b_col]);
        fb[ni][0] = r[0], fb[ni][1] = r[1], fb[ni + 1][0] = r[2], fb[ni + 1][1] = r[3];
      }
      for (int mi = 0; mi < 4; ++mi)
        for (int ni = 0; ni < 4; ++ni) ptx::mma_m16n8k32_e4m3(part[mi][ni], fa[mi], fb[ni]);
      since += 32;
      const bool last = kb == p.k_blocks - 1 && ks == kBk / 32 - 1;
      if ((p.promote > 0 && since == p.promote) || last) {
        for (int mi = 0; mi < 4; ++mi)
          for (int ni = 0; ni < 4; ++ni)
            for (int e = 0; e < 4; ++e) {
              acc[mi][ni][e] += part[mi][ni][e] * (sa[mi][e / 2] * sb);
              part[mi][ni][e] = 0;
            }
        since = 0;
      }
    }
  }
  for (int mi = 0; mi < 4; ++mi)
    for (int ni = 0; ni < 4; ++ni)
      for (int e = 0; e < 4; ++e) {
        const int row = m0 + wm + mi * 16 + g + 8 * (e / 2);
        const int col = n0 + wn + ni * 8 + 2 * t + (e % 2);
        if (row < m_end && col < p.n) p.d[static_cast<long long>(row) * p.n + col] = acc[mi][ni][e];
      }
}

}  // namespace cobench::gemm::cuda::tile
