// SPDX-License-Identifier: Apache-2.0
// The AVX-512F attention-tile kernels (kernels/mla/attention_tile_avx512.inc) on every CPU: this
// TU is built without -mavx512f, so the .inc compiles to SIMDe's portable code. On ragged shapes
// (rows 1..12 and past one 12-row block, inner lengths 1..576 that are not multiples of 16 or 32,
// 1..64 tokens) each kernel meets an FP64 evaluation within the FP32 summation bound, leaves the
// memory outside its contract untouched and, on a build without FMA (SIMDe then rounds product
// and sum separately, in the portable kernels' order), equals the portable kernels bit for bit.
// The softmax update meets FP64 (2e-6) and leaves the columns past n alone; the transpose puts
// every element in place; a prefetch range changes no result; the kernels that read BF16 rows
// directly (pair-split query and output) meet FP64. Where the CPU has AVX-512F the
// native kernels (attention_tile_avx512.cpp) are checked too: scores and P V bit for bit against
// a scalar std::fma evaluation in their order and within the same bound, softmax and transpose
// as above.
#include <gtest/gtest.h>
#include <simde/x86/avx512.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/mla/attention_tile.h"
#include "kernels/mla/attention_tile_avx512.inc"

namespace {

using namespace cobench::mla;
using namespace cobench::mla::detail;

using ScoresFn = void (*)(const float*, std::int64_t, std::int64_t, const float*, std::int64_t,
                          float*);
using AccumulateFn = void (*)(const float*, std::int64_t, const float*, std::int64_t, std::int64_t,
                              std::int64_t, const float*, float*, PrefetchRange);

// Rows: each remainder block 1..11, a full block of 12 and blocks of 12 plus a remainder.
const std::vector<std::int64_t> kRowCounts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 31};
const std::vector<std::int64_t> kInnerLengths = {1, 15, 17, 33, 64, 65, 576};  // dq
const std::vector<std::int64_t> kTokenCounts = {1, 15, 17, 33, 63, 64};        // n <= kChunk
const std::vector<std::int64_t> kValueDims = {32, 64, 512};                    // dv

// A recursive FP32 sum of k products (with or without fused multiply-adds) is within
// gamma_k = k u / (1 - k u) of the exact sum, relative to the sum of the products' magnitudes
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), u = 2^-24.
double sum_bound(std::int64_t k) {
  const double u = std::ldexp(1.0, -24);
  return static_cast<double>(k) * u / (1.0 - static_cast<double>(k) * u);
}

std::vector<float> uniform(std::int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

struct ScoresCase {
  std::int64_t rows, dq, n;
  std::vector<float> q, kt;  // q [rows, dq], kt [dq, 64] (finite in every column)
};

ScoresCase scores_case(std::int64_t rows, std::int64_t dq, std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return {rows, dq, n, uniform(rows * dq, rng), uniform(dq * kChunk, rng)};
}

// s [rows + 1, 64] starts NaN; the kernel writes rows < rows, columns < n and may write up to the
// next multiple of 32 (AVX-512: two zmm per block); the rest stays NaN.
std::vector<float> run_scores(ScoresFn fn, const ScoresCase& c) {
  std::vector<float> s(static_cast<size_t>((c.rows + 1) * kChunk),
                       std::numeric_limits<float>::quiet_NaN());
  fn(c.q.data(), c.rows, c.dq, c.kt.data(), c.n, s.data());
  return s;
}

void expect_scores_valid(const ScoresCase& c, const std::vector<float>& s, const char* what) {
  const std::int64_t written = round_up(c.n, 32);
  for (std::int64_t r = 0; r <= c.rows; ++r)
    for (std::int64_t t = 0; t < kChunk; ++t) {
      const float got = s[static_cast<size_t>(r * kChunk + t)];
      if (r == c.rows || t >= written) {
        ASSERT_TRUE(std::isnan(got))
            << what << ": wrote outside the tile at row " << r << ", column " << t << " (rows "
            << c.rows << ", n " << c.n << ")";
        continue;
      }
      if (t >= c.n) continue;  // may be written; unspecified value
      double exact = 0, magnitude = 0;
      for (std::int64_t d = 0; d < c.dq; ++d) {
        const double p = static_cast<double>(c.q[static_cast<size_t>(r * c.dq + d)]) *
                         c.kt[static_cast<size_t>(d * kChunk + t)];
        exact += p;
        magnitude += std::fabs(p);
      }
      ASSERT_LE(std::fabs(got - exact), sum_bound(c.dq) * magnitude)
          << what << ": rows " << c.rows << ", dq " << c.dq << ", n " << c.n << ", row " << r
          << ", token " << t;
    }
}

struct AccumulateCase {
  std::int64_t rows, n, dv, ldv;
  std::vector<float> p, v, alpha, o;  // p [rows, 64], v [n, ldv], alpha [rows], o [rows + 1, dv]
};

AccumulateCase accumulate_case(std::int64_t rows, std::int64_t n, std::int64_t dv,
                               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::int64_t ldv = dv + 17;  // a ragged row stride, as MLA's 576 for dv 512
  AccumulateCase c{rows,
                   n,
                   dv,
                   ldv,
                   uniform(rows * kChunk, rng),
                   uniform(n * ldv, rng),
                   uniform(rows, rng),
                   uniform((rows + 1) * dv, rng)};
  for (float& a : c.alpha) a = std::fabs(a);  // exp(m_old - m_new) is in [0, 1]
  for (float& x : c.p) x = std::fabs(x);      // softmax weights
  return c;
}

// With a prefetch range (a hint) over v's bytes, or none.
std::vector<float> run_accumulate(AccumulateFn fn, const AccumulateCase& c, bool prefetch = false) {
  std::vector<float> o = c.o;
  const PrefetchRange next =
      prefetch ? PrefetchRange{reinterpret_cast<const std::uint8_t*>(c.v.data()),
                               static_cast<std::int64_t>(c.v.size() * sizeof(float))}
               : PrefetchRange{};
  fn(c.p.data(), c.rows, c.v.data(), c.ldv, c.n, c.dv, c.alpha.data(), o.data(), next);
  return o;
}

void expect_accumulate_valid(const AccumulateCase& c, const std::vector<float>& o,
                             const char* what) {
  for (std::int64_t j = 0; j < c.dv; ++j)  // the row past the tile is untouched
    ASSERT_EQ(o[static_cast<size_t>(c.rows * c.dv + j)],
              c.o[static_cast<size_t>(c.rows * c.dv + j)])
        << what << ": wrote past the last row";
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (std::int64_t j = 0; j < c.dv; ++j) {
      double exact = static_cast<double>(c.alpha[static_cast<size_t>(r)]) *
                     c.o[static_cast<size_t>(r * c.dv + j)];
      double magnitude = std::fabs(exact);
      for (std::int64_t t = 0; t < c.n; ++t) {
        const double pv = static_cast<double>(c.p[static_cast<size_t>(r * kChunk + t)]) *
                          c.v[static_cast<size_t>(t * c.ldv + j)];
        exact += pv;
        magnitude += std::fabs(pv);
      }
      // n + 1 products (alpha o and the n terms of P V) summed in FP32.
      ASSERT_LE(std::fabs(o[static_cast<size_t>(r * c.dv + j)] - exact),
                sum_bound(c.n + 1) * magnitude)
          << what << ": rows " << c.rows << ", n " << c.n << ", dv " << c.dv << ", row " << r
          << ", column " << j;
    }
}

// The native kernels' arithmetic per output, in their order: a zero accumulator (scores) or
// alpha o rounded (P V), then one fused multiply-add per term.
std::vector<float> scores_fma_order(const ScoresCase& c) {
  std::vector<float> s(static_cast<size_t>(c.rows * kChunk));
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (std::int64_t t = 0; t < c.n; ++t) {
      float acc = 0.0f;
      for (std::int64_t d = 0; d < c.dq; ++d)
        acc = std::fma(c.q[static_cast<size_t>(r * c.dq + d)],
                       c.kt[static_cast<size_t>(d * kChunk + t)], acc);
      s[static_cast<size_t>(r * kChunk + t)] = acc;
    }
  return s;
}

std::vector<float> accumulate_fma_order(const AccumulateCase& c) {
  std::vector<float> o = c.o;
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (std::int64_t j = 0; j < c.dv; ++j) {
      float acc = c.alpha[static_cast<size_t>(r)] * c.o[static_cast<size_t>(r * c.dv + j)];
      for (std::int64_t t = 0; t < c.n; ++t)
        acc = std::fma(c.p[static_cast<size_t>(r * kChunk + t)],
                       c.v[static_cast<size_t>(t * c.ldv + j)], acc);
      o[static_cast<size_t>(r * c.dv + j)] = acc;
    }
  return o;
}

TEST(MlaAvx512Emulated, ScoresMeetFp64OnRaggedShapes) {
  const TileKernels portable = tile_kernels(CpuIsa::kPortable);
  std::uint64_t seed = 1;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t dq : kInnerLengths)
      for (std::int64_t n : kTokenCounts) {
        const ScoresCase c = scores_case(rows, dq, n, seed++);
        const std::vector<float> s = run_scores(avx512::scores, c);
        expect_scores_valid(c, s, "emulated AVX-512");
        const std::vector<float> ref = run_scores(portable.scores, c);
        expect_scores_valid(c, ref, "portable");
#if !defined(__FMA__)
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t t = 0; t < n; ++t)
            ASSERT_EQ(s[static_cast<size_t>(r * kChunk + t)],
                      ref[static_cast<size_t>(r * kChunk + t)])
                << "rows " << rows << ", dq " << dq << ", n " << n << ", row " << r << ", token "
                << t;
#endif
        if (HasFatalFailure()) return;
      }
}

// The row-major scores (GQA, MHA: K [n, ldk]) on rows 1-13 and 31 (blocks of 4 and single rows), dq
// multiples of 16 (the kernel's contract), 1 to 64 tokens (kTokenCounts): within the FP32
// summation bound of FP64 (lane_sums16 adds in a tree, so no order is bit-exact), nothing written
// past n or past the last row, and a prefetch range changes no value. K's rows past n are not
// allocated: ASan would catch a read there.
TEST(MlaAvx512Emulated, RowMajorScoresMeetFp64OnRaggedShapes) {
  std::uint64_t seed = 500;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t dq : {16, 48, 128, 576})
      for (std::int64_t n : kTokenCounts) {
        std::mt19937_64 rng(seed++);
        const std::int64_t ldk = dq + 16;
        const std::vector<float> q = uniform(rows * dq, rng), k = uniform(n * ldk, rng);
        std::vector<float> s(static_cast<size_t>((rows + 1) * kChunk),
                             std::numeric_limits<float>::quiet_NaN());
        avx512::scores_krows(q.data(), rows, dq, k.data(), ldk, n, s.data(), {});
        std::vector<float> again(s.size(), std::numeric_limits<float>::quiet_NaN());
        avx512::scores_krows(q.data(), rows, dq, k.data(), ldk, n, again.data(),
                             {reinterpret_cast<const std::uint8_t*>(k.data()),
                              static_cast<std::int64_t>(k.size() * sizeof(float))});
        for (std::int64_t r = 0; r <= rows; ++r)
          for (std::int64_t t = 0; t < kChunk; ++t) {
            const size_t i = static_cast<size_t>(r * kChunk + t);
            if (r == rows || t >= n) {
              ASSERT_TRUE(std::isnan(s[i]) && std::isnan(again[i]))
                  << "wrote outside the tile at row " << r << ", column " << t << " (rows " << rows
                  << ", n " << n << ")";
              continue;
            }
            ASSERT_EQ(s[i], again[i]) << "a prefetch changed a score";
            double exact = 0, magnitude = 0;
            for (std::int64_t d = 0; d < dq; ++d) {
              const double p = static_cast<double>(q[static_cast<size_t>(r * dq + d)]) *
                               k[static_cast<size_t>(t * ldk + d)];
              exact += p;
              magnitude += std::fabs(p);
            }
            ASSERT_LE(std::fabs(s[i] - exact), sum_bound(dq) * magnitude)
                << "rows " << rows << ", dq " << dq << ", n " << n << ", row " << r << ", token "
                << t;
          }
      }
}

// BF16 to FP32 sixteen at a time and in the tail: every element equals the portable conversion,
// bit for bit (the BF16 bits become the float's high half), NaN and infinity payloads included.
TEST(MlaAvx512Emulated, Bf16ConversionIsExact) {
  const TileKernels portable = tile_kernels(CpuIsa::kPortable);
  std::mt19937_64 rng(77);
  for (std::int64_t n : {1, 15, 16, 17, 33, 100, 2048}) {
    std::vector<std::uint8_t> src(static_cast<size_t>(2 * n));
    for (auto& b : src) b = static_cast<std::uint8_t>(rng());
    src[0] = 0x80, src[1] = 0x7F;  // +inf, then a NaN payload where there is room
    if (n > 1) src[2] = 0xC1, src[3] = 0x7F;
    std::vector<float> got(static_cast<size_t>(n) + 1, 5.0f), want(got.size(), 5.0f);
    avx512::bf16_to_float(src.data(), n, got.data());
    portable.bf16_to_float(src.data(), n, want.data());
    for (size_t i = 0; i < got.size(); ++i) {
      std::uint32_t a, b;
      std::memcpy(&a, &got[i], 4);
      std::memcpy(&b, &want[i], 4);
      ASSERT_EQ(a, b) << "n " << n << ", element " << i;
    }
  }
}

// The pair-split layout by hand: in each block of 32, element 2i goes to i and 2i + 1 to 16 + i.
TEST(MlaAvx512Emulated, PairSplitPutsEvenThenOddElements) {
  std::vector<float> x(64), split(64), back(64);
  for (int i = 0; i < 64; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i);
  to_pair_split(x.data(), 64, split.data());
  EXPECT_EQ(split[0], 0.0f);
  EXPECT_EQ(split[1], 2.0f);
  EXPECT_EQ(split[15], 30.0f);
  EXPECT_EQ(split[16], 1.0f);
  EXPECT_EQ(split[31], 31.0f);
  EXPECT_EQ(split[32], 32.0f);
  EXPECT_EQ(split[48], 33.0f);
  EXPECT_EQ(split[63], 63.0f);
  from_pair_split(split.data(), 64, back.data());
  EXPECT_EQ(back, x);
}

using ScoresBf16Fn = void (*)(const float*, std::int64_t, std::int64_t, const std::uint8_t*,
                              std::int64_t, std::int64_t, float*, PrefetchRange);
using AccumulateBf16Fn = void (*)(const float*, std::int64_t, const std::uint8_t*, std::int64_t,
                                  std::int64_t, std::int64_t, const float*, float*, PrefetchRange);

// n x ld BF16 values (uniform in [-1, 1), truncated to BF16) and their floats.
struct Bf16Rows {
  std::vector<std::uint8_t> bits;
  std::vector<float> values;
};

Bf16Rows bf16_rows(std::int64_t count, std::mt19937_64& rng) {
  Bf16Rows b{std::vector<std::uint8_t>(static_cast<size_t>(2 * count)), uniform(count, rng)};
  for (std::int64_t i = 0; i < count; ++i) {
    std::uint32_t u;
    std::memcpy(&u, &b.values[static_cast<size_t>(i)], 4);
    u &= 0xFFFF0000u;
    std::memcpy(&b.values[static_cast<size_t>(i)], &u, 4);
    const std::uint16_t hi = static_cast<std::uint16_t>(u >> 16);
    std::memcpy(&b.bits[static_cast<size_t>(2 * i)], &hi, 2);
  }
  return b;
}

// Scores straight from BF16 key rows (GQA, MHA) on rows 1-13 and 31 (blocks of 4 and single rows),
// dq multiples of 32 (the kernels' contract), 1 to 64 tokens (kTokenCounts): within the FP32
// summation bound of FP64 over the keys' values, nothing written past n or past the last row,
// and a prefetch range changes no value. K's rows past n are not allocated.
void expect_bf16_scores(ScoresBf16Fn fn, const char* what) {
  std::uint64_t seed = 900;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t dq : {32, 64, 128, 576})
      for (std::int64_t n : kTokenCounts) {
        std::mt19937_64 rng(seed++);
        const std::int64_t ldk = dq + 32;
        const std::vector<float> q = uniform(rows * dq, rng);
        const Bf16Rows k = bf16_rows(n * ldk, rng);
        std::vector<float> q_split(q.size());
        for (std::int64_t r = 0; r < rows; ++r)
          to_pair_split(q.data() + r * dq, dq, q_split.data() + r * dq);
        std::vector<float> s(static_cast<size_t>((rows + 1) * kChunk),
                             std::numeric_limits<float>::quiet_NaN());
        std::vector<float> again = s;
        fn(q_split.data(), rows, dq, k.bits.data(), ldk, n, s.data(), {});
        fn(q_split.data(), rows, dq, k.bits.data(), ldk, n, again.data(),
           {k.bits.data(), static_cast<std::int64_t>(k.bits.size())});
        for (std::int64_t r = 0; r <= rows; ++r)
          for (std::int64_t t = 0; t < kChunk; ++t) {
            const size_t i = static_cast<size_t>(r * kChunk + t);
            if (r == rows || t >= n) {
              ASSERT_TRUE(std::isnan(s[i]) && std::isnan(again[i]))
                  << what << ": wrote outside the tile at row " << r << ", column " << t;
              continue;
            }
            ASSERT_EQ(s[i], again[i]) << what << ": a prefetch changed a score";
            double exact = 0, magnitude = 0;
            for (std::int64_t d = 0; d < dq; ++d) {
              const double p = static_cast<double>(q[static_cast<size_t>(r * dq + d)]) *
                               k.values[static_cast<size_t>(t * ldk + d)];
              exact += p;
              magnitude += std::fabs(p);
            }
            ASSERT_LE(std::fabs(s[i] - exact), sum_bound(dq) * magnitude)
                << what << ": rows " << rows << ", dq " << dq << ", n " << n << ", row " << r
                << ", token " << t;
          }
      }
}

// P V straight from BF16 value rows into a pair-split o: back in the usual layout, within the
// FP32 summation bound of FP64 (alpha o + sum p v), the row past the tile untouched, and a
// prefetch range changes nothing.
void expect_bf16_accumulate(AccumulateBf16Fn fn, const char* what) {
  std::uint64_t seed = 1900;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t n : kTokenCounts)
      for (std::int64_t dv : {32, 64, 128, 512}) {
        std::mt19937_64 rng(seed++);
        const std::int64_t ldv = dv + 32;
        const Bf16Rows v = bf16_rows(n * ldv, rng);
        std::vector<float> p = uniform(rows * kChunk, rng), alpha = uniform(rows, rng);
        for (float& x : p) x = std::fabs(x);
        for (float& a : alpha) a = std::fabs(a);
        const std::vector<float> o0 = uniform((rows + 1) * dv, rng);
        std::vector<float> o_split(o0.size());
        for (std::int64_t r = 0; r <= rows; ++r)
          to_pair_split(o0.data() + r * dv, dv, o_split.data() + r * dv);
        std::vector<float> again = o_split;
        fn(p.data(), rows, v.bits.data(), ldv, n, dv, alpha.data(), o_split.data(), {});
        fn(p.data(), rows, v.bits.data(), ldv, n, dv, alpha.data(), again.data(),
           {v.bits.data(), static_cast<std::int64_t>(v.bits.size())});
        ASSERT_EQ(o_split, again) << what << ": a prefetch changed P V";
        std::vector<float> o(o0.size());
        for (std::int64_t r = 0; r <= rows; ++r)
          from_pair_split(o_split.data() + r * dv, dv, o.data() + r * dv);
        for (std::int64_t j = 0; j < dv; ++j)
          ASSERT_EQ(o[static_cast<size_t>(rows * dv + j)], o0[static_cast<size_t>(rows * dv + j)])
              << what << ": wrote past the last row";
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t j = 0; j < dv; ++j) {
            double exact = static_cast<double>(alpha[static_cast<size_t>(r)]) *
                           o0[static_cast<size_t>(r * dv + j)];
            double magnitude = std::fabs(exact);
            for (std::int64_t t = 0; t < n; ++t) {
              const double pv = static_cast<double>(p[static_cast<size_t>(r * kChunk + t)]) *
                                v.values[static_cast<size_t>(t * ldv + j)];
              exact += pv;
              magnitude += std::fabs(pv);
            }
            ASSERT_LE(std::fabs(o[static_cast<size_t>(r * dv + j)] - exact),
                      sum_bound(n + 1) * magnitude)
                << what << ": rows " << rows << ", n " << n << ", dv " << dv << ", row " << r
                << ", column " << j;
          }
      }
}

TEST(MlaAvx512Emulated, Bf16ScoresMeetFp64OnRaggedShapes) {
  expect_bf16_scores(avx512::scores_bf16, "emulated AVX-512");
}

TEST(MlaAvx512Emulated, Bf16AccumulateMeetsFp64OnRaggedShapes) {
  expect_bf16_accumulate(avx512::accumulate_bf16, "emulated AVX-512");
}

TEST(MlaAvx512Emulated, AccumulateMeetsFp64OnRaggedShapes) {
  const TileKernels portable = tile_kernels(CpuIsa::kPortable);
  std::uint64_t seed = 1000;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t n : kTokenCounts)
      for (std::int64_t dv : kValueDims) {
        const AccumulateCase c = accumulate_case(rows, n, dv, seed++);
        const std::vector<float> o = run_accumulate(avx512::accumulate, c);
        ASSERT_EQ(run_accumulate(avx512::accumulate, c, true), o) << "a prefetch changed P V";
        expect_accumulate_valid(c, o, "emulated AVX-512");
        const std::vector<float> ref = run_accumulate(portable.accumulate, c);
        expect_accumulate_valid(c, ref, "portable");
#if !defined(__FMA__)
        for (size_t i = 0; i < o.size(); ++i)
          ASSERT_EQ(o[i], ref[i]) << "rows " << rows << ", n " << n << ", dv " << dv << ", at "
                                  << i;
#endif
        if (HasFatalFailure()) return;
      }
}

// Flash attention over 65 tokens (a full chunk, then one token) with the emulated kernels (scores,
// softmax, P V), against FP64 attention: MLA's shapes (576-dim keys, values their
// first 512 dims) and mla_decode_test's FP32 kernel bound (1e-5 of the largest |out|; lse 1e-5).
// GQA's path end to end over 65 tokens (a full chunk, then one token) of 128-dim BF16 keys and
// values: start_bf16_rows, attend_chunk_bf16_rows and finish, once with the emulated AVX-512
// kernels that read the rows directly (query and output pair-split) and once with the portable
// table (rows converted 16 tokens at a time), both against FP64 attention within the FP32
// kernels' bound of TwoChunkAttentionMatchesFp64 (1e-5 of the largest |out|; lse 1e-5).
TEST(MlaAvx512Emulated, Bf16RowsTwoChunksMatchFp64) {
  constexpr std::int64_t kD = 128, kTokens = 65;
  const float scale = 1.0f / std::sqrt(static_cast<float>(kD));
  TileKernels direct = tile_kernels(CpuIsa::kPortable);
  direct.softmax = avx512::softmax;
  direct.scores_bf16 = avx512::scores_bf16;
  direct.accumulate_bf16 = avx512::accumulate_bf16;
  const TileKernels converted = tile_kernels(CpuIsa::kPortable);
  ASSERT_EQ(converted.scores_bf16, nullptr);
  std::mt19937_64 rng(17);
  const Bf16Rows k = bf16_rows(kTokens * kD, rng), v = bf16_rows(kTokens * kD, rng);
  for (std::int64_t rows : {1, 4, 8, 13}) {
    const std::vector<float> q = uniform(rows * kD, rng);
    for (const TileKernels* kern : std::vector<const TileKernels*>{&direct, &converted}) {
      const char* what = kern == &direct ? "direct" : "converted";
      Partial part;
      start_bf16_rows(*kern, q.data(), rows, kD, part);
      ASSERT_EQ(part.pair_split, kern == &direct) << what;
      std::vector<float> scratch(static_cast<size_t>(kBf16Piece * kD));
      for (std::int64_t t0 = 0; t0 < kTokens; t0 += kChunk)
        attend_chunk_bf16_rows(*kern, k.bits.data() + 2 * t0 * kD, v.bits.data() + 2 * t0 * kD,
                               std::min(kChunk, kTokens - t0), scale, part, scratch.data());
      std::vector<float> out(static_cast<size_t>(rows * kD)), lse(static_cast<size_t>(rows));
      finish(part, out.data(), lse.data());
      for (std::int64_t r = 0; r < rows; ++r) {
        std::vector<double> w(kTokens);
        double top = -INFINITY, sum = 0, largest = 0;
        for (std::int64_t t = 0; t < kTokens; ++t) {
          double dot = 0;
          for (std::int64_t d = 0; d < kD; ++d)
            dot += static_cast<double>(q[static_cast<size_t>(r * kD + d)]) *
                   k.values[static_cast<size_t>(t * kD + d)];
          w[static_cast<size_t>(t)] = dot * static_cast<double>(scale);
          top = std::max(top, w[static_cast<size_t>(t)]);
        }
        for (double& x : w) sum += (x = std::exp(x - top));
        std::vector<double> exact(kD, 0.0);
        for (std::int64_t j = 0; j < kD; ++j) {
          for (std::int64_t t = 0; t < kTokens; ++t)
            exact[static_cast<size_t>(j)] +=
                w[static_cast<size_t>(t)] * v.values[static_cast<size_t>(t * kD + j)] / sum;
          largest = std::max(largest, std::fabs(exact[static_cast<size_t>(j)]));
        }
        for (std::int64_t j = 0; j < kD; ++j)
          ASSERT_LE(std::fabs(out[static_cast<size_t>(r * kD + j)] - exact[static_cast<size_t>(j)]),
                    1e-5 * largest)
              << what << ": rows " << rows << ", row " << r << ", column " << j;
        EXPECT_NEAR(lse[static_cast<size_t>(r)], top + std::log(sum), 1e-5) << what;
      }
    }
  }
}

TEST(MlaAvx512Emulated, TwoChunkAttentionMatchesFp64) {
  constexpr std::int64_t kDq = 576, kDv = 512, kTokens = 65;
  const float scale = 1.0f / std::sqrt(192.0f);
  TileKernels kern = tile_kernels(CpuIsa::kPortable);
  kern.scores = avx512::scores;
  kern.accumulate = avx512::accumulate;
  kern.softmax = avx512::softmax;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> kv(static_cast<size_t>(kTokens * kDq));
  for (float& x : kv) x = normal(rng);
  for (std::int64_t rows : {1, 6, 12, 13, 25}) {
    std::vector<float> q(static_cast<size_t>(rows * kDq));
    for (float& x : q) x = normal(rng);
    Partial part;
    part.reset(rows, kDv);
    std::vector<float> kt(static_cast<size_t>(kDq * kChunk));
    for (std::int64_t t0 = 0; t0 < kTokens; t0 += kChunk) {
      const std::int64_t n = std::min(kChunk, kTokens - t0);
      std::fill(kt.begin(), kt.end(), 0.0f);
      for (std::int64_t t = 0; t < n; ++t)
        for (std::int64_t d = 0; d < kDq; ++d)
          kt[static_cast<size_t>(d * kChunk + t)] = kv[static_cast<size_t>((t0 + t) * kDq + d)];
      attend_chunk(kern, q.data(), kDq, kt.data(), kv.data() + t0 * kDq, kDq, n, scale, part);
    }
    std::vector<float> out(static_cast<size_t>(rows * kDv)), lse(static_cast<size_t>(rows));
    finish(part, out.data(), lse.data());

    for (std::int64_t r = 0; r < rows; ++r) {
      std::vector<double> s(kTokens);
      double top = -INFINITY;
      for (std::int64_t t = 0; t < kTokens; ++t) {
        double dot = 0;
        for (std::int64_t d = 0; d < kDq; ++d)
          dot += static_cast<double>(q[static_cast<size_t>(r * kDq + d)]) *
                 kv[static_cast<size_t>(t * kDq + d)];
        s[static_cast<size_t>(t)] = dot * static_cast<double>(scale);
        top = std::max(top, s[static_cast<size_t>(t)]);
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - top));
      std::vector<double> exact(kDv, 0.0);
      double largest = 0;
      for (std::int64_t j = 0; j < kDv; ++j) {
        for (std::int64_t t = 0; t < kTokens; ++t)
          exact[static_cast<size_t>(j)] +=
              s[static_cast<size_t>(t)] * kv[static_cast<size_t>(t * kDq + j)] / sum;
        largest = std::max(largest, std::fabs(exact[static_cast<size_t>(j)]));
      }
      double worst = 0;
      for (std::int64_t j = 0; j < kDv; ++j)
        worst = std::max(worst, std::fabs(out[static_cast<size_t>(r * kDv + j)] -
                                          exact[static_cast<size_t>(j)]) /
                                    largest);
      if (r == 0)
        std::printf("rows %lld: out error %.3g of the largest |out|\n",
                    static_cast<long long>(rows), worst);
      for (std::int64_t j = 0; j < kDv; ++j)
        ASSERT_LE(std::fabs(out[static_cast<size_t>(r * kDv + j)] - exact[static_cast<size_t>(j)]),
                  1e-5 * largest)
            << "rows " << rows << ", row " << r << ", column " << j;
      EXPECT_NEAR(lse[static_cast<size_t>(r)], top + std::log(sum), 1e-5) << "rows " << rows;
    }
  }
}

using SoftmaxFn = void (*)(float*, std::int64_t, std::int64_t, float, float*, float*, float*);

// The online-softmax update against FP64: rows past one 16-row group, n across the 16-lane
// vectors, the first chunk (m = -inf) and later ones (m above or below the new scores); m' exact
// (the max of the FP32 products, as defined), alpha, exp and l within 2e-6 relative (the vector
// exponential's 2e-7 plus the rounding of its argument); columns past n hold 1e4, which would
// win the max were they read as scores, and must keep it; a NaN score makes l NaN.
void expect_softmax(SoftmaxFn fn, const char* what) {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const float scale = 1.0f / std::sqrt(192.0f);
  for (std::int64_t rows : {1, 5, 16, 17, 33, 128})
    for (std::int64_t n : {1, 15, 16, 17, 33, 63, 64})
      for (int chunk = 0; chunk < 2; ++chunk) {
        std::vector<float> s(static_cast<size_t>(rows * kChunk), 1e4f);
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t t = 0; t < n; ++t) s[static_cast<size_t>(r * kChunk + t)] = normal(rng);
        std::vector<float> m(static_cast<size_t>(rows)), l(m.size()), alpha(m.size(), -1.0f);
        for (std::int64_t r = 0; r < rows; ++r) {
          m[static_cast<size_t>(r)] = chunk == 0 ? -INFINITY : normal(rng) * scale + 0.5f;
          l[static_cast<size_t>(r)] = chunk == 0 ? 0.0f : std::fabs(normal(rng)) + 1.0f;
        }
        const std::vector<float> s0 = s, m0 = m, l0 = l;
        fn(s.data(), rows, n, scale, m.data(), l.data(), alpha.data());
        for (std::int64_t r = 0; r < rows; ++r) {
          const size_t ri = static_cast<size_t>(r);
          float top = m0[ri];
          for (std::int64_t t = 0; t < n; ++t)
            top = std::max(top, s0[static_cast<size_t>(r * kChunk + t)] * scale);
          ASSERT_EQ(m[ri], top) << what << ": rows " << rows << ", n " << n << ", row " << r;
          const double a = std::exp(static_cast<double>(m0[ri]) - top);
          ASSERT_NEAR(alpha[ri] * static_cast<double>(l0[ri]), a * l0[ri],
                      2e-6 * a * l0[ri] + 1e-30)
              << what << ": alpha, rows " << rows << ", n " << n << ", row " << r;
          double sum = 0;
          for (std::int64_t t = 0; t < kChunk; ++t) {
            const size_t i = static_cast<size_t>(r * kChunk + t);
            if (t >= n) {
              ASSERT_EQ(s[i], 1e4f) << what << ": changed column " << t << " past n " << n;
              continue;
            }
            const double e = std::exp(static_cast<double>(s0[i]) * scale - top);
            sum += e;
            ASSERT_NEAR(s[i], e, 2e-6 * e)
                << what << ": rows " << rows << ", n " << n << ", t " << t;
          }
          const double lx = a * l0[ri] + sum;
          ASSERT_NEAR(l[ri], lx, 2e-6 * lx) << what << ": l, rows " << rows << ", n " << n;
        }
      }
  std::vector<float> s(static_cast<size_t>(3 * kChunk), 0.5f);
  s[static_cast<size_t>(kChunk + 3)] = std::nanf("");
  std::vector<float> m(3, -INFINITY), l(3, 0.0f), alpha(3);
  fn(s.data(), 3, kChunk, 1.0f, m.data(), l.data(), alpha.data());
  EXPECT_FALSE(std::isnan(l[0])) << what;
  EXPECT_TRUE(std::isnan(l[1])) << what << ": a NaN score must make l NaN";
  EXPECT_FALSE(std::isnan(l[2])) << what;
}

TEST(MlaAvx512Emulated, SoftmaxMeetsFp64) {
  expect_softmax(avx512::softmax, "emulated AVX-512");
  expect_softmax(tile_kernels(CpuIsa::kPortable).softmax, "portable");
}

// rows [64, ldr] with distinct values (row t, column d holds t * 1000 + d, exact in FP32) and a
// NaN past dq in every row; kt [dq + 16, 64] starts NaN. The transpose must put row t, column d
// at kt[d * 64 + t] and write nothing past dq rows of kt.
void expect_transposes(void (*fn)(const float*, std::int64_t, std::int64_t, float*),
                       const char* what) {
  for (std::int64_t dq : {16, 32, 576}) {
    const std::int64_t ldr = dq + 16;
    std::vector<float> rows(static_cast<size_t>(kChunk * ldr), std::nanf(""));
    for (std::int64_t t = 0; t < kChunk; ++t)
      for (std::int64_t d = 0; d < dq; ++d)
        rows[static_cast<size_t>(t * ldr + d)] = static_cast<float>(t * 1000 + d);
    std::vector<float> kt(static_cast<size_t>((dq + 16) * kChunk), std::nanf(""));
    fn(rows.data(), ldr, dq, kt.data());
    for (std::int64_t d = 0; d < dq + 16; ++d)
      for (std::int64_t t = 0; t < kChunk; ++t) {
        const float got = kt[static_cast<size_t>(d * kChunk + t)];
        if (d >= dq)
          ASSERT_TRUE(std::isnan(got)) << what << ": wrote past dq " << dq << " at " << d;
        else
          ASSERT_EQ(got, static_cast<float>(t * 1000 + d))
              << what << ": dq " << dq << ", d " << d << ", t " << t;
      }
  }
}

TEST(MlaAvx512Emulated, TransposePutsEveryElementInPlace) {
  expect_transposes(avx512::transpose, "emulated AVX-512");
  expect_transposes(transpose_portable, "portable");
}

TEST(MlaAvx512Native, MatchesFmaOrderAndFp64OnRaggedShapes) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "this CPU has no AVX-512F: the native kernels cannot run here (their source "
                    "is checked through SIMDe by MlaAvx512Emulated)";
  ASSERT_TRUE(cpu_isa_supported(CpuIsa::kAvx512));
  const TileKernels native = tile_kernels(CpuIsa::kAvx512);
  ASSERT_EQ(native.scores, &scores_avx512_native);
  ASSERT_EQ(native.accumulate, &accumulate_avx512_native);
  ASSERT_EQ(native.transpose, &transpose_avx512_native);
  ASSERT_EQ(native.softmax, &softmax_avx512_native);
  expect_softmax(softmax_avx512_native, "native AVX-512");
  expect_transposes(transpose_avx512_native, "native AVX-512");
  std::uint64_t seed = 5000;
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t dq : kInnerLengths)
      for (std::int64_t n : kTokenCounts) {
        const ScoresCase c = scores_case(rows, dq, n, seed++);
        const std::vector<float> s = run_scores(scores_avx512_native, c);
        expect_scores_valid(c, s, "native AVX-512");
        const std::vector<float> fma = scores_fma_order(c);
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t t = 0; t < n; ++t)
            ASSERT_EQ(s[static_cast<size_t>(r * kChunk + t)],
                      fma[static_cast<size_t>(r * kChunk + t)])
                << "scores: rows " << rows << ", dq " << dq << ", n " << n;
      }
  for (std::int64_t rows : kRowCounts)
    for (std::int64_t n : kTokenCounts)
      for (std::int64_t dv : kValueDims) {
        const AccumulateCase c = accumulate_case(rows, n, dv, seed++);
        const std::vector<float> o = run_accumulate(accumulate_avx512_native, c);
        ASSERT_EQ(run_accumulate(accumulate_avx512_native, c, true), o) << "a prefetch changed P V";
        expect_accumulate_valid(c, o, "native AVX-512");
        ASSERT_EQ(o, accumulate_fma_order(c))
            << "P V: rows " << rows << ", n " << n << ", dv " << dv;
      }
  ASSERT_EQ(native.scores_bf16, &scores_bf16_avx512_native);
  ASSERT_EQ(native.accumulate_bf16, &accumulate_bf16_avx512_native);
  expect_bf16_scores(scores_bf16_avx512_native, "native AVX-512");
  if (HasFatalFailure()) return;
  expect_bf16_accumulate(accumulate_bf16_avx512_native, "native AVX-512");
#else
  GTEST_SKIP() << "not an x86-64 build: there are no native AVX-512 kernels";
#endif
}

}  // namespace
