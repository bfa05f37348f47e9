// SPDX-License-Identifier: Apache-2.0
// The portable kernels, the dispatch, and the steps around the kernels (chunk, finish, combine);
// the AVX2 and AVX-512 kernels are in attention_tile_x86.cpp.
#include "kernels/mla/attention_tile.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "kernels/numerics/fp8.h"

namespace cobench::mla::detail {
namespace {

void scores_portable(const float* q, std::int64_t rows, std::int64_t dq, const float* kt,
                     std::int64_t n, float* s) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * kChunk;
    std::fill(sr, sr + n, 0.0f);
    for (std::int64_t d = 0; d < dq; ++d) {
      const float x = q[r * dq + d];
      const float* k = kt + d * kChunk;
      for (std::int64_t t = 0; t < n; ++t) sr[t] += x * k[t];
    }
  }
}

void softmax_portable(float* s, std::int64_t rows, std::int64_t n, float scale, float* m, float* l,
                      float* alpha) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* sr = s + r * kChunk;
    float top = m[r];
    for (std::int64_t t = 0; t < n; ++t) top = std::max(top, sr[t] * scale);
    alpha[r] = std::exp(m[r] - top);
    float sum = 0;
    for (std::int64_t t = 0; t < n; ++t) sum += (sr[t] = std::exp(sr[t] * scale - top));
    l[r] = l[r] * alpha[r] + sum;
    m[r] = top;
  }
}

void accumulate_portable(const float* p, std::int64_t rows, const float* v, std::int64_t ldv,
                         std::int64_t n, std::int64_t dv, const float* alpha, float* o,
                         PrefetchRange /*next*/) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* orow = o + r * dv;
    for (std::int64_t j = 0; j < dv; ++j) orow[j] *= alpha[r];
    for (std::int64_t t = 0; t < n; ++t) {
      const float w = p[r * kChunk + t];
      for (std::int64_t j = 0; j < dv; ++j) orow[j] += w * v[t * ldv + j];
    }
  }
}

void scores_rows_portable(const float* q, std::int64_t rows, std::int64_t dq, const float* k,
                          std::int64_t ldk, std::int64_t n, float* s, PrefetchRange) {
  for (std::int64_t t = 0; t < n; ++t)
    for (std::int64_t r = 0; r < rows; ++r) {
      float dot = 0;
      for (std::int64_t d = 0; d < dq; ++d) dot += q[r * dq + d] * k[t * ldk + d];
      s[r * kChunk + t] = dot;
    }
}

void bf16_to_float_portable(const std::uint8_t* src, std::int64_t n, float* dst) {
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

void e4m3_to_float_portable(const std::uint8_t* src, std::int64_t n, float scale, float* dst) {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int code = 0; code < 256; ++code)
      t[static_cast<size_t>(code)] =
          num::decode_fp8(static_cast<std::uint8_t>(code), num::Fp8Format::kE4M3);
    return t;
  }();
  for (std::int64_t i = 0; i < n; ++i) dst[i] = table[src[i]] * scale;
}

}  // namespace

void transpose_portable(const float* rows, std::int64_t ldr, std::int64_t dq, float* kt) {
  for (std::int64_t d = 0; d < dq; ++d)
    for (std::int64_t t = 0; t < kChunk; ++t) kt[d * kChunk + t] = rows[t * ldr + d];
}

CpuIsa resolve_isa(CpuIsa isa) {
  if (isa == CpuIsa::kAuto) return best_cpu_isa();
  COBENCH_CHECK(cpu_isa_supported(isa),
                fmt::format("this CPU does not run the {} kernels", cpu_isa_name(isa)));
  return isa;
}

TileKernels tile_kernels(CpuIsa resolved) {
#if defined(__x86_64__)
  // AMX's GQA/MHA and the steps around its MLA tiles are the AVX-512 kernels.
  if (resolved == CpuIsa::kAvx512 || resolved == CpuIsa::kAmx) return tile_kernels_avx512();
  if (resolved == CpuIsa::kAvx2) return tile_kernels_avx2();
#endif
  (void)resolved;
  return {scores_portable,
          softmax_portable,
          accumulate_portable,
          scores_rows_portable,
          bf16_to_float_portable,
          transpose_portable,
          e4m3_to_float_portable,
          nullptr,
          nullptr};
}

void Partial::reset(std::int64_t r, std::int64_t d) {
  rows = r, dv = d;
  m.assign(static_cast<size_t>(r), -std::numeric_limits<float>::infinity());
  l.assign(static_cast<size_t>(r), 0.0f);
  alpha.resize(static_cast<size_t>(r));
  o.assign(static_cast<size_t>(r * d), 0.0f);
  s.resize(static_cast<size_t>(r * kChunk));
  ones.assign(static_cast<size_t>(r), 1.0f);
  q.clear();  // attend_chunk_bf16_rows needs start_bf16_rows after a reset
  pair_split = false;
}

void to_pair_split(const float* x, std::int64_t n, float* out) {
  for (std::int64_t i = 0; i < n; ++i) out[i / 32 * 32 + i % 2 * 16 + i % 32 / 2] = x[i];
}

void from_pair_split(const float* x, std::int64_t n, float* out) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = x[i / 32 * 32 + i % 2 * 16 + i % 32 / 2];
}

void attend_chunk(const TileKernels& k, const float* q, std::int64_t dq, const float* kt,
                  const float* v, std::int64_t ldv, std::int64_t n, float scale, Partial& p,
                  PrefetchRange next) {
  k.scores(q, p.rows, dq, kt, n, p.s.data());
  k.softmax(p.s.data(), p.rows, n, scale, p.m.data(), p.l.data(), p.alpha.data());
  k.accumulate(p.s.data(), p.rows, v, ldv, n, p.dv, p.alpha.data(), p.o.data(), next);
}

namespace {

// Piece i of `pieces` of a prefetch range (whole lines).
PrefetchRange piece_of(PrefetchRange r, std::int64_t i, std::int64_t pieces) {
  if (r.data == nullptr) return {};
  const std::int64_t lines = (r.bytes + 63) / 64, first = i * lines / pieces;
  return {r.data + 64 * first, 64 * ((i + 1) * lines / pieces - first)};
}

}  // namespace

void start_bf16_rows(const TileKernels& kern, const float* q, std::int64_t rows, std::int64_t d,
                     Partial& p) {
  COBENCH_CHECK(d % 32 == 0, fmt::format("BF16 rows of {} elements: a multiple of 32 expected", d));
  p.reset(rows, d);
  p.q.resize(static_cast<size_t>(rows * d));
  p.pair_split = kern.scores_bf16 != nullptr && kern.accumulate_bf16 != nullptr;
  if (p.pair_split)
    for (std::int64_t r = 0; r < rows; ++r) to_pair_split(q + r * d, d, p.q.data() + r * d);
  else
    std::copy(q, q + rows * d, p.q.begin());
}

void attend_chunk_bf16_rows(const TileKernels& kern, const std::uint8_t* k, const std::uint8_t* v,
                            std::int64_t n, float scale, Partial& p, float* scratch,
                            PrefetchRange next_k, PrefetchRange next_v) {
  const std::int64_t d = p.dv;
  if (p.pair_split) {
    kern.scores_bf16(p.q.data(), p.rows, d, k, d, n, p.s.data(), next_k);
    kern.softmax(p.s.data(), p.rows, n, scale, p.m.data(), p.l.data(), p.alpha.data());
    kern.accumulate_bf16(p.s.data(), p.rows, v, d, n, d, p.alpha.data(), p.o.data(), next_v);
    return;
  }
  const std::int64_t pieces = (n + kBf16Piece - 1) / kBf16Piece;
  for (std::int64_t i = 0; i < pieces; ++i) {
    const std::int64_t t0 = i * kBf16Piece, m = std::min(kBf16Piece, n - t0);
    kern.bf16_to_float(k + t0 * d * 2, m * d, scratch);
    kern.scores_rows(p.q.data(), p.rows, d, scratch, d, m, p.s.data() + t0,
                     piece_of(next_k, i, pieces));
  }
  kern.softmax(p.s.data(), p.rows, n, scale, p.m.data(), p.l.data(), p.alpha.data());
  // P V piece by piece: o is rescaled by alpha once, then by exactly 1; each output's running sum
  // is stored and reloaded between pieces, which rounds nothing.
  for (std::int64_t i = 0; i < pieces; ++i) {
    const std::int64_t t0 = i * kBf16Piece, m = std::min(kBf16Piece, n - t0);
    kern.bf16_to_float(v + t0 * d * 2, m * d, scratch);
    kern.accumulate(p.s.data() + t0, p.rows, scratch, d, m, p.dv,
                    i == 0 ? p.alpha.data() : p.ones.data(), p.o.data(),
                    piece_of(next_v, i, pieces));
  }
}

void finish(const Partial& p, float* out, float* lse) {
  for (std::int64_t r = 0; r < p.rows; ++r) {
    const float inv = 1.0f / p.l[static_cast<size_t>(r)];
    float* row = out + r * p.dv;
    if (p.pair_split)
      from_pair_split(p.o.data() + r * p.dv, p.dv, row);
    else
      std::copy(p.o.begin() + r * p.dv, p.o.begin() + (r + 1) * p.dv, row);
    for (std::int64_t j = 0; j < p.dv; ++j) row[j] *= inv;
    lse[r] = p.m[static_cast<size_t>(r)] + std::log(p.l[static_cast<size_t>(r)]);
  }
}

void combine(const float* outs, const float* lses, std::int64_t splits, std::int64_t rows,
             std::int64_t dv, float* out, float* lse) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float top = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < splits; ++i) top = std::max(top, lses[i * rows + r]);
    float sum = 0;
    for (std::int64_t i = 0; i < splits; ++i) sum += std::exp(lses[i * rows + r] - top);
    const float total = top + std::log(sum);
    float* o = out + r * dv;
    std::fill(o, o + dv, 0.0f);
    for (std::int64_t i = 0; i < splits; ++i) {
      const float w = std::exp(lses[i * rows + r] - total);
      const float* src = outs + i * rows * dv + r * dv;
      for (std::int64_t j = 0; j < dv; ++j) o[j] += w * src[j];
    }
    lse[r] = total;
  }
}

}  // namespace cobench::mla::detail
