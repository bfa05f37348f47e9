// SPDX-License-Identifier: Apache-2.0
// The CPU FP8 GEMM's driver for the AVX512_BF16 kernel (fp8_gemm_cpu.cpp includes it; no other
// file): A packed once per GEMM as unscaled BF16 codes (per K block, rows kBlockK apart, the
// scales apart), each task an N panel (kTileN columns) of a group's rows whose B panel (codes in
// VDPBF16PS's pairs, one scale a block) it packs for every K block, then 192 x 64 output tiles a
// K block at a time, kRows x 32 outputs a kernel call (fewer rows at a group's end where the
// kernel has a tail), which applies the block's scales.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/gemm/fp8_gemm_cpu_pack.h"
#include "kernels/gemm/fp8_gemm_cpu_pack_bf16_x86.h"
#include "kernels/gemm/fp8_gemm_cpu_prefetch.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

namespace cobench::gemm::cpu_detail {

using cpu_tile::kRows;
using cpu_tile::kTileM;

using Bf16Table = std::array<std::uint16_t, 256>;

// The BF16 bits of every FP8 code (exact: E4M3 and E5M2 fit in BF16).
inline Bf16Table bf16_table(num::Fp8Format f) {
  Bf16Table t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<size_t>(c)] = num::encode_bf16(num::decode_fp8(static_cast<std::uint8_t>(c), f));
  return t;
}

// How a K block reaches the BF16 kernel: the unscaled codes of A (rows) and B (in VDPBF16PS's
// pairs) and the block's scales (A per row, B one per 128 x 128 block), which the kernel applies.
// The codes are looked up in the table with AVX-512BW (B with VBMI too) where the CPU has it
// (fp8_gemm_cpu_pack_bf16_x86.h), else one at a time: the same words either way.
struct Bf16Flavour {
  using Code = std::uint16_t;
  Bf16Table ta, tb;
  cpu_tile::Bf16Kernel kernel;
  cpu_tile::Bf16TailKernel tail;    // kernel's first rows alone (nullptr: the whole kernel runs)
  bool simd = false, vbmi = false;  // cpu_pack's AVX-512BW packing; its VBMI form for B
  int odd_a = 128, odd_b = 128;     // cpu_pack::first_odd_magnitude of ta and tb

  Bf16Flavour(num::Fp8Format fa, num::Fp8Format fb, cpu_tile::Bf16Kernel k,
              cpu_tile::Bf16TailKernel t = nullptr)
      : ta(bf16_table(fa)), tb(bf16_table(fb)), kernel(k), tail(t) {
#if defined(__x86_64__)
    simd = cpu_pack::bf16_pack_supported();
    vbmi = simd && cpu_pack::bf16_pack_vbmi_supported();
    odd_a = cpu_pack::first_odd_magnitude(ta.data());
    odd_b = cpu_pack::first_odd_magnitude(tb.data());
#endif
  }
  void pack_a(const quant::QuantizedMatrix& a, std::int64_t m, std::int64_t k0, Code* row,
              float* row_scale) const {
    *row_scale = a.scale_at(m, k0);
    const std::uint8_t* codes = a.codes.data() + m * a.cols;
    const std::int64_t k1 = std::min(a.cols, k0 + kBlockK);
#if defined(__x86_64__)
    if (simd) return cpu_pack::pack_a_bf16_avx512(codes + k0, k1 - k0, ta.data(), odd_a, row);
#endif
    for (std::int64_t k = k0; k < k1; ++k) row[k - k0] = ta[codes[k]];
    std::fill(row + (k1 - k0), row + kBlockK, Code{0});
  }
  float pack_b(const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t n1, std::int64_t k0,
               Code* bt) const {
#if defined(__x86_64__)
    if (simd) {
      (vbmi ? cpu_pack::pack_b_bf16_vbmi : cpu_pack::pack_b_bf16_avx512)(
          b.codes.data() + n0 * b.cols + k0, b.cols, n1 - n0, std::min(kBlockK, b.cols - k0),
          tb.data(), odd_b, bt);
      return b.scale_at(n0, k0);
    }
#endif
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
};

// D = A B^T for every group. A chunk of A's rows is packed once, by all threads: per K block,
// the rows kBlockK codes apart (+ kRows - 1 rows of zeros: a register block may run past the
// chunk's end). Then each task, a run of N panels (kTileN columns each) of a group's rows in the
// chunk (or of a slice of them, where there are too few panels to keep the threads busy), packs
// each panel's B for every K block into the worker's buffer and sweeps the rows kTileM at a time,
// FP32 accumulators across the K blocks. Where the rows are few (an expert's tokens) B's codes
// stream from memory for little work, so a task takes up to kStreamRun consecutive panels and
// fetches the next one's codes into L2 a few lines before each kernel call of the current one
// (fp8_gemm_cpu_prefetch.h), as the FP32 driver does. Each output is computed by one task in a
// fixed order: the result does not depend on the thread count.
inline void gemm_groups_bf16(const quant::QuantizedMatrix& a, const std::vector<Group>& groups,
                             std::int64_t N, float* d, int threads, const Bf16Flavour& f) {
  using Code = Bf16Flavour::Code;
  constexpr std::int64_t kStreamRun = 16, kAheadBytes = std::int64_t{256} << 10;
  const std::int64_t M = a.rows, K = a.cols, blocks = (K + kBlockK - 1) / kBlockK;
  const std::int64_t block_codes = kBlockK * kTileN, panels = (N + kTileN - 1) / kTileN;
  const int workers = thread_count(threads);
  const std::int64_t row_bytes =
      std::max<std::int64_t>(1, blocks) * kBlockK * static_cast<std::int64_t>(sizeof(Code));
  const std::int64_t chunk = std::max(kTileM, kPackedABytes / row_bytes / kTileM * kTileM);
  struct Task {
    const quant::QuantizedMatrix* b;
    std::int64_t r0, r1, n0, n1;  // rows [r0, r1), columns [n0, n1): whole panels
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
    // The tasks: slices of at least kTileM rows where a group has fewer panels than 8 a thread;
    // a slice of at most kTileM rows takes `run` consecutive panels, 16 tasks a thread at least.
    std::int64_t busy = 0;
    for (const Group& g : groups)
      if (std::max(g.m0, c0) < std::min(g.m1, c1)) busy += panels;
    const std::int64_t slices = busy == 0 ? 1 : std::max<std::int64_t>(1, 8 * workers / busy);
    const std::int64_t run = std::clamp<std::int64_t>(busy / (16 * workers), 1, kStreamRun);
    std::vector<Task> tasks;
    for (const Group& g : groups) {
      const std::int64_t r0 = std::max(g.m0, c0), r1 = std::min(g.m1, c1);
      if (r0 >= r1) continue;
      const std::int64_t per = (r1 - r0 + slices - 1) / slices;
      const std::int64_t step = std::max(kTileM, (per + kRows - 1) / kRows * kRows);
      for (std::int64_t s = r0; s < r1; s += step) {
        const std::int64_t e = std::min(r1, s + step), n = e - s <= kTileM ? run : 1;
        for (std::int64_t p = 0; p < panels; p += n)
          tasks.push_back({g.b, s, e, p * kTileN, std::min(N, (p + n) * kTileN)});
      }
    }
    parallel_for(static_cast<std::int64_t>(tasks.size()), workers, [&](int w, std::int64_t i) {
      const Task& t = tasks[static_cast<size_t>(i)];
      Buffers& buf = buffers[static_cast<size_t>(w)];
      buf.bp.resize(blocks * block_codes);
      buf.sb.resize(blocks);
      buf.acc.resize(kTileM * kTileN);
      for (std::int64_t n0 = t.n0; n0 < t.n1; n0 += kTileN) {
        const std::int64_t n1 = std::min(N, n0 + kTileN), cols = n1 - n0;
        for (std::int64_t kb = 0; kb < blocks; ++kb)
          buf.sb.data()[kb] =
              f.pack_b(*t.b, n0, n1, kb * kBlockK, buf.bp.data() + kb * block_codes);
        // The task's next panel: its rows of codes (contiguous), a share before each kernel call.
        const std::int64_t ahead_bytes =
            std::max<std::int64_t>(0, std::min(t.n1, n1 + kTileN) - n1) * K;
        const std::int64_t calls = blocks * ((t.r1 - t.r0 + kRows - 1) / kRows) *
                                   ((cols + cpu_tile::kAvx512Cols - 1) / cpu_tile::kAvx512Cols);
        SpreadPrefetch ahead(t.b->codes.data() + n1 * K,
                             t.r1 - t.r0 <= kTileM && ahead_bytes <= kAheadBytes ? ahead_bytes : 0,
                             calls);
        float* acc = buf.acc.data();
        for (std::int64_t m0 = t.r0; m0 < t.r1; m0 += kTileM) {
          const std::int64_t rows = std::min(kTileM, t.r1 - m0);
          // The rows the kernel calls touch (a whole kernel's kRows at the end where it has no
          // tail), not the whole tile: an expert's few tokens would clear 192 rows a panel.
          std::fill(acc, acc + (rows + kRows - 1) / kRows * kRows * kTileN, 0.0f);
          for (std::int64_t kb = 0; kb < blocks; ++kb) {
            const Code* a0 = ap.data() + (kb * m_pad + m0 - c0) * kBlockK;
            const float* s0 = as.data() + kb * m_pad + m0 - c0;
            const Code* bt = buf.bp.data() + kb * block_codes;
            for (std::int64_t r = 0; r < rows; r += kRows)
              for (std::int64_t j = 0; j < cols; j += cpu_tile::kAvx512Cols) {
                ahead.step();
                if (const std::int64_t left = rows - r; left < kRows && f.tail != nullptr)
                  f.tail(static_cast<int>(left), a0 + r * kBlockK, bt + j * 2, s0 + r,
                         buf.sb.data()[kb], acc + r * kTileN + j);
                else
                  f.kernel(a0 + r * kBlockK, bt + j * 2, s0 + r, buf.sb.data()[kb],
                           acc + r * kTileN + j);
              }
          }
          for (std::int64_t r = 0; r < rows; ++r)
            std::copy(acc + r * kTileN, acc + r * kTileN + cols, d + (m0 + r) * N + n0);
        }
      }
    });
  }
}

}  // namespace cobench::gemm::cpu_detail
