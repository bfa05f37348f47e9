// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include "core/cuda/cuda_check.h"
#include "core/cuda/ptx.cuh"
#include "core/error.h"
#include "kernels/gemm/cuda/fp8_block_gemm.h"

namespace cobench::gemm::cuda {
namespace {

constexpr int kBm = 128, kBn = 128, kBk = 128, kThreads = 256;
constexpr int kSmemLd = kBk + 16;  // 144-byte rows: the 8 rows a fragment load touches hit 8
                                   // different 4-bank groups (no bank conflicts)

struct Operands {
  const std::uint8_t* a;
  const float* sa;  // [rows, k_blocks]
  const std::uint8_t* b;
  const float* sb;  // [ceil(N / 128), k_blocks]
  float* d;
  int n, k_blocks, promote;
  long long ld;  // padded K of both operands, in bytes
};

using Tile = std::uint8_t[kBm][kSmemLd];
constexpr int kStages = 4;  // K blocks in the cp.async pipeline: three load while one computes
constexpr int kSmemBytes = 2 * kStages * static_cast<int>(sizeof(Tile));

// Starts copying rows [row0, row0 + 128) of K block `kblk` into `s` with cp.async (16 bytes a
// thread and copy; rows at or beyond `end` are zero-filled: source size 0 reads nothing).
__device__ __forceinline__ void load_tile_async(Tile& s, const std::uint8_t* g, long long ld,
                                                int row0, int end, int kblk) {
  for (int i = threadIdx.x; i < kBm * (kBk / 16); i += kThreads) {
    const int r = i / (kBk / 16), c = (i % (kBk / 16)) * 16;
    const bool in = row0 + r < end;
    ptx::cp_async16(&s[r][c], in ? g + (row0 + r) * ld + kblk * kBk + c : g, in);
  }
}

// One 128 x 128 output tile: rows [m0, m_end) of A and D, columns [n0, n0 + 128) of D.
__device__ void gemm_tile(const Operands& p, int m0, int m_end, int n0) {
  extern __shared__ __align__(16) std::uint8_t smem[];
  Tile* as = reinterpret_cast<Tile*>(smem);  // [kStages]
  Tile* bs = as + kStages;                   // [kStages]
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
  const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;  // 2 x 4 warps of 64 x 32
  float part[4][4][4] = {}, acc[4][4][4] = {};
  float sa[4][2] = {{1, 1}, {1, 1}, {1, 1}, {1, 1}},
        sb = 1;   // scales of the current K block: this thread's 8 rows, B's block
  int since = 0;  // K elements in `part` since the last promotion
  // Prologue: K blocks 0 .. kStages - 2 in flight, one commit group each (empty past the end).
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < p.k_blocks) {
      load_tile_async(as[s], p.a, p.ld, m0, m_end, s);
      load_tile_async(bs[s], p.b, p.ld, n0, p.n, s);
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
      for (int h = 0; h < 2; ++h) {
        const int row = m0 + wm + mi * 16 + g + 8 * h;
        new_sa[mi][h] = row < m_end ? p.sa[static_cast<long long>(row) * p.k_blocks + kb] : 1.0f;
      }
    const float new_sb = p.sb[(n0 / kBn) * p.k_blocks + kb];
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
      load_tile_async(as[(kb + kStages - 1) % kStages], p.a, p.ld, m0, m_end, kb + kStages - 1);
      load_tile_async(bs[(kb + kStages - 1) % kStages], p.b, p.ld, n0, p.n, kb + kStages - 1);
    }
    ptx::cp_async_commit();
    const Tile& at = as[kb % kStages];
    const Tile& bt = bs[kb % kStages];
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

__global__ void __launch_bounds__(kThreads) fp8_gemm_kernel(Operands p, int m) {
  gemm_tile(p, blockIdx.y * kBm, m, blockIdx.x * kBn);
}

// blockIdx.y is a tile of (expert, first row, end row); B and its scales move to the expert's.
__global__ void __launch_bounds__(kThreads)
    grouped_fp8_gemm_kernel(Operands p, const int* tiles, long long expert_codes,
                            int expert_scales) {
  const int* tile = tiles + 3 * blockIdx.y;
  Operands q = p;
  q.b += tile[0] * expert_codes;
  q.sb += tile[0] * expert_scales;
  gemm_tile(q, tile[1], tile[2], blockIdx.x * kBn);
}

// Both kernels take more than the default 48 KiB of dynamic shared memory. The attribute belongs
// to the device current when it is set, so it is set before every launch (it is cheap).
void allow_smem() {
  COBENCH_CUDA_CHECK(cudaFuncSetAttribute(fp8_gemm_kernel,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
  COBENCH_CUDA_CHECK(cudaFuncSetAttribute(grouped_fp8_gemm_kernel,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
}

void check_options(const Fp8GemmOptions& o) {
  COBENCH_CHECK(o.promote_interval >= 0 && o.promote_interval % 32 == 0,
                fmt::format("promote_interval {}: a multiple of 32 (0: at the end only)",
                            o.promote_interval));
}

}  // namespace

void fp8_gemm_cuda(const DeviceFp8Matrix& a, const DeviceFp8Matrix& b, float* d,
                   const Fp8GemmOptions& options) {
  check_options(options);
  COBENCH_CHECK(a.tile_rows == 1 && b.tile_rows == 128, "A per token, B per 128 x 128 block");
  COBENCH_CHECK(a.cols == b.cols && a.ld == b.ld,
                fmt::format("K differs: A has {}, B has {}", a.cols, b.cols));
  if (a.rows == 0 || b.rows == 0) return;
  if (a.k_blocks() == 0) {  // K = 0: D = 0, and the kernel must not read empty operands
    COBENCH_CUDA_CHECK(cudaMemset(d, 0, static_cast<std::size_t>(a.rows * b.rows) * sizeof(float)));
    return;
  }
  const Operands p{a.codes.get(),
                   a.scales.get(),
                   b.codes.get(),
                   b.scales.get(),
                   d,
                   static_cast<int>(b.rows),
                   static_cast<int>(a.k_blocks()),
                   options.promote_interval,
                   static_cast<long long>(a.ld)};
  const dim3 grid(static_cast<unsigned>((b.rows + kBn - 1) / kBn),
                  static_cast<unsigned>((a.rows + kBm - 1) / kBm));
  allow_smem();
  fp8_gemm_kernel<<<grid, kThreads, kSmemBytes>>>(p, static_cast<int>(a.rows));
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

GroupedTiles grouped_tiles(const std::vector<std::int64_t>& counts) {
  std::vector<int> t;
  std::int64_t row = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    for (std::int64_t r = 0; r < counts[e]; r += kBm) {
      t.push_back(static_cast<int>(e));
      t.push_back(static_cast<int>(row + r));
      t.push_back(static_cast<int>(row + std::min<std::int64_t>(r + kBm, counts[e])));
    }
    row += counts[e];
  }
  GroupedTiles g;
  g.count = static_cast<int>(t.size() / 3);
  g.experts = static_cast<int>(counts.size());
  g.rows = row;
  g.tiles = DeviceBuffer<int>(t);
  return g;
}

void grouped_fp8_gemm_cuda(const DeviceFp8Matrix& a, const DeviceFp8Experts& b,
                           const GroupedTiles& tiles, float* d, const Fp8GemmOptions& options) {
  check_options(options);
  COBENCH_CHECK(a.tile_rows == 1, "A per token");
  COBENCH_CHECK(a.cols == b.cols && a.ld == b.ld,
                fmt::format("K differs: A has {}, the experts {}", a.cols, b.cols));
  COBENCH_CHECK(tiles.experts <= b.experts && tiles.rows <= a.rows,
                fmt::format("the tiles cover {} experts and {} rows; the operands hold {} experts "
                            "and {} rows",
                            tiles.experts, tiles.rows, b.experts, a.rows));
  if (tiles.count == 0 || b.n == 0) return;
  if (a.k_blocks() == 0) {  // K = 0: D = 0, and the kernel must not read empty operands
    COBENCH_CUDA_CHECK(
        cudaMemset(d, 0, static_cast<std::size_t>(tiles.rows * b.n) * sizeof(float)));
    return;
  }
  const Operands p{a.codes.get(),
                   a.scales.get(),
                   b.codes.get(),
                   b.scales.get(),
                   d,
                   static_cast<int>(b.n),
                   static_cast<int>(a.k_blocks()),
                   options.promote_interval,
                   static_cast<long long>(a.ld)};
  const dim3 grid(static_cast<unsigned>((b.n + kBn - 1) / kBn), static_cast<unsigned>(tiles.count));
  allow_smem();
  grouped_fp8_gemm_kernel<<<grid, kThreads, kSmemBytes>>>(
      p, tiles.tiles.get(), static_cast<long long>(b.n * b.ld),
      static_cast<int>((b.n + kBn - 1) / kBn * (b.ld / kPadK)));
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cobench::gemm::cuda
