// SPDX-License-Identifier: Apache-2.0
// What both drivers of the CPU FP8 GEMM share (fp8_gemm_cpu.cpp includes it; no other file):
// aligned buffers, the row groups one B multiplies, the decode tables and the table path of B's
// packing. Internal: namespace cpu_detail.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/gemm/fp8_gemm_cpu_tile.h"
#include "kernels/numerics/fp8.h"
#include "kernels/quant/fine_grained.h"

namespace cobench::gemm::cpu_detail {

using cpu_tile::kBlockK;
using cpu_tile::kTileN;

using Table = std::array<float, 256>;

inline Table decode_table(num::Fp8Format f) {
  Table t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<size_t>(c)] = num::decode_fp8(static_cast<std::uint8_t>(c), f);
  return t;
}

// Rows [m0, m1) of A and D that one B multiplies: all of them in fp8_gemm_cpu, an expert's
// tokens in the grouped GEMM.
struct Group {
  const quant::QuantizedMatrix* b;
  std::int64_t m0, m1;
};

// A buffer of n T, not value-initialized, 64-byte aligned (the kernels' B and accumulator rows are
// whole cache lines). resize keeps the memory where it has room (a buffer kept between calls
// faults its pages in once).
template <class T>
struct Aligned {
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], Free> p;
  std::int64_t size = 0, capacity = 0;

  void resize(std::int64_t n) {
    size = n;
    if (n <= capacity) return;
    const size_t bytes = (static_cast<size_t>(n) * sizeof(T) + 63) / 64 * 64;
    p.reset(static_cast<T*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64))));
    if (!p) {
      size = capacity = 0;
      throw std::bad_alloc();
    }
    capacity = n;
  }
  T* data() const { return p.get(); }
};

// A is packed this many bytes at a time at most (rows of A in chunks; B is decoded once a chunk).
constexpr std::int64_t kPackedABytes = std::int64_t{64} << 20;

// One K block of a kTileN-column panel of B through `put(out, k, j, code)` and `put.zero(out, k,
// j)` (the layout is put's): B rows are read 8 codes at a time, one row after another across the
// panel; zeros past N in every row and past K in whole rows.
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
  for (std::int64_t k = 0; k < kBlockK; ++k)
    for (std::int64_t j = k < depth ? cols : 0; j < kTileN; ++j) put.zero(out, k, j);
}

}  // namespace cobench::gemm::cpu_detail
