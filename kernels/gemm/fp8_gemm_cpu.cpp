// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM: 192 x 64 output tiles shared out over threads; for each
// 128-wide K block the A and B tiles are decoded through a 256-entry table and scaled (A per
// row, B per block), B transposed so the kernel streams it; a register-blocked kernel accumulates
// in FP32: 6 x 32 with AVX-512F (fp8_gemm_avx512.cpp), 6 x 16 with AVX2+FMA, or portable.
#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
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
  COBENCH_CHECK(cpu_supports(which), fmt::format("kernel {}: this CPU does not have it",
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

// tile() for a BF16 kernel: per K block, the unscaled codes of A (rows) and B (in VDPBF16PS's
// pairs) and the block's scales (A per row, B one per 128 x 128 block: a 64-wide N tile lies in
// one block).
void tile_bf16(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
               std::int64_t m0, std::int64_t m_limit, std::int64_t n0, const Bf16Table& ta,
               const Bf16Table& tb, cpu_tile::Bf16Kernel kernel) {
  thread_local std::vector<std::uint16_t> at_store(kTileM * kBlockK), bt_store(kBlockK * kTileN);
  thread_local std::vector<float> acc_store(kTileM * kTileN), sa_store(kTileM);
  std::uint16_t* at = at_store.data();
  std::uint16_t* bt = bt_store.data();
  float* acc = acc_store.data();
  std::fill(acc_store.begin(), acc_store.end(), 0.0f);
  const std::int64_t K = a.cols, N = b.rows;
  const std::int64_t m1 = std::min(m_limit, m0 + kTileM), n1 = std::min(N, n0 + kTileN);
  for (std::int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const std::int64_t k1 = std::min(K, k0 + kBlockK);
    if (m1 - m0 < kTileM || k1 - k0 < kBlockK) std::fill(at_store.begin(), at_store.end(), 0);
    if (n1 - n0 < kTileN || k1 - k0 < kBlockK) std::fill(bt_store.begin(), bt_store.end(), 0);
    std::fill(sa_store.begin(), sa_store.end(), 0.0f);
    for (std::int64_t m = m0; m < m1; ++m) {
      sa_store[static_cast<size_t>(m - m0)] = a.scale_at(m, k0);
      const std::uint8_t* codes = a.codes.data() + m * K;
      std::uint16_t* row = at + (m - m0) * kBlockK;
      for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]];
    }
    for (std::int64_t n = n0; n < n1; ++n) {
      const std::uint8_t* codes = b.codes.data() + n * K;
      for (std::int64_t k = k0; k < k1; ++k) {
        const std::int64_t kk = k - k0;
        bt[(kk / 2) * kTileN * 2 + (n - n0) * 2 + kk % 2] = tb[codes[k]];
      }
    }
    const float sb = b.scale_at(n0, k0);
    for (std::int64_t i = 0; i < kTileM; i += kRows)
      for (std::int64_t j = 0; j < kTileN; j += cpu_tile::kAvx512Cols)
        kernel(at + i * kBlockK, bt + j * 2, sa_store.data() + i, sb, acc + i * kTileN + j);
  }
  for (std::int64_t m = m0; m < m1; ++m)
    for (std::int64_t n = n0; n < n1; ++n) d[m * N + n] = acc[(m - m0) * kTileN + (n - n0)];
}

// Output tile [m0, min(m_limit, m0 + kTileM)) x [n0, n0 + kTileN) of D = A B^T; m_limit ends
// the rows that belong to B (the expert's last token in a grouped GEMM).
void tile(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
          std::int64_t m0, std::int64_t m_limit, std::int64_t n0, const Table& ta, const Table& tb,
          Kernel kernel) {
  // Thread-local: 176 KiB, too much for the stack of every thread.
  thread_local std::vector<float> at_store(kTileM * kBlockK), bt_store(kBlockK * kTileN),
      acc_store(kTileM * kTileN);
  float* at = at_store.data();
  float* bt = bt_store.data();
  float* acc = acc_store.data();
  std::fill(acc_store.begin(), acc_store.end(), 0.0f);
  const std::int64_t K = a.cols, N = b.rows;
  const std::int64_t m1 = std::min(m_limit, m0 + kTileM), n1 = std::min(N, n0 + kTileN);
  for (std::int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const std::int64_t k1 = std::min(K, k0 + kBlockK);
    // Partial tiles leave zeros where there is no data.
    if (m1 - m0 < kTileM || k1 - k0 < kBlockK) std::fill(at_store.begin(), at_store.end(), 0.0f);
    if (n1 - n0 < kTileN || k1 - k0 < kBlockK) std::fill(bt_store.begin(), bt_store.end(), 0.0f);
    for (std::int64_t m = m0; m < m1; ++m) {
      const float s = a.scale_at(m, k0);
      const std::uint8_t* codes = a.codes.data() + m * K;
      float* row = at + (m - m0) * kBlockK;
      for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]] * s;
    }
    for (std::int64_t n = n0; n < n1; ++n) {
      const float s = b.scale_at(n, k0);
      const std::uint8_t* codes = b.codes.data() + n * K;
      for (std::int64_t k = k0; k < k1; ++k) bt[(k - k0) * kTileN + (n - n0)] = tb[codes[k]] * s;
    }
    for (std::int64_t i = 0; i < kTileM; i += kRows)
      for (std::int64_t j = 0; j < kTileN; j += kernel.cols)
        kernel.run(at + i * kBlockK, bt + j, acc + i * kTileN + j);
  }
  for (std::int64_t m = m0; m < m1; ++m)
    for (std::int64_t n = n0; n < n1; ++n) d[m * N + n] = acc[(m - m0) * kTileN + (n - n0)];
}

// Runs task(0 .. count - 1) over `threads` threads, each taking the next task.
template <class F>
void run_tasks(std::int64_t count, int threads, const F& task) {
  std::atomic<std::int64_t> next{0};
  auto worker = [&] {
    for (std::int64_t t = next++; t < count; t = next++) task(t);
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
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
  COBENCH_CHECK(a.cols == b.cols && a.tile_rows == 1 && a.tile_cols == kBlockK &&
                    b.tile_rows == kBlockK && b.tile_cols == kBlockK,
                "A must be per-token (1 x 128) and B per-block (128 x 128) with the same K");
  const Kernel kernel = select_kernel(which);
  if (kernel.run_bf16 != nullptr) return fp8_gemm_cpu_bf16(a, b, d, threads, kernel.run_bf16);
  const Table ta = decode_table(a.format), tb = decode_table(b.format);
  const std::int64_t tiles_m = (a.rows + kTileM - 1) / kTileM,
                     tiles_n = (b.rows + kTileN - 1) / kTileN;
  const std::int64_t tiles = tiles_m * tiles_n;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  run_tasks(tiles, threads, [&](std::int64_t t) {
    tile(a, b, d, (t / tiles_n) * kTileM, a.rows, (t % tiles_n) * kTileN, ta, tb, kernel);
  });
}

void fp8_gemm_cpu_bf16(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                       int threads, cpu_tile::Bf16Kernel kernel) {
  COBENCH_CHECK(a.cols == b.cols && a.tile_rows == 1 && a.tile_cols == kBlockK &&
                    b.tile_rows == kBlockK && b.tile_cols == kBlockK,
                "A must be per-token (1 x 128) and B per-block (128 x 128) with the same K");
  const Bf16Table ta = bf16_table(a.format), tb = bf16_table(b.format);
  const std::int64_t tiles_m = (a.rows + kTileM - 1) / kTileM,
                     tiles_n = (b.rows + kTileN - 1) / kTileN;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  run_tasks(tiles_m * tiles_n, threads, [&](std::int64_t t) {
    tile_bf16(a, b, d, (t / tiles_n) * kTileM, a.rows, (t % tiles_n) * kTileN, ta, tb, kernel);
  });
}

void grouped_fp8_gemm_cpu(const quant::QuantizedMatrix& a,
                          const std::vector<quant::QuantizedMatrix>& b,
                          const std::vector<std::int64_t>& counts, float* d, int threads,
                          CpuKernel which) {
  check_grouped(a, b, counts);
  const Table ta = decode_table(a.format), tb = decode_table(b.front().format);
  const Bf16Table ta16 = bf16_table(a.format), tb16 = bf16_table(b.front().format);
  const Kernel kernel = select_kernel(which);
  // One task per (expert, token tile, output tile), so uneven experts balance over threads.
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
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  run_tasks(static_cast<std::int64_t>(tasks.size()), threads, [&](std::int64_t i) {
    const Task& t = tasks[static_cast<size_t>(i)];
    const quant::QuantizedMatrix& w = b[static_cast<size_t>(t.expert)];
    if (kernel.run_bf16 != nullptr)
      tile_bf16(a, w, d, t.m0, t.m_limit, t.n0, ta16, tb16, kernel.run_bf16);
    else
      tile(a, w, d, t.m0, t.m_limit, t.n0, ta, tb, kernel);
  });
}

}  // namespace cobench::gemm
