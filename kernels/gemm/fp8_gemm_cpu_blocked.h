// SPDX-License-Identifier: Apache-2.0
// The CPU FP8 GEMM's driver for the FP32 register kernels (fp8_gemm_cpu.cpp includes it; no other
// file), blocked for the caches in the way of BLIS and OpenBLAS:
//   A  packed once per GEMM (by all threads, in chunks of at most 64 MiB) as micro-panels: mr rows,
//      the mr values of each k contiguous (one cache line feeds several broadcasts), decoded and
//      scaled per row and K block, K padded with zeros to whole K blocks;
//   B  one task's N panel (64 or 256 columns) packed for all of K into micro-panels nr wide,
//      decoded and scaled per 128 x 128 block (a task of at most mc rows packs one K block at a
//      time into one L1-sized buffer instead: it uses each slice of B once; such a task runs
//      several consecutive panels and prefetches the next one's codes into L2 a few lines before
//      each kernel call, fp8_gemm_cpu_prefetch.h);
//   then per mc rows of the task: per kc deep slice of K, per B micro-panel (kc x nr, held in L1),
//   per A micro-panel (streamed from L2): the register kernel over the kc products (the tail
//   kernel, where the kernel has one, for a group's last micro-panel of fewer than mr rows).
// The packed A and the B buffers are kept by the calling thread between calls.
// B and A are scaled before the kernel, so it runs across K blocks, and every output is the FP32
// sum of its products in order of k in one task: the result does not depend on the blocking or
// the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/gemm/fp8_gemm_cpu_pack.h"
#include "kernels/gemm/fp8_gemm_cpu_prefetch.h"
#include "kernels/gemm/fp8_gemm_cpu_tile.h"

namespace cobench::gemm::cpu_detail {

// The blocking: an N panel per task, mc rows at a time (a multiple of every kernel's mr), kc deep.
// kc: a B micro-panel (kc x nr floats, 32 KB for AVX-512) stays in L1 while the A micro-panels
// (mc / mr of them, mr x kc) stream through it from L2. A task's N panel is kWidePanelN columns
// where the groups have at least kWideRows rows on average (A's mc x kc block, read from memory
// once per panel, then serves 8 B micro-panels, not 2), kTileN otherwise (more, smaller tasks).
// A task of at most mc rows takes up to kStreamRun consecutive panels (fewer where the threads
// would have fewer than 16 tasks each), so that it prefetches the next panel's codes where they are
// at most kAheadBytes (K <= 4096 for 64 columns, an eighth of a 2 MB L2; a panel of K 16384, 1 MB
// of codes, would evict the current one's).
constexpr std::int64_t kMc = 192, kKc = 256, kWidePanelN = 256, kWideRows = 4 * kMc,
                       kStreamRun = 16, kAheadBytes = std::int64_t{256} << 10;
static_assert(kKc % kBlockK == 0 && kWidePanelN % kTileN == 0, "kc whole K blocks, whole tiles");

// B's SIMD packing (fp8_gemm_cpu_pack_x86.h): one full K block of a kTileN-wide panel.
using PackB = void (*)(const std::uint8_t* codes, std::int64_t k_stride, float scale, float* bt,
                       std::int64_t nr, std::int64_t panel_stride);

// A's SIMD packing (fp8_gemm_cpu_pack_x86.h): `depth` (a multiple of 64, in one K block) codes of
// rows [m0, m0 + rows) into an A micro-panel (zeros below `rows`), row r times scale[r].
using PackA = void (*)(const std::uint8_t* codes, std::int64_t k_stride, std::int64_t rows,
                       const float* scale, float* out, std::int64_t mr, std::int64_t depth);

// An FP32 register kernel, its shape and, where its instructions have them, B's and A's SIMD
// packing for E4M3 and E5M2 (the table otherwise).
struct BlockedKernel {  // nr: a power of two, at most kTileN
  cpu_tile::Fp32Kernel run = nullptr;
  std::int64_t mr = 6, nr = 16;
  PackB pack_b_e4m3 = nullptr, pack_b_e5m2 = nullptr;
  PackA pack_a_e4m3 = nullptr, pack_a_e5m2 = nullptr;
  // Where there is one: the kernel for a micro-panel of fewer than mr rows (a group's last), which
  // then costs its rows, not mr (experts of few tokens).
  cpu_tile::Fp32TailKernel tail = nullptr;
};

// Packs A and B for one BlockedKernel: codes decoded by table (or by SIMD) and scaled.
struct Fp32Packer {
  Table ta, tb;
  BlockedKernel kernel;
  PackB pack_b_simd;
  PackA pack_a_simd;

  Fp32Packer(num::Fp8Format fa, num::Fp8Format fb, BlockedKernel k)
      : ta(decode_table(fa)),
        tb(decode_table(fb)),
        kernel(k),
        pack_b_simd(fb == num::Fp8Format::kE5M2 ? k.pack_b_e5m2 : k.pack_b_e4m3),
        pack_a_simd(fa == num::Fp8Format::kE5M2 ? k.pack_a_e5m2 : k.pack_a_e4m3) {}

  // The micro-panel of rows [m0, m0 + rows) (rows <= mr; zeros below) over K padded to k_pad:
  // out[k x mr + r] = A[m0 + r][k] x its scale; by SIMD where the kernel has it, 64 k at a time.
  void pack_a(const quant::QuantizedMatrix& a, std::int64_t m0, std::int64_t rows,
              std::int64_t k_pad, float* out) const {
    const std::int64_t mr = kernel.mr, K = a.cols;
    const std::uint8_t* codes = a.codes.data() + m0 * K;
    for (std::int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const std::int64_t k1 = std::min(K, k0 + kBlockK);
      const std::int64_t simd = pack_a_simd == nullptr ? k0 : k0 + (k1 - k0) / 64 * 64;
      float scale[16];  // mr <= 16 where there is a SIMD packing
      for (std::int64_t r = 0; r < rows && r < 16; ++r) scale[r] = a.scale_at(m0 + r, k0);
      if (simd > k0) pack_a_simd(codes + k0, K, rows, scale, out + k0 * mr, mr, simd - k0);
      for (std::int64_t r = 0; r < mr; ++r) {
        const float s = r < rows ? a.scale_at(m0 + r, k0) : 0.0f;
        for (std::int64_t k = simd; k < k1; ++k)
          out[k * mr + r] = r < rows ? ta[codes[r * K + k]] * s : 0.0f;
      }
    }
    for (std::int64_t k = K; k < k_pad; ++k)
      for (std::int64_t r = 0; r < mr; ++r) out[k * mr + r] = 0.0f;
  }

  // Rows [n0, n1) (at most kTileN, in one 128-row block) of B over the K block at k0, scaled, into
  // micro-panels: bt[(j / nr) x panel_stride + k x nr + j % nr] = B[n0 + j][k0 + k] x scale.
  void pack_b(const quant::QuantizedMatrix& b, std::int64_t n0, std::int64_t n1, std::int64_t k0,
              float* bt, std::int64_t panel_stride) const {
    const float s = b.scale_at(n0, k0);  // one 128 x 128 block: kTileN divides 128
    const std::int64_t K = b.cols, nr = kernel.nr;
    if (pack_b_simd != nullptr && n1 - n0 == kTileN && k0 + kBlockK <= K) {  // a full block
      pack_b_simd(b.codes.data() + n0 * K + k0, K, s, bt, nr, panel_stride);
      return;
    }
    Table scaled;
    for (size_t c = 0; c < scaled.size(); ++c) scaled[c] = tb[c] * s;
    struct Put {  // nr is a power of two: a shift and a mask, no division per code
      const Table& t;
      int shift;
      std::int64_t nr, stride;
      std::int64_t at(std::int64_t k, std::int64_t j) const {
        return (j >> shift) * stride + k * nr + (j & (nr - 1));
      }
      void operator()(float* o, std::int64_t k, std::int64_t j, std::uint8_t c) const {
        o[at(k, j)] = t[c];
      }
      void zero(float* o, std::int64_t k, std::int64_t j) const { o[at(k, j)] = 0.0f; }
    };
    int shift = 0;
    while ((std::int64_t{1} << shift) < nr) ++shift;
    pack_b_block(b, n0, n1, k0, bt, Put{scaled, shift, nr, panel_stride});
  }
};

// D = A B^T for every group (see the top of this file). Each task is an N panel of a group's rows
// in the chunk, or of a slice of them where there are too few panels to keep the threads busy.
inline void gemm_groups_fp32(const quant::QuantizedMatrix& a, const std::vector<Group>& groups,
                             std::int64_t N, float* d, int threads, const Fp32Packer& f) {
  const std::int64_t mr = f.kernel.mr, nr = f.kernel.nr;
  const std::int64_t M = a.rows, K = a.cols,
                     k_pad = std::max<std::int64_t>(1, (K + kBlockK - 1) / kBlockK) * kBlockK;
  const int workers = thread_count(threads);
  const std::int64_t chunk = std::max(kMc, kPackedABytes / (k_pad * 4) / kMc * kMc);
  struct Task {
    const quant::QuantizedMatrix* b;
    std::int64_t r0, r1, p0, n0, n1;  // rows [r0, r1), from A's micro-panel p0; columns [n0, n1)
  };
  struct MicroPanel {
    std::int64_t m0, rows;
  };
  struct Buffers {
    Aligned<float> bp, acc;  // the B panel's micro-panels; kMc x panel_n accumulators
  };
  // The buffers are kept between calls by the calling thread (its workers of this call use them,
  // through these references: a thread_local named in the tasks would be the worker's own): the
  // packed A (up to kPackedABytes) and the B panels fault their pages in once, not per call.
  thread_local std::vector<Buffers> kept_buffers;
  thread_local Aligned<float> kept_ap;
  std::vector<Buffers>& buffers = kept_buffers;
  Aligned<float>& ap = kept_ap;  // every element is written below
  if (buffers.size() < static_cast<size_t>(workers)) buffers.resize(static_cast<size_t>(workers));
  for (std::int64_t c0 = 0; c0 < M; c0 += chunk) {
    const std::int64_t c1 = std::min(M, c0 + chunk);
    // A's micro-panels: each group's rows in the chunk from its first row, mr at a time.
    std::vector<MicroPanel> mp;
    struct Segment {
      const quant::QuantizedMatrix* b;
      std::int64_t r0, r1, p0;
    };
    std::vector<Segment> segments;
    for (const Group& g : groups) {
      const std::int64_t r0 = std::max(g.m0, c0), r1 = std::min(g.m1, c1);
      if (r0 >= r1) continue;
      segments.push_back({g.b, r0, r1, static_cast<std::int64_t>(mp.size())});
      for (std::int64_t m = r0; m < r1; m += mr) mp.push_back({m, std::min(mr, r1 - m)});
    }
    const std::int64_t panel_floats = k_pad * mr;
    ap.resize(static_cast<std::int64_t>(mp.size()) * panel_floats);
    parallel_for(static_cast<std::int64_t>(mp.size()), workers, [&](std::int64_t p) {
      const MicroPanel& m = mp[static_cast<size_t>(p)];
      f.pack_a(a, m.m0, m.rows, k_pad, ap.data() + p * panel_floats);
    });
    const std::int64_t panel_n =
        c1 - c0 >= kWideRows * static_cast<std::int64_t>(segments.size()) ? kWidePanelN : kTileN;
    const std::int64_t panels = (N + panel_n - 1) / panel_n;
    // The tasks: slices of at least kMc rows where the groups have fewer panels than 8 a thread
    // (rounded up: 9 panels over 2 threads are 18 tasks, not 9 of which one thread runs 5).
    const std::int64_t busy = static_cast<std::int64_t>(segments.size()) * panels;
    const std::int64_t slices =
        busy == 0 ? 1 : std::max<std::int64_t>(1, (8 * workers + busy - 1) / busy);
    // A slice of at most kMc rows (its B streamed through L1) takes `run` consecutive panels, so
    // that the next panel's codes are prefetched while one computes; 16 tasks a thread at least.
    const std::int64_t run = std::clamp<std::int64_t>(busy / (16 * workers), 1, kStreamRun);
    std::vector<Task> tasks;
    for (const Segment& g : segments) {
      const std::int64_t per = (g.r1 - g.r0 + slices - 1) / slices;
      const std::int64_t step = std::max(kMc, (per + mr - 1) / mr * mr);
      for (std::int64_t s = g.r0; s < g.r1; s += step) {
        const std::int64_t r1 = std::min(g.r1, s + step), n = r1 - s <= kMc ? run : 1;
        for (std::int64_t p = 0; p < panels; p += n)
          tasks.push_back(
              {g.b, s, r1, g.p0 + (s - g.r0) / mr, p * panel_n, std::min(N, (p + n) * panel_n)});
      }
    }
    // One N panel [n0, n0 + panel_n) of task t with the thread's buffers.
    auto run_panel = [&](const Task& t, Buffers& buf, std::int64_t n0) {
      const std::int64_t cols = std::min(N, n0 + panel_n) - n0;
      // One row block (an expert of few tokens, a GEMM of small M): B is used for one kc slice
      // and gone, so only a K block of it is packed at a time, into the same kBlockK x panel_n
      // floats (32 KB for 64 columns), which stay in L1 for the kernel; otherwise B's panel is
      // packed a kc slice at a time before its first use and kept for the task's later rows.
      const bool stream = t.r1 - t.r0 <= kMc;
      const std::int64_t depth = stream ? kBlockK : kKc;
      const std::int64_t b_panels = (cols + nr - 1) / nr,
                         b_floats = (stream ? kBlockK : k_pad) * nr;
      // B's K blocks [k0, k1) into the buffer from its k `base`, by kTileN-wide parts (each in one
      // scale block).
      auto pack_b = [&](std::int64_t k0, std::int64_t k1, std::int64_t base) {
        for (std::int64_t q = 0; q * kTileN < cols; ++q)
          for (std::int64_t k = k0; k < std::min(K, k1); k += kBlockK)
            f.pack_b(*t.b, n0 + q * kTileN, n0 + std::min(cols, (q + 1) * kTileN), k,
                     buf.bp.data() + q * (kTileN / nr) * b_floats + (k - base) * nr, b_floats);
      };
      if (K == 0) std::fill(buf.bp.data(), buf.bp.data() + k_pad * panel_n, 0.0f);
      // The task's next panel, streamed: its rows of codes (contiguous, at most kAheadBytes)
      // fetched into L2, a share before each kernel call of this panel (one row block: k_pad /
      // kBlockK x b_panels x a_panels calls).
      const std::int64_t ahead_bytes =
          std::max<std::int64_t>(0, std::min(t.n1, n0 + 2 * panel_n) - n0 - panel_n) * K;
      SpreadPrefetch ahead(t.b->codes.data() + (n0 + panel_n) * K,
                           stream && ahead_bytes <= kAheadBytes ? ahead_bytes : 0,
                           k_pad / kBlockK * b_panels * ((t.r1 - t.r0 + mr - 1) / mr));
      float* acc = buf.acc.data();
      for (std::int64_t m0 = t.r0; m0 < t.r1; m0 += kMc) {
        const std::int64_t rows = std::min(kMc, t.r1 - m0), a_panels = (rows + mr - 1) / mr;
        const float* a0 = ap.data() + (t.p0 + (m0 - t.r0) / mr) * panel_floats;
        std::fill(acc, acc + a_panels * mr * panel_n, 0.0f);
        for (std::int64_t pc = 0; pc < k_pad; pc += depth) {
          const std::int64_t kc = std::min(depth, k_pad - pc), base = stream ? pc : 0;
          if (stream || m0 == t.r0) pack_b(pc, pc + kc, base);
          for (std::int64_t jp = 0; jp < b_panels; ++jp)
            for (std::int64_t ip = 0; ip < a_panels; ++ip) {
              ahead.step();
              const float* ak = a0 + ip * panel_floats + pc * mr;
              const float* bk = buf.bp.data() + jp * b_floats + (pc - base) * nr;
              float* ck = acc + ip * mr * panel_n + jp * nr;
              if (const std::int64_t left = rows - ip * mr; left < mr && f.kernel.tail != nullptr)
                f.kernel.tail(kc, left, ak, bk, ck, panel_n);
              else
                f.kernel.run(kc, ak, bk, ck, panel_n);
            }
        }
        for (std::int64_t r = 0; r < rows; ++r)
          std::copy(acc + r * panel_n, acc + r * panel_n + cols, d + (m0 + r) * N + n0);
      }
    };
    parallel_for(static_cast<std::int64_t>(tasks.size()), workers, [&](int w, std::int64_t i) {
      const Task& t = tasks[static_cast<size_t>(i)];
      Buffers& buf = buffers[static_cast<size_t>(w)];
      buf.bp.resize(k_pad * panel_n);
      buf.acc.resize(kMc * panel_n);
      for (std::int64_t n0 = t.n0; n0 < t.n1; n0 += panel_n) run_panel(t, buf, n0);
    });
  }
}

}  // namespace cobench::gemm::cpu_detail
