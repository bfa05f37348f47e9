// SPDX-License-Identifier: Apache-2.0
// The CPU block-scaled FP8 GEMM. Each operand is decoded once, fused into packing (gemm_groups):
// A for all rows (in chunks of at most 64 MiB), B one 64-column N panel at a time into a thread's
// buffer, which then multiplies every row of A, 192 x 64 output tiles, a K block at a time. The
// packed forms are scaled FP32 (A per row, B per block; B through AVX-512F or AVX2 gathers where
// the kernel has them, fp8_gemm_cpu_pack_x86.h) for a register-blocked FP32 kernel (6 x 32
// AVX-512F in fp8_gemm_avx512.cpp, 6 x 16 AVX2+FMA, or portable), or unscaled BF16 codes with
// the scales apart for the AVX512_BF16 kernel, which applies them.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/gemm/fp8_gemm.h"
#include "kernels/gemm/fp8_gemm_cpu_pack_x86.h"
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
  // The FP32 flavour's SIMD B packing for E4M3 and E5M2 (fp8_gemm_cpu_pack_x86.h), where the
  // kernel's instructions have one; the table otherwise.
  using PackB = void (*)(const std::uint8_t*, std::int64_t, float, float*);
  PackB pack_b_e4m3 = nullptr, pack_b_e5m2 = nullptr;
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
      return {kernel_avx2,
              nullptr,
              16,
              "avx2-fma",
              cpu_pack::pack_b_avx2<false>,
              cpu_pack::pack_b_avx2<true>};
    case CpuKernel::kAvx512f:
      return {cpu_tile::kernel_avx512f,       nullptr,
              cpu_tile::kAvx512Cols,          "avx512f",
              cpu_pack::pack_b_avx512<false>, cpu_pack::pack_b_avx512<true>};
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

// kAuto: the fastest kernel this CPU has. AVX-512F before AVX512_BF16: on the Sapphire Rapids
// Xeon measured (docs/numerics.md, each kernel forced with COBENCH_GEMM_KERNEL) VDPBF16PS
// sustains about half the FP32 FMA rate, so the FP32 kernel wins on every shape measured.
Kernel pick_kernel() {
  for (CpuKernel which : {CpuKernel::kAvx512f, CpuKernel::kAvx512Bf16, CpuKernel::kAvx2Fma})
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

// Packing, for both flavours: A once per GEMM, each row's K block as kBlockK codes (zeros past
// K); B one K block of a kTileN-column panel at a time, transposed so the kernel streams it.
// B rows are read 8 codes at a time, one row after another across the panel, so the packed block
// is written in order.
template <class Code, class Lookup>
void pack_b_block(const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t n1,
                  std::int64_t k0, Code* out, const Lookup& put) {
  const std::int64_t K = b.cols, cols = n1 - n0, depth = std::min(kBlockK, K - k0);
  const std::uint8_t* codes = b.codes.data() + n0 * K + k0;
  std::int64_t kk = 0;
  for (; kk + 8 <= depth; kk += 8)
    for (std::int64_t j = 0; j < cols; ++j) {
      std::uint8_t c[8];
      std::memcpy(c, codes + j * K + kk, sizeof c);
      for (int i = 0; i < 8; ++i) put(out, kk + i, j, c[i]);
    }
  for (; kk < depth; ++kk)
    for (std::int64_t j = 0; j < cols; ++j) put(out, kk, j, codes[j * K + kk]);
  // Zeros where there is no data: past N in every row, past K in whole rows.
  for (std::int64_t k = 0; k < kBlockK; ++k)
    for (std::int64_t j = k < depth ? cols : 0; j < kTileN; ++j) put.zero(out, k, j);
}

// How a K block reaches an FP32 register kernel: A and B decoded and scaled (A per row, B per
// block) into FP32, B transposed ([kBlockK][kTileN]).
struct Fp32Flavour {
  using Code = float;
  Table ta, tb;
  Kernel kernel;
  Kernel::PackB pack_b_simd;

  Fp32Flavour(num::Fp8Format fa, num::Fp8Format fb, Kernel k)
      : ta(decode_table(fa)),
        tb(decode_table(fb)),
        kernel(k),
        pack_b_simd(fb == num::Fp8Format::kE5M2 ? k.pack_b_e5m2 : k.pack_b_e4m3) {}
  // Row m of A over K block [k0, k0 + kBlockK), scaled (the scale is not needed apart).
  void pack_a(const quant::QuantizedMatrix& a, std::int64_t m, std::int64_t k0, Code* row,
              float* row_scale) const {
    const float s = a.scale_at(m, k0);
    const std::uint8_t* codes = a.codes.data() + m * a.cols;
    const std::int64_t k1 = std::min(a.cols, k0 + kBlockK);
    for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]] * s;
    std::fill(row + (k1 - k0), row + kBlockK, 0.0f);
    *row_scale = 1.0f;
  }
  // Rows [n0, n1) of B over the K block at k0, scaled, as B^T; returns the scale left to apply.
  float pack_b(const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t n1, std::int64_t k0,
               Code* bt) const {
    const float s = b.scale_at(n0, k0);  // one 128 x 128 block: kTileN divides 128
    const std::int64_t K = b.cols;
    if (pack_b_simd != nullptr && n1 - n0 == kTileN && k0 + kBlockK <= K &&
        K * kTileN < (std::int64_t{1} << 31)) {  // a full block, 32-bit gather offsets
      pack_b_simd(b.codes.data() + n0 * K + k0, K, s, bt);
      return 1.0f;
    }
    Table scaled;
    for (size_t c = 0; c < scaled.size(); ++c) scaled[c] = tb[c] * s;
    struct Put {
      const Table& t;
      void operator()(Code* o, std::int64_t k, std::int64_t j, std::uint8_t c) const {
        o[k * kTileN + j] = t[c];
      }
      void zero(Code* o, std::int64_t k, std::int64_t j) const { o[k * kTileN + j] = 0.0f; }
    };
    pack_b_block(b, n0, n1, k0, bt, Put{scaled});
    return 1.0f;
  }
  // acc [rows, cols] += a bt over one K block, kRows x kernel.cols outputs a call.
  void multiply(const Code* a, const float*, std::int64_t rows, const Code* bt, float,
                std::int64_t cols, float* acc) const {
    for (std::int64_t i = 0; i < rows; i += kRows)
      for (std::int64_t j = 0; j < cols; j += kernel.cols)
        kernel.run(a + i * kBlockK, bt + j, acc + i * kTileN + j);
  }
};

// How a K block reaches a BF16 kernel: the unscaled codes of A (rows) and B (in VDPBF16PS's
// pairs) and the block's scales (A per row, B one per 128 x 128 block), which the kernel applies.
struct Bf16Flavour {
  using Code = std::uint16_t;
  Bf16Table ta, tb;
  cpu_tile::Bf16Kernel kernel;

  Bf16Flavour(num::Fp8Format fa, num::Fp8Format fb, cpu_tile::Bf16Kernel k)
      : ta(bf16_table(fa)), tb(bf16_table(fb)), kernel(k) {}
  void pack_a(const quant::QuantizedMatrix& a, std::int64_t m, std::int64_t k0, Code* row,
              float* row_scale) const {
    *row_scale = a.scale_at(m, k0);
    const std::uint8_t* codes = a.codes.data() + m * a.cols;
    const std::int64_t k1 = std::min(a.cols, k0 + kBlockK);
    for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]];
    std::fill(row + (k1 - k0), row + kBlockK, Code{0});
  }
  float pack_b(const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t n1, std::int64_t k0,
               Code* bt) const {
    struct Put {
      const Bf16Table& t;
      void operator()(Code* o, std::int64_t k, std::int64_t j, std::uint8_t c) const {
        o[(k / 2) * kTileN * 2 + j * 2 + k % 2] = t[c];
      }
      void zero(Code* o, std::int64_t k, std::int64_t j) const {
        o[(k / 2) * kTileN * 2 + j * 2 + k % 2] = 0;
      }
    };
    pack_b_block(b, n0, n1, k0, bt, Put{tb});
    return b.scale_at(n0, k0);
  }
  // acc [rows, cols] += row_scale x block_scale x a bt, kRows x 32 outputs a call.
  void multiply(const Code* a, const float* row_scale, std::int64_t rows, const Code* bt,
                float block_scale, std::int64_t cols, float* acc) const {
    for (std::int64_t i = 0; i < rows; i += kRows)
      for (std::int64_t j = 0; j < cols; j += cpu_tile::kAvx512Cols)
        kernel(a + i * kBlockK, bt + j * 2, row_scale + i, block_scale, acc + i * kTileN + j);
  }
};

void check_operands(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b) {
  COBENCH_CHECK(a.cols == b.cols && a.tile_rows == 1 && a.tile_cols == kBlockK &&
                    b.tile_rows == kBlockK && b.tile_cols == kBlockK,
                "A must be per-token (1 x 128) and B per-block (128 x 128) with the same K");
}

// Rows [m0, m1) of A and D that one B multiplies: all of them in fp8_gemm_cpu, an expert's
// tokens in the grouped GEMM.
struct Group {
  const quant::QuantizedMatrix* b;
  std::int64_t m0, m1;
};

// A buffer of n T, not value-initialized, 64-byte aligned (the kernels' B and accumulator rows are
// whole cache lines).
template <class T>
struct Aligned {
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], Free> p;
  std::int64_t size = 0;

  void resize(std::int64_t n) {
    if (n == size) return;
    const size_t bytes = (static_cast<size_t>(n) * sizeof(T) + 63) / 64 * 64;
    p.reset(static_cast<T*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64))));
    if (!p) throw std::bad_alloc();
    size = n;
  }
  T* data() const { return p.get(); }
};

// A is packed this many bytes at a time at most (rows of A in chunks; B is decoded once a chunk).
constexpr std::int64_t kPackedABytes = std::int64_t{64} << 20;

// D = A B^T for every group. A chunk of A's rows is packed once, by all threads: per K block,
// the rows kBlockK codes apart (+ kRows - 1 rows of zeros: a register block may run past the
// chunk's end). Then each task, an N panel (kTileN columns) of a group's rows in the chunk (or
// of a slice of them, where there are too few panels to keep the threads busy), packs its B panel
// for every K block into the worker's buffer and sweeps the rows kTileM at a time, FP32
// accumulators across the K blocks. Each output is computed by one task in a fixed order: the
// result does not depend on the thread count.
template <class Flavour>
void gemm_groups(const quant::QuantizedMatrix& a, const std::vector<Group>& groups, std::int64_t N,
                 float* d, int threads, const Flavour& f) {
  using Code = typename Flavour::Code;
  const std::int64_t M = a.rows, K = a.cols, blocks = (K + kBlockK - 1) / kBlockK;
  const std::int64_t block_codes = kBlockK * kTileN, panels = (N + kTileN - 1) / kTileN;
  const int workers = thread_count(threads);
  const std::int64_t row_bytes =
      std::max<std::int64_t>(1, blocks) * kBlockK * static_cast<std::int64_t>(sizeof(Code));
  const std::int64_t chunk = std::max(kTileM, kPackedABytes / row_bytes / kTileM * kTileM);
  struct Task {
    const quant::QuantizedMatrix* b;
    std::int64_t r0, r1, n0;
  };
  struct Buffers {
    Aligned<Code> bp;        // the B panel, block after block
    Aligned<float> sb, acc;  // its blocks' scales; kTileM x kTileN accumulators
  };
  std::vector<Buffers> buffers(static_cast<size_t>(workers));
  for (std::int64_t c0 = 0; c0 < M; c0 += chunk) {
    const std::int64_t c1 = std::min(M, c0 + chunk), m_pad = c1 - c0 + kRows;
    Aligned<Code> ap;  // every element is written below
    Aligned<float> as;
    ap.resize(blocks * m_pad * kBlockK);
    as.resize(blocks * m_pad);
    constexpr std::int64_t kPackRows = 32;
    parallel_for((m_pad + kPackRows - 1) / kPackRows, workers, [&](std::int64_t t) {
      for (std::int64_t m = t * kPackRows; m < std::min(m_pad, (t + 1) * kPackRows); ++m)
        for (std::int64_t kb = 0; kb < blocks; ++kb) {
          Code* row = ap.data() + (kb * m_pad + m) * kBlockK;
          float* scale = as.data() + kb * m_pad + m;
          if (c0 + m < c1) {
            f.pack_a(a, c0 + m, kb * kBlockK, row, scale);
          } else {
            std::fill(row, row + kBlockK, Code{0});
            *scale = 0.0f;
          }
        }
    });
    // The tasks: slices of at least kTileM rows where a group has fewer panels than 8 a thread.
    std::int64_t busy = 0;
    for (const Group& g : groups)
      if (std::max(g.m0, c0) < std::min(g.m1, c1)) busy += panels;
    const std::int64_t slices = busy == 0 ? 1 : std::max<std::int64_t>(1, 8 * workers / busy);
    std::vector<Task> tasks;
    for (const Group& g : groups) {
      const std::int64_t r0 = std::max(g.m0, c0), r1 = std::min(g.m1, c1);
      if (r0 >= r1) continue;
      const std::int64_t per = (r1 - r0 + slices - 1) / slices;
      const std::int64_t step = std::max(kTileM, (per + kRows - 1) / kRows * kRows);
      for (std::int64_t s = r0; s < r1; s += step)
        for (std::int64_t p = 0; p < panels; ++p)
          tasks.push_back({g.b, s, std::min(r1, s + step), p * kTileN});
    }
    parallel_for(static_cast<std::int64_t>(tasks.size()), workers, [&](int w, std::int64_t i) {
      const Task& t = tasks[static_cast<size_t>(i)];
      Buffers& buf = buffers[static_cast<size_t>(w)];
      buf.bp.resize(blocks * block_codes);
      buf.sb.resize(blocks);
      buf.acc.resize(kTileM * kTileN);
      const std::int64_t n1 = std::min(N, t.n0 + kTileN), cols = n1 - t.n0;
      for (std::int64_t kb = 0; kb < blocks; ++kb)
        buf.sb.data()[kb] =
            f.pack_b(*t.b, t.n0, n1, kb * kBlockK, buf.bp.data() + kb * block_codes);
      float* acc = buf.acc.data();
      for (std::int64_t m0 = t.r0; m0 < t.r1; m0 += kTileM) {
        const std::int64_t rows = std::min(kTileM, t.r1 - m0);
        std::fill(acc, acc + kTileM * kTileN, 0.0f);
        for (std::int64_t kb = 0; kb < blocks; ++kb)
          f.multiply(ap.data() + (kb * m_pad + m0 - c0) * kBlockK, as.data() + kb * m_pad + m0 - c0,
                     rows, buf.bp.data() + kb * block_codes, buf.sb.data()[kb], cols, acc);
        for (std::int64_t r = 0; r < rows; ++r)
          std::copy(acc + r * kTileN, acc + r * kTileN + cols, d + (m0 + r) * N + t.n0);
      }
    });
  }
}

template <class Flavour>
void gemm_tiles(const quant::QuantizedMatrix& a, const quant::QuantizedMatrix& b, float* d,
                int threads, const Flavour& f) {
  gemm_groups(a, {Group{&b, 0, a.rows}}, b.rows, d, threads, f);
}

// The grouped GEMM: one group per expert with tokens, so uneven experts balance over threads.
template <class Flavour>
void grouped_tiles(const quant::QuantizedMatrix& a, const std::vector<quant::QuantizedMatrix>& b,
                   const std::vector<std::int64_t>& counts, float* d, int threads,
                   const Flavour& f) {
  std::vector<Group> groups;
  std::int64_t offset = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    if (counts[e] > 0) groups.push_back({&b[e], offset, offset + counts[e]});
    offset += counts[e];
  }
  gemm_groups(a, groups, b.front().rows, d, threads, f);
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
