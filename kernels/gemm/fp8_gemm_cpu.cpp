// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM: the register kernels, which one runs, and the entry points. Each
// operand is decoded once, fused into packing, and multiplied by one of two drivers: the FP32
// kernels' (fp8_gemm_cpu_blocked.h: scaled FP32 micro-panels, cache-blocked, A and B decoded by
// AVX-512F or AVX2 loads and shifts where the kernel has them, fp8_gemm_cpu_pack_x86.h; 12 x 32
// AVX-512F in fp8_gemm_avx512.cpp, 6 x 16 AVX2+FMA, or portable) or the AVX512_BF16 kernel's
// (fp8_gemm_cpu_bf16_driver.h: unscaled BF16 codes, the scales apart, applied by the kernel).
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/ceilings/bf16_dot_peak.h"
#include "kernels/gemm/fp8_gemm.h"
#include "kernels/gemm/fp8_gemm_cpu_bf16_driver.h"
#include "kernels/gemm/fp8_gemm_cpu_blocked.h"
#include "kernels/gemm/fp8_gemm_cpu_pack.h"
#include "kernels/gemm/fp8_gemm_cpu_pack_x86.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cobench::gemm {
namespace {

using cpu_detail::BlockedKernel;
using cpu_detail::Group;

// The portable and AVX2 kernels' shape: c[6][16] += a[k][6] x b[k][16] (cpu_tile::Fp32Kernel).
constexpr int kMr = 6, kNr = 16;

void kernel_portable(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc) {
  float acc[kMr][kNr];
  for (int r = 0; r < kMr; ++r)
    for (int j = 0; j < kNr; ++j) acc[r][j] = c[r * ldc + j];
  for (std::int64_t k = 0; k < kc; ++k)
    for (int r = 0; r < kMr; ++r) {
      const float x = a[k * kMr + r];
      for (int j = 0; j < kNr; ++j) acc[r][j] += x * b[k * kNr + j];
    }
  for (int r = 0; r < kMr; ++r)
    for (int j = 0; j < kNr; ++j) c[r * ldc + j] = acc[r][j];
}

#if defined(__x86_64__)
// Unrolled over the rows so that the 12 accumulators live in registers (GCC otherwise keeps the
// array on the stack, a store per FMA).
__attribute__((target("avx2,fma"))) void kernel_avx2(std::int64_t kc, const float* a,
                                                     const float* b, float* c, std::int64_t ldc) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    acc[r][0] = _mm256_loadu_ps(c + r * ldc);
    acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
  }
  for (std::int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b + k * kNr);
    const __m256 b1 = _mm256_load_ps(b + k * kNr + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + k * kMr + r);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}
#endif

// A register kernel: an FP32 one (`fp32`) for the blocked driver, or the BF16 one (`bf16`).
struct Kernel {
  BlockedKernel fp32;
  cpu_tile::Bf16Kernel bf16 = nullptr;
  const char* name = "";
  cpu_tile::Bf16TailKernel bf16_tail = nullptr;  // bf16's first rows alone
};
const Kernel kPortableKernel{{kernel_portable, kMr, kNr}, nullptr, "portable"};

bool cpu_supports(CpuKernel which) {
  switch (which) {
    case CpuKernel::kAuto:
    case CpuKernel::kPortable:
      return true;
#if defined(__x86_64__)
    case CpuKernel::kAvx2Fma:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuKernel::kAvx512f:
      return __builtin_cpu_supports("avx512f");
    case CpuKernel::kAvx512Bf16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    case CpuKernel::kAvx2Fma:
    case CpuKernel::kAvx512f:
    case CpuKernel::kAvx512Bf16:
      return false;
#endif
  }
  return false;
}

// The kernel `which` names; the caller has checked that the CPU has it.
Kernel kernel_of(CpuKernel which) {
#if defined(__x86_64__)
  switch (which) {
    case CpuKernel::kAvx2Fma:
      return {{kernel_avx2, kMr, kNr, cpu_pack::pack_b_avx2<false>, cpu_pack::pack_b_avx2<true>,
               cpu_pack::pack_a_avx2<false>, cpu_pack::pack_a_avx2<true>},
              nullptr,
              "avx2-fma"};
    case CpuKernel::kAvx512f:
      return {{cpu_tile::kernel_avx512f, cpu_tile::kAvx512Rows, cpu_tile::kAvx512Cols,
               cpu_pack::pack_b_avx512<false>, cpu_pack::pack_b_avx512<true>,
               cpu_pack::pack_a_avx512<false>, cpu_pack::pack_a_avx512<true>,
               cpu_tile::kernel_avx512f_tail},
              nullptr,
              "avx512f"};
    case CpuKernel::kAvx512Bf16:
      return {{}, cpu_tile::kernel_avx512bf16, "avx512-bf16", cpu_tile::kernel_avx512bf16_tail};
    case CpuKernel::kAuto:
    case CpuKernel::kPortable:
      break;
  }
#else
  (void)which;
#endif
  return kPortableKernel;
}

// kAuto: AVX512_BF16 where VDPBF16PS does at least kBf16MinSpeedup x the FP32 FMA's FLOP on this
// CPU (measured once: ceilings::bf16_dot_speedup), else AVX-512F, else AVX2+FMA. Measured with
// each kernel forced (docs/numerics.md): on AMD Zen 4 VDPBF16PS runs at the FMA's instruction
// rate, twice its FLOP, and the BF16 kernel is the faster on every shape measured; on Intel
// Sapphire Rapids it runs at half, the same FLOP, and the FP32 kernel wins on every shape.
Kernel pick_kernel() {
  if (cpu_supports(CpuKernel::kAvx512Bf16) && ceilings::bf16_dot_speedup() >= kBf16MinSpeedup)
    return kernel_of(CpuKernel::kAvx512Bf16);
  for (CpuKernel which : {CpuKernel::kAvx512f, CpuKernel::kAvx2Fma})
    if (cpu_supports(which)) return kernel_of(which);
  return kPortableKernel;
}

Kernel select_kernel(CpuKernel which) {
  if (which == CpuKernel::kAuto) return pick_kernel();
  if (!cpu_supports(which))
    throw Error(fmt::format("the FP8 GEMM kernel {} needs instructions this CPU does not have",
                            fp8_gemm_cpu_kernel_name(which)));
  return kernel_of(which);
}

void check_operands(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b) {
  COBENCH_CHECK(a.cols == b.cols && a.tile_rows == 1 && a.tile_cols == cpu_tile::kBlockK &&
                    b.tile_rows == cpu_tile::kBlockK && b.tile_cols == cpu_tile::kBlockK,
                "A must be per-token (1 x 128) and B per-block (128 x 128) with the same K");
}

// D = A B^T for the groups through `kernel`'s driver; fb is every B's format.
void run_groups(const quant::QuantizedMatrix& a, const std::vector<Group>& groups, std::int64_t N,
                num::Fp8Format fb, float* d, int threads, const Kernel& kernel) {
  if (kernel.bf16 != nullptr)
    return cpu_detail::gemm_groups_bf16(
        a, groups, N, d, threads,
        cpu_detail::Bf16Flavour(a.format, fb, kernel.bf16, kernel.bf16_tail));
  cpu_detail::gemm_groups_fp32(a, groups, N, d, threads,
                               cpu_detail::Fp32Packer(a.format, fb, kernel.fp32));
}

// The grouped GEMM: one group per expert with tokens, so uneven experts balance over threads.
std::vector<Group> expert_groups(const std::vector<quant::QuantizedMatrix>& b,
                                 const std::vector<std::int64_t>& counts) {
  std::vector<Group> groups;
  std::int64_t offset = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    if (counts[e] > 0) groups.push_back({&b[e], offset, offset + counts[e]});
    offset += counts[e];
  }
  return groups;
}

}  // namespace

const char* fp8_gemm_cpu_kernel() { return pick_kernel().name; }

bool fp8_gemm_cpu_supports(CpuKernel which) { return cpu_supports(which); }

const char* fp8_gemm_cpu_kernel_name(CpuKernel which) {
  switch (which) {
    case CpuKernel::kAuto:
      return "auto";
    case CpuKernel::kPortable:
      return "portable";
    case CpuKernel::kAvx2Fma:
      return "avx2-fma";
    case CpuKernel::kAvx512f:
      return "avx512f";
    case CpuKernel::kAvx512Bf16:
      return "avx512-bf16";
  }
  return "?";
}

void fp8_gemm_cpu(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                  int threads, CpuKernel which) {
  check_operands(a, b);
  run_groups(a, {Group{&b, 0, a.rows}}, b.rows, b.format, d, threads, select_kernel(which));
}

void fp8_gemm_cpu_bf16(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                       int threads, cpu_tile::Bf16Kernel kernel, cpu_tile::Bf16TailKernel tail) {
  check_operands(a, b);
  run_groups(a, {Group{&b, 0, a.rows}}, b.rows, b.format, d, threads,
             Kernel{{}, kernel, "bf16", tail});
}

void grouped_fp8_gemm_cpu(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, float* d, int threads,
                          CpuKernel which) {
  check_grouped(a, b, counts);
  // Every expert has the first one's format (check_grouped): one table serves them all.
  run_groups(a, expert_groups(b, counts), b.front().rows, b.front().format, d, threads,
             select_kernel(which));
}

}  // namespace cobench::gemm
