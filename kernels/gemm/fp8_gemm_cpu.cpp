// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM: 192 x 64 output tiles shared out over threads; for each
// 128-wide K block one tile routine decodes the A and B tiles through a 256-entry table, B
// transposed so the kernel streams it, either scaled into FP32 (A per row, B per block) for a
// register-blocked FP32 kernel (6 x 32 AVX-512F in fp8_gemm_avx512.cpp, 6 x 16 AVX2+FMA, or
// portable) or as unscaled BF16 codes for the AVX512_BF16 kernel, which applies the scales.
#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/gemm/fp8_gemm.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cobench::gemm {
namespace {

using cpu_tile::kBlockK;
using cpu_tile::kRows;
using cpu_tile::kTileM;
using cpu_tile::kTileN;

using Table = std::array<float, 256>;

Table decode_table(num::Fp8Format f) {
  Table t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<size_t>(c)] = num::decode_fp8(static_cast<std::uint8_t>(c), f);
  return t;
}

// acc[6][16] += a[6][k] * bt[k][16] over one K block; a rows are kBlockK apart, bt rows kTileN.
void kernel_portable(const float* a, const float* bt, float* acc) {
  for (std::int64_t k = 0; k < kBlockK; ++k) {
    const float* b = bt + k * kTileN;
    for (int r = 0; r < kRows; ++r) {
      const float x = a[r * kBlockK + k];
      for (int j = 0; j < 16; ++j) acc[r * kTileN + j] += x * b[j];
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void kernel_avx2(const float* a, const float* bt, float* acc) {
  __m256 c[kRows][2];
  for (int r = 0; r < kRows; ++r) {
    c[r][0] = _mm256_loadu_ps(acc + r * kTileN);
    c[r][1] = _mm256_loadu_ps(acc + r * kTileN + 8);
  }
  for (std::int64_t k = 0; k < kBlockK; ++k) {
    const __m256 b0 = _mm256_loadu_ps(bt + k * kTileN);
    const __m256 b1 = _mm256_loadu_ps(bt + k * kTileN + 8);
    for (int r = 0; r < kRows; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r * kBlockK + k);
      c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    _mm256_storeu_ps(acc + r * kTileN, c[r][0]);
    _mm256_storeu_ps(acc + r * kTileN + 8, c[r][1]);
  }
}
#endif

// A register kernel: on scaled FP32 tiles (`run`, `cols` outputs wide) or on BF16 codes with the
// block's scales (`run_bf16`, 32 wide).
struct Kernel {
  void (*run)(const float*, const float*, float*) = nullptr;
  cpu_tile::Bf16Kernel run_bf16 = nullptr;
  std::int64_t cols = 16;
  const char* name = "";
};
constexpr Kernel kPortableKernel{kernel_portable, nullptr, 16, "portable"};

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
      return {kernel_avx2, nullptr, 16, "avx2-fma"};
    case CpuKernel::kAvx512f:
      return {cpu_tile::kernel_avx512f, nullptr, cpu_tile::kAvx512Cols, "avx512f"};
    case CpuKernel::kAvx512Bf16:
      return {nullptr, cpu_tile::kernel_avx512bf16, cpu_tile::kAvx512Cols, "avx512-bf16"};
    case CpuKernel::kAuto:
    case CpuKernel::kPortable:
      break;
  }
#else
  (void)which;
#endif
  return kPortableKernel;
}

// kAuto: the fastest kernel this CPU has.
Kernel pick_kernel() {
  for (CpuKernel which : {CpuKernel::kAvx512Bf16, CpuKernel::kAvx512f, CpuKernel::kAvx2Fma})
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

using Bf16Table = std::array<std::uint16_t, 256>;

// The BF16 bits of every FP8 code (exact: E4M3 and E5M2 fit in BF16).
Bf16Table bf16_table(num::Fp8Format f) {
  Bf16Table t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<size_t>(c)] = num::encode_bf16(num::decode_fp8(static_cast<std::uint8_t>(c), f));
  return t;
}

// How a K block reaches an FP32 register kernel: A and B decoded and scaled (A per row, B per
// block) into FP32, B transposed ([kBlockK][kTileN]) so the kernel streams it.
struct Fp32Flavour {
  using Code = float;
  Table ta, tb;
  Kernel kernel;

  Fp32Flavour(num::Fp8Format fa, num::Fp8Format fb, Kernel k)
      : ta(decode_table(fa)), tb(decode_table(fb)), kernel(k) {}
  // Row m of A over [k0, k1), scaled (the row's scale is not needed apart).
  void decode_a(const quant::QuantizedMatrix& a, std::int64_t m, std::int64_t k0, std::int64_t k1,
                Code* row, float*) const {
    const float s = a.scale_at(m, k0);
    const std::uint8_t* codes = a.codes.data() + m * a.cols;
    for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]] * s;
  }
  // Row n of B over [k0, k1), scaled, into column j of B^T.
  void decode_b(const quant::QuantizedMatrix& b, std::int64_t n, std::int64_t k0, std::int64_t k1,
                std::int64_t j, Code* bt) const {
    const float s = b.scale_at(n, k0);
    const std::uint8_t* codes = b.codes.data() + n * b.cols;
    for (std::int64_t k = k0; k < k1; ++k) bt[(k - k0) * kTileN + j] = tb[codes[k]] * s;
  }
  // acc [kTileM, kTileN] += at bt, kernel.cols outputs a call.
  void multiply(const Code* at, const Code* bt, const float*, const quant::QuantizedMatrix&,
                std::int64_t, std::int64_t, float* acc) const {
    for (std::int64_t i = 0; i < kTileM; i += kRows)
      for (std::int64_t j = 0; j < kTileN; j += kernel.cols)
        kernel.run(at + i * kBlockK, bt + j, acc + i * kTileN + j);
  }
};

// How a K block reaches a BF16 kernel: the unscaled codes of A (rows) and B (in VDPBF16PS's
// pairs) and the block's scales (A per row, B one per 128 x 128 block: a 64-wide N tile lies in
// one block), which the kernel applies.
struct Bf16Flavour {
  using Code = std::uint16_t;
  Bf16Table ta, tb;
  cpu_tile::Bf16Kernel kernel;

  Bf16Flavour(num::Fp8Format fa, num::Fp8Format fb, cpu_tile::Bf16Kernel k)
      : ta(bf16_table(fa)), tb(bf16_table(fb)), kernel(k) {}
  void decode_a(const quant::QuantizedMatrix& a, std::int64_t m, std::int64_t k0, std::int64_t k1,
                Code* row, float* row_scale) const {
    *row_scale = a.scale_at(m, k0);
    const std::uint8_t* codes = a.codes.data() + m * a.cols;
    for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]];
  }
  void decode_b(const quant::QuantizedMatrix& b, std::int64_t n, std::int64_t k0, std::int64_t k1,
                std::int64_t j, Code* bt) const {
    const std::uint8_t* codes = b.codes.data() + n * b.cols;
    for (std::int64_t k = k0; k < k1; ++k) {
      const std::int64_t kk = k - k0;
      bt[(kk / 2) * kTileN * 2 + j * 2 + kk % 2] = tb[codes[k]];
    }
  }
  // acc [kTileM, kTileN] += row_scale x (B's block scale at n0, k0) x at bt, 32 outputs a call.
  void multiply(const Code* at, const Code* bt, const float* row_scale,
                const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t k0,
                float* acc) const {
    const float sb = b.scale_at(n0, k0);
    for (std::int64_t i = 0; i < kTileM; i += kRows)
      for (std::int64_t j = 0; j < kTileN; j += cpu_tile::kAvx512Cols)
        kernel(at + i * kBlockK, bt + j * 2, row_scale + i, sb, acc + i * kTileN + j);
  }
};

// Output tile [m0, min(m_limit, m0 + kTileM)) x [n0, n0 + kTileN) of D = A B^T; m_limit ends
// the rows that belong to B (the expert's last token in a grouped GEMM). Per 128-wide K block
// the flavour decodes the A and B tiles and multiplies them into the FP32 accumulators.
template <class Flavour>
void tile(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
          std::int64_t m0, std::int64_t m_limit, std::int64_t n0, const Flavour& f) {
  using Code = typename Flavour::Code;
  // Thread-local: up to 176 KiB, too much for the stack of every thread.
  thread_local std::vector<Code> at_store(kTileM * kBlockK), bt_store(kBlockK * kTileN);
  thread_local std::vector<float> acc_store(kTileM * kTileN), sa_store(kTileM);
  Code* at = at_store.data();
  Code* bt = bt_store.data();
  float* acc = acc_store.data();
  float* sa = sa_store.data();
  std::fill(acc_store.begin(), acc_store.end(), 0.0f);
  const std::int64_t K = a.cols, N = b.rows;
  const std::int64_t m1 = std::min(m_limit, m0 + kTileM), n1 = std::min(N, n0 + kTileN);
  for (std::int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const std::int64_t k1 = std::min(K, k0 + kBlockK);
    // Partial tiles leave zeros where there is no data.
    if (m1 - m0 < kTileM || k1 - k0 < kBlockK) std::fill(at_store.begin(), at_store.end(), Code{0});
    if (n1 - n0 < kTileN || k1 - k0 < kBlockK) std::fill(bt_store.begin(), bt_store.end(), Code{0});
    std::fill(sa_store.begin(), sa_store.end(), 0.0f);
    for (std::int64_t m = m0; m < m1; ++m)
      f.decode_a(a, m, k0, k1, at + (m - m0) * kBlockK, sa + (m - m0));
    for (std::int64_t n = n0; n < n1; ++n) f.decode_b(b, n, k0, k1, n - n0, bt);
    f.multiply(at, bt, sa, b, n0, k0, acc);
  }
  for (std::int64_t m = m0; m < m1; ++m)
    for (std::int64_t n = n0; n < n1; ++n) d[m * N + n] = acc[(m - m0) * kTileN + (n - n0)];
}

void check_operands(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b) {
  COBENCH_CHECK(a.cols == b.cols && a.tile_rows == 1 && a.tile_cols == kBlockK &&
                    b.tile_rows == kBlockK && b.tile_cols == kBlockK,
                "A must be per-token (1 x 128) and B per-block (128 x 128) with the same K");
}

// D = A B^T, one task per output tile.
template <class Flavour>
void gemm_tiles(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                int threads, const Flavour& f) {
  const std::int64_t tiles_m = (a.rows + kTileM - 1) / kTileM,
                     tiles_n = (b.rows + kTileN - 1) / kTileN;
  parallel_for(tiles_m * tiles_n, thread_count(threads), [&](std::int64_t t) {
    tile(a, b, d, (t / tiles_n) * kTileM, a.rows, (t % tiles_n) * kTileN, f);
  });
}

// The grouped GEMM, one task per (expert, token tile, output tile), so uneven experts balance
// over threads.
template <class Flavour>
void grouped_tiles(const quant::QuantizedMatrix& a, const std::vector<quant::QuantizedMatrix>& b,
                   const std::vector<std::int64_t>& counts, float* d, int threads,
                   const Flavour& f) {
  struct Task {
    std::int64_t expert, m0, m_limit, n0;
  };
  std::vector<Task> tasks;
  std::int64_t offset = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    for (std::int64_t m0 = offset; m0 < offset + counts[e]; m0 += kTileM)
      for (std::int64_t n0 = 0; n0 < b[e].rows; n0 += kTileN)
        tasks.push_back({static_cast<std::int64_t>(e), m0, offset + counts[e], n0});
    offset += counts[e];
  }
  parallel_for(static_cast<std::int64_t>(tasks.size()), thread_count(threads), [&](std::int64_t i) {
    const Task& t = tasks[static_cast<size_t>(i)];
    tile(a, b[static_cast<size_t>(t.expert)], d, t.m0, t.m_limit, t.n0, f);
  });
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
  const Kernel kernel = select_kernel(which);
  if (kernel.run_bf16 != nullptr)
    return gemm_tiles(a, b, d, threads, Bf16Flavour(a.format, b.format, kernel.run_bf16));
  gemm_tiles(a, b, d, threads, Fp32Flavour(a.format, b.format, kernel));
}

void fp8_gemm_cpu_bf16(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                       int threads, cpu_tile::Bf16Kernel kernel) {
  check_operands(a, b);
  gemm_tiles(a, b, d, threads, Bf16Flavour(a.format, b.format, kernel));
}

void grouped_fp8_gemm_cpu(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, float* d, int threads,
                          CpuKernel which) {
  check_grouped(a, b, counts);
  const Kernel kernel = select_kernel(which);
  // Every expert has the first one's format (check_grouped): one table serves them all.
  const num::Fp8Format fb = b.front().format;
  if (kernel.run_bf16 != nullptr)
    return grouped_tiles(a, b, counts, d, threads, Bf16Flavour(a.format, fb, kernel.run_bf16));
  grouped_tiles(a, b, counts, d, threads, Fp32Flavour(a.format, fb, kernel));
}

}  // namespace cobench::gemm
