// SPDX-License-Identifier: Apache-2.0
// The WGMMA tile's index maps (kernels/gemm/cuda/wgmma_layout.h) against the PTX ISA, on the CPU:
// the stage loads fill every byte once; the matrix descriptors, decoded bit by bit and read
// through the ISA's canonical K-major layout without swizzling, ((8,m),(T,2k)):((1T,SBO),(1,LBO))
// with T = 16 bytes, find each A and B element where the loads put it; the accumulator fragments
// cover the 64 x 128 tile once; and a CPU model of the tile built from nothing but these maps
// and the ISA's definition of wgmma (D[m][n] = sum_k A[m][k] B[n][k]) equals the plain product.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "kernels/gemm/cuda/wgmma_layout.h"

namespace {

namespace wl = cobench::gemm::cuda::wgmma_layout;

// The descriptor's fields, as the PTX ISA's "Matrix Descriptor Format" table lays them out.
struct Decoded {
  std::uint32_t start, lbo, sbo, base_offset, swizzle;
};
Decoded decode(std::uint64_t d) {
  return {static_cast<std::uint32_t>(d & 0x3FFF) << 4,
          static_cast<std::uint32_t>((d >> 16) & 0x3FFF) << 4,
          static_cast<std::uint32_t>((d >> 32) & 0x3FFF) << 4,
          static_cast<std::uint32_t>((d >> 49) & 0x7), static_cast<std::uint32_t>(d >> 62)};
}

// Shared-memory address of element (row, K byte k) of a K-major operand without swizzling.
std::uint32_t canonical_k_major(const Decoded& d, int row, int k) {
  return d.start +
         static_cast<std::uint32_t>((row / 8) * d.sbo + (row % 8) * 16 + (k / 16) * d.lbo + k % 16);
}

constexpr std::uint32_t kSmemBase = 0x400;            // where dynamic shared memory might start
constexpr int kStageBytes = 128 * 128, kStages = 12;  // A and B, 6 stages each

TEST(WgmmaLayout, StageLoadsWriteEveryByteOnceInOrder) {
  std::set<std::pair<int, int>> seen;
  for (int i = 0; i < wl::kChunks; ++i) {
    const int r = wl::load_row(i), c = wl::load_chunk(i);
    ASSERT_TRUE(r >= 0 && r < 128 && c >= 0 && c < 8) << i;
    EXPECT_EQ(wl::stage_offset(r, c), 16 * i) << "copy " << i;
    EXPECT_TRUE(seen.insert({r, c}).second) << "row " << r << " chunk " << c << " twice";
  }
  EXPECT_EQ(seen.size(), 1024u);
}

TEST(WgmmaLayout, DescriptorBitsFollowThePtxTable) {
  // Hand-worked: address 0x12340 -> 0x1234, LBO 128 -> 8, SBO 1024 -> 64; no swizzle.
  EXPECT_EQ(wl::descriptor(0x12340, 128, 1024), 0x1234ull | (8ull << 16) | (64ull << 32));
  // Only address bits 4..17 are kept.
  EXPECT_EQ(wl::descriptor(0x40010, 16, 16) & 0x3FFF, 0x1ull);
  const Decoded d = decode(wl::descriptor(0x2F0, wl::kLeadingBytes, wl::kStrideBytes));
  EXPECT_EQ(d.start, 0x2F0u);
  EXPECT_EQ(d.lbo, 128u);
  EXPECT_EQ(d.sbo, 1024u);
  EXPECT_EQ(d.base_offset, 0u);
  EXPECT_EQ(d.swizzle, 0u);
}

TEST(WgmmaLayout, DescriptorsFindEachElementWhereTheLoadsPutIt) {
  for (int s = 0; s < kStages; ++s) {
    const std::uint32_t stage = kSmemBase + static_cast<std::uint32_t>(s * kStageBytes);
    for (int ks = 0; ks < 4; ++ks) {
      for (int wg = 0; wg < 2; ++wg) {
        const Decoded a =
            decode(wl::descriptor(stage + static_cast<std::uint32_t>(wl::a_start(wg, ks)),
                                  wl::kLeadingBytes, wl::kStrideBytes));
        ASSERT_EQ(a.start % 16, 0u);
        for (int m = 0; m < 64; ++m)
          for (int k = 0; k < 32; ++k) {
            const int kk = 32 * ks + k;
            ASSERT_EQ(canonical_k_major(a, m, k) - stage,
                      static_cast<std::uint32_t>(wl::stage_offset(64 * wg + m, kk / 16) + kk % 16))
                << "stage " << s << " warpgroup " << wg << " k-step " << ks << " A[" << m << "]["
                << k << "]";
          }
      }
      const Decoded b = decode(wl::descriptor(stage + static_cast<std::uint32_t>(wl::b_start(ks)),
                                              wl::kLeadingBytes, wl::kStrideBytes));
      for (int n = 0; n < 128; ++n)
        for (int k = 0; k < 32; ++k) {
          const int kk = 32 * ks + k;
          ASSERT_EQ(canonical_k_major(b, n, k) - stage,
                    static_cast<std::uint32_t>(wl::stage_offset(n, kk / 16) + kk % 16))
              << "stage " << s << " k-step " << ks << " B[" << n << "][" << k << "]";
        }
    }
  }
}

TEST(WgmmaLayout, AccumulatorFragmentsCoverTheTileOnce) {
  std::set<std::pair<int, int>> seen;
  for (int wq = 0; wq < 4; ++wq)
    for (int lane = 0; lane < 32; ++lane)
      for (int j = 0; j < 64; ++j) {
        const int r = wl::d_row(wq, lane, j), c = wl::d_col(lane, j);
        ASSERT_TRUE(r >= 0 && r < 64 && c >= 0 && c < 128);
        EXPECT_TRUE(seen.insert({r, c}).second) << "D[" << r << "][" << c << "] twice";
        // PTX: warp w holds rows 16w .. 16w + 15, as mma.m16n8 does for each 8-column block.
        EXPECT_EQ(r / 16, wq);
        EXPECT_EQ(c / 8, j / 4);
      }
  EXPECT_EQ(seen.size(), 64u * 128u);
}

// Hand-worked from the PTX ISA's m64nNk32 f32 accumulator figure: thread T of the warpgroup, lane
// 4g + t of warp T / 32, holds D[16 (T / 32) + g][8i + 2t], [..][8i + 2t + 1] in d[4i], d[4i + 1]
// and rows + 8 in d[4i + 2], d[4i + 3].
TEST(WgmmaLayout, AccumulatorFragmentsArePtxs) {
  struct Case {
    int thread, reg, row, col;
  };
  const Case cases[] = {
      {0, 0, 0, 0},       {0, 1, 0, 1},       {0, 2, 8, 0},    {0, 3, 8, 1},      {0, 4, 0, 8},
      {0, 63, 8, 121},    {37, 0, 17, 2},     {37, 6, 25, 10}, {37, 61, 17, 123}, {127, 3, 63, 7},
      {127, 62, 63, 126}, {127, 63, 63, 127}, {64, 1, 32, 1},  {99, 40, 48, 86},
  };
  for (const Case& c : cases) {
    const int wq = c.thread / 32, lane = c.thread % 32;
    EXPECT_EQ(wl::d_row(wq, lane, c.reg), c.row) << "thread " << c.thread << " d" << c.reg;
    EXPECT_EQ(wl::d_col(lane, c.reg), c.col) << "thread " << c.thread << " d" << c.reg;
  }
}

// The tile end to end on integers: stages filled by the loads, four k-steps per warpgroup read
// through the decoded descriptors, every thread's registers mapped back to D.
TEST(WgmmaLayout, ModelOfTheTileEqualsThePlainProduct) {
  std::mt19937 rng(5);
  std::vector<int> a(128 * 128), b(128 * 128);  // [row][K byte]
  for (int& x : a) x = static_cast<int>(rng() % 17) - 8;
  for (int& x : b) x = static_cast<int>(rng() % 17) - 8;
  const std::uint32_t a_base = kSmemBase + 3 * kStageBytes, b_base = kSmemBase + 9 * kStageBytes;
  std::vector<int> smem(kSmemBase + kStages * kStageBytes, 0);
  for (int i = 0; i < wl::kChunks; ++i)
    for (int byte = 0; byte < 16; ++byte) {
      const int r = wl::load_row(i), k = 16 * wl::load_chunk(i) + byte;
      smem[a_base + 16 * i + byte] = a[r * 128 + k];
      smem[b_base + 16 * i + byte] = b[r * 128 + k];
    }
  std::vector<long long> d(128 * 128, 0);
  std::vector<int> writes(128 * 128, 0);
  for (int wg = 0; wg < 2; ++wg)
    for (int wq = 0; wq < 4; ++wq)
      for (int lane = 0; lane < 32; ++lane)
        for (int j = 0; j < 64; ++j) {
          const int m = wl::d_row(wq, lane, j), n = wl::d_col(lane, j);
          long long acc = 0;
          for (int ks = 0; ks < 4; ++ks) {
            const Decoded da =
                decode(wl::descriptor(a_base + static_cast<std::uint32_t>(wl::a_start(wg, ks)),
                                      wl::kLeadingBytes, wl::kStrideBytes));
            const Decoded db =
                decode(wl::descriptor(b_base + static_cast<std::uint32_t>(wl::b_start(ks)),
                                      wl::kLeadingBytes, wl::kStrideBytes));
            for (int k = 0; k < 32; ++k)
              acc += static_cast<long long>(smem[canonical_k_major(da, m, k)]) *
                     smem[canonical_k_major(db, n, k)];
          }
          d[(64 * wg + m) * 128 + n] = acc;
          ++writes[(64 * wg + m) * 128 + n];
        }
  for (int m = 0; m < 128; ++m)
    for (int n = 0; n < 128; ++n) {
      long long want = 0;
      for (int k = 0; k < 128; ++k) want += static_cast<long long>(a[m * 128 + k]) * b[n * 128 + k];
      ASSERT_EQ(writes[m * 128 + n], 1) << "D[" << m << "][" << n << "]";
      ASSERT_EQ(d[m * 128 + n], want) << "D[" << m << "][" << n << "]";
    }
}

}  // namespace
