// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/gemm/cuda/fp8_block_gemm.h"
#include "kernels/gemm/cuda/fp8_gemm_tile_mma.cuh"
#include "kernels/gemm/cuda/fp8_gemm_tile_wgmma.cuh"

namespace cobench::gemm::cuda {
namespace {

using tile::kBm;
using tile::kBn;
using tile::kThreads;
using tile::Operands;

template <Fp8GemmKernel kKernel>
__device__ __forceinline__ void gemm_tile(const Operands& p, int m0, int m_end, int n0) {
  if constexpr (kKernel == Fp8GemmKernel::kWgmma)
    tile::gemm_tile_wgmma(p, m0, m_end, n0);
  else
    tile::gemm_tile_mma(p, m0, m_end, n0);
}

template <Fp8GemmKernel kKernel>
constexpr int kSmemBytes =
    kKernel == Fp8GemmKernel::kWgmma ? tile::WgmmaTile::kSmemBytes : tile::MmaTile::kSmemBytes;

template <Fp8GemmKernel kKernel>
__global__ void __launch_bounds__(kThreads, 1) fp8_gemm_kernel(Operands p, int m) {
  gemm_tile<kKernel>(p, blockIdx.y * kBm, m, blockIdx.x * kBn);
}

// blockIdx.y is a tile of (expert, first row, end row); B and its scales move to the expert's.
template <Fp8GemmKernel kKernel>
__global__ void __launch_bounds__(kThreads, 1)
    grouped_fp8_gemm_kernel(Operands p, const int* tiles, long long expert_codes,
                            int expert_scales) {
  const int* t = tiles + 3 * blockIdx.y;
  Operands q = p;
  q.b += t[0] * expert_codes;
  q.sb += t[0] * expert_scales;
  gemm_tile<kKernel>(q, t[1], t[2], blockIdx.x * kBn);
}

// Both kernels take more than the default 48 KiB of dynamic shared memory. The attribute belongs
// to the device current when it is set, so it is set before every launch (it is cheap).
template <Fp8GemmKernel kKernel>
void launch_plain(dim3 grid, const Operands& p, int m) {
  constexpr int smem = kSmemBytes<kKernel>;
  COBENCH_CUDA_CHECK(cudaFuncSetAttribute(fp8_gemm_kernel<kKernel>,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  fp8_gemm_kernel<kKernel><<<grid, kThreads, smem>>>(p, m);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

template <Fp8GemmKernel kKernel>
void launch_grouped(dim3 grid, const Operands& p, const int* tiles, long long expert_codes,
                    int expert_scales) {
  constexpr int smem = kSmemBytes<kKernel>;
  COBENCH_CUDA_CHECK(cudaFuncSetAttribute(grouped_fp8_gemm_kernel<kKernel>,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  grouped_fp8_gemm_kernel<kKernel><<<grid, kThreads, smem>>>(p, tiles, expert_codes, expert_scales);
  COBENCH_CUDA_CHECK(cudaGetLastError());
}

void check_options(const Fp8GemmOptions& o) {
  COBENCH_CHECK(o.promote_interval >= 0 && o.promote_interval % 32 == 0,
                fmt::format("promote_interval {}: a multiple of 32 (0: at the end only)",
                            o.promote_interval));
}

}  // namespace

Fp8GemmKernel resolve_fp8_gemm_kernel(Fp8GemmKernel requested) {
  if (requested == Fp8GemmKernel::kMmaSync) return requested;
  const int cc = cuda_compute_capability();
  COBENCH_CHECK(requested == Fp8GemmKernel::kAuto || cc == 90,
                fmt::format("the WGMMA kernel needs sm_90a; this device is sm_{}", cc));
  return cc == 90 ? Fp8GemmKernel::kWgmma : Fp8GemmKernel::kMmaSync;
}

const char* fp8_gemm_kernel_name(Fp8GemmKernel kernel) {
  switch (kernel) {
    case Fp8GemmKernel::kAuto:
      return "auto";
    case Fp8GemmKernel::kWgmma:
      return "wgmma m64n128k32";
    case Fp8GemmKernel::kMmaSync:
      return "mma.sync m16n8k32";
  }
  return "?";
}

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
  if (resolve_fp8_gemm_kernel(options.kernel) == Fp8GemmKernel::kWgmma)
    launch_plain<Fp8GemmKernel::kWgmma>(grid, p, static_cast<int>(a.rows));
  else
    launch_plain<Fp8GemmKernel::kMmaSync>(grid, p, static_cast<int>(a.rows));
}

GroupedTiles grouped_tiles(const std::vector<std::int64_t>& counts) {
  std::vector<int> t;
  std::int64_t row = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    COBENCH_CHECK(counts[e] >= 0, fmt::format("expert {} has {} tokens", e, counts[e]));
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
  COBENCH_CHECK(
      tiles.experts <= b.experts,
      fmt::format("the tiles cover {} experts; the weights hold {}", tiles.experts, b.experts));
  // As check_grouped (grouped_fp8_gemm_cpu): the token counts cover A's rows exactly.
  COBENCH_CHECK(tiles.rows == a.rows,
                fmt::format("token counts sum to {}, A has {} rows", tiles.rows, a.rows));
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
  const auto expert_codes = static_cast<long long>(b.n * b.ld);
  const auto expert_scales = static_cast<int>((b.n + kBn - 1) / kBn * (b.ld / kPadK));
  if (resolve_fp8_gemm_kernel(options.kernel) == Fp8GemmKernel::kWgmma)
    launch_grouped<Fp8GemmKernel::kWgmma>(grid, p, tiles.tiles.get(), expert_codes, expert_scales);
  else
    launch_grouped<Fp8GemmKernel::kMmaSync>(grid, p, tiles.tiles.get(), expert_codes,
                                            expert_scales);
}

}  // namespace cobench::gemm::cuda
