// SPDX-License-Identifier: Apache-2.0
// The EP routing's vector hashing (collectives/ep/ep_hash.h) against the scalar mix() it must
// equal bit for bit, on every path this binary and CPU support.
#include "collectives/ep/ep_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "collectives/pattern.h"
#include "core/error.h"

namespace cobench::coll::ep {
namespace {

class EpHashPath : public testing::TestWithParam<HashPath> {
 protected:
  void SetUp() override {
    if (!hash_path_supported(GetParam()))
      GTEST_SKIP() << "this CPU (or this binary's architecture) has no "
                   << hash_path_name(GetParam()) << "; the path is never chosen here";
  }
};

// splitmix64's first output from state 0 (Steele, Lea and Flood 2014; the reference generator's
// well-known value) is mix(0, 0, 0): the state advances by the constant, then the finalizer.
TEST(EpHash, MixIsTheSplitmix64Finalizer) { EXPECT_EQ(mix(0, 0, 0), 0xe220a8397b1dcdafULL); }

TEST_P(EpHashPath, MixRangeEqualsScalarMix) {
  std::mt19937_64 random(20);
  std::vector<std::uint64_t> got(64);
  std::uint64_t zero = 0;
  mix_range(GetParam(), 0, 0, 0, 1, &zero);
  EXPECT_EQ(zero, 0xe220a8397b1dcdafULL);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::uint64_t seed = random(), b = trial % 3 == 0 ? kKeySalt : random();
    // Small firsts (expert ids), and ones whose products wrap and whose run crosses 2^64.
    const std::uint64_t first = trial % 4 == 0   ? static_cast<std::uint64_t>(trial)
                                : trial % 4 == 1 ? 0 - 7
                                                 : random();
    const int count = trial % 41;  // every tail length after whole vectors of 4 and 8
    std::fill(got.begin(), got.end(), 0);
    mix_range(GetParam(), seed, first, b, count, got.data());
    for (int i = 0; i < count; ++i)
      ASSERT_EQ(got[static_cast<std::size_t>(i)],
                mix(seed, first + static_cast<std::uint64_t>(i), b))
          << "trial " << trial << ", i " << i;
    for (std::size_t i = static_cast<std::size_t>(count); i < got.size(); ++i)
      ASSERT_EQ(got[i], 0u) << "wrote past count " << count;
  }
}

// Pieces of ranges of every length from 1 to 40 and a few long ones: each range cut into pieces
// of at most max_piece experts, in order, and each piece's two best key bits those of sorting
// its keys (computed with mix) by hand.
TEST_P(EpHashPath, PieceTopTwoIsThatOfSortedKeys) {
  std::vector<int> bounds{0};
  for (int len = 1; len <= 40; ++len) bounds.push_back(bounds.back() + len);
  for (int len : {64, 100, 3}) bounds.push_back(bounds.back() + len);
  for (int i = 0; i < 16; ++i) bounds.push_back(bounds.back() + 8);  // blocks of equal lanes
  for (int max_piece : {1, 8, 16}) {
    std::vector<int> piece_range;
    const PieceTable t = PieceTable::from_bounds(bounds, max_piece, &piece_range);
    ASSERT_EQ(piece_range.size(), static_cast<std::size_t>(t.pieces));
    // The pieces, lane by lane, tile the ranges in order.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> pieces;  // first, len
    for (int p = 0; p < t.pieces; ++p) {
      const PieceTable::Block& k = t.blocks[static_cast<std::size_t>(p / PieceTable::kLanes)];
      const int lane = p % PieceTable::kLanes;
      pieces.emplace_back(k.first[lane], k.len[lane]);
      EXPECT_EQ(k.first_times_c1[lane], k.first[lane] * 0x9e3779b97f4a7c15ULL);
      EXPECT_GE(k.len[lane], 1u);
      EXPECT_LE(k.len[lane], static_cast<std::uint64_t>(max_piece));
      EXPECT_GE(static_cast<std::uint64_t>(k.max_len), k.len[lane]);
      const int r = piece_range[static_cast<std::size_t>(p)];
      EXPECT_GE(k.first[lane], static_cast<std::uint64_t>(bounds[static_cast<std::size_t>(r)]));
      EXPECT_LE(k.first[lane] + k.len[lane],
                static_cast<std::uint64_t>(bounds[static_cast<std::size_t>(r) + 1]));
      if (p > 0) {
        EXPECT_EQ(pieces[p - 1].first + pieces[p - 1].second, k.first[lane]);
      }
    }
    EXPECT_EQ(pieces.back().first + pieces.back().second,
              static_cast<std::uint64_t>(bounds.back()));
    int full = 0;
    for (const PieceTable::Block& k : t.blocks) {
      bool equal = true;
      for (int lane = 0; lane < PieceTable::kLanes; ++lane)
        equal = equal && k.len[lane] == static_cast<std::uint64_t>(k.max_len);
      EXPECT_EQ(k.full, equal);
      full += k.full ? 1 : 0;
    }
    EXPECT_GT(full, 0) << "no block without masked lanes for max_piece " << max_piece;
    for (int p = t.pieces; p < static_cast<int>(t.blocks.size()) * PieceTable::kLanes; ++p)
      EXPECT_EQ(t.blocks.back().len[p % PieceTable::kLanes], 0u) << "padding lane " << p;
    std::mt19937_64 random(static_cast<std::uint64_t>(max_piece));
    const std::size_t lanes = t.blocks.size() * PieceTable::kLanes;
    for (int trial = 0; trial < 20; ++trial) {
      const std::uint64_t base = random();
      std::vector<std::uint64_t> a(lanes, 7), b(lanes, 7);
      piece_top2(GetParam(), base, t, a.data(), b.data());
      for (int p = 0; p < t.pieces; ++p) {
        std::vector<std::uint64_t> keys;
        for (std::uint64_t e = pieces[p].first; e < pieces[p].first + pieces[p].second; ++e)
          keys.push_back((mix(base, e, kKeySalt) >> 11) + 1);
        std::sort(keys.begin(), keys.end(), std::greater<>());
        ASSERT_EQ(a[static_cast<std::size_t>(p)], keys[0]) << "piece " << p;
        ASSERT_EQ(b[static_cast<std::size_t>(p)], keys.size() > 1 ? keys[1] : 0u) << "piece " << p;
      }
      for (std::size_t p = static_cast<std::size_t>(t.pieces); p < lanes; ++p)
        ASSERT_EQ(a[p] + b[p], 0u) << "padding lane " << p;
      // With scores: the same bits, and each piece's key_pair_score, bit for bit.
      std::vector<std::uint64_t> a2(lanes), b2(lanes);
      std::vector<double> score(lanes, -1.0);
      piece_top2(GetParam(), base, t, a2.data(), b2.data(), score.data());
      ASSERT_EQ(a2, a);
      ASSERT_EQ(b2, b);
      for (std::size_t p = 0; p < lanes; ++p)
        ASSERT_EQ(std::bit_cast<std::uint64_t>(score[p]),
                  std::bit_cast<std::uint64_t>(key_pair_score(a[p], b[p])))
            << "piece " << p;
    }
  }
}

// The two best of pairs (a >= b) merged over runs of every length from 0 to 40, against sorting
// all the values by hand; equal values (a multiset: the two best may be equal) included.
TEST_P(EpHashPath, RangeTopTwoIsThatOfSortedPairs) {
  std::mt19937_64 random(7);
  for (int count = 0; count <= 40; ++count)
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::uint64_t> a(static_cast<std::size_t>(count)), b(a.size()), all;
      for (std::size_t i = 0; i < a.size(); ++i) {
        // Small values on odd trials, so that ties are common.
        std::uint64_t x = trial % 2 ? random() % 5 : random() >> 10,
                      y = trial % 2 ? random() % 5 : random() >> 10;
        if (x < y) std::swap(x, y);
        a[i] = x;
        b[i] = y;
        all.push_back(x);
        all.push_back(y);
      }
      std::sort(all.begin(), all.end(), std::greater<>());
      std::uint64_t got_a = 9, got_b = 9;
      range_top2(GetParam(), a.data(), b.data(), count, got_a, got_b);
      ASSERT_EQ(got_a, count > 0 ? all[0] : 0u) << "count " << count << ", trial " << trial;
      ASSERT_EQ(got_b, count > 0 ? all[1] : 0u) << "count " << count << ", trial " << trial;
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, EpHashPath,
                         testing::Values(HashPath::kScalar, HashPath::kAvx2, HashPath::kAvx512),
                         [](const testing::TestParamInfo<HashPath>& path) {
                           return std::string(hash_path_name(path.param));
                         });

// key_pair_score by hand: u(x) = (x - 1 + 0.5) / 2^53 in doubles (the uniform key of the hash's
// top 53 bits, x - 1). u(1) = 2^-54; u(2^51 + 1) = (2^51 + 0.5) / 2^53 = 1/4 + 2^-54, exact (the
// doubles from 2^51 to 2^52 are 0.5 apart); from 2^52 on they are 1 apart, so 2^52 + 0.5 rounds
// to the even 2^52 and u(2^52 + 1) = 1/2, and 2^53 - 0.5 to 2^53, so u(2^53) = 1.
TEST(EpHash, KeyPairScoreIsTheProductOfTheTwoUniformKeys) {
  const double tiny = std::ldexp(1.0, -54);
  EXPECT_EQ(key_pair_score(0, 0), 0.0);  // masked
  EXPECT_EQ(key_pair_score(0, 5), 0.0);
  EXPECT_EQ(key_pair_score(1, 0), tiny);  // one key: its u alone
  EXPECT_EQ(key_pair_score((1ULL << 51) + 1, 0), 0.25 + tiny);
  EXPECT_EQ(key_pair_score((1ULL << 51) + 1, 1), (0.25 + tiny) * tiny);
  EXPECT_EQ(key_pair_score((1ULL << 52) + 1, (1ULL << 51) + 1), 0.5 * (0.25 + tiny));
  EXPECT_EQ(key_pair_score(1ULL << 53, 1ULL << 53), 1.0);
}

TEST(EpHash, TheWidestSupportedPathIsChosenAndAnUnsupportedOneRefused) {
  const HashPath active = active_hash_path();  // the other tests leave it as they found it
  EXPECT_EQ(active, hash_path_supported(HashPath::kAvx512) ? HashPath::kAvx512
                    : hash_path_supported(HashPath::kAvx2) ? HashPath::kAvx2
                                                           : HashPath::kScalar);
  EXPECT_TRUE(hash_path_supported(HashPath::kScalar));
  for (HashPath p : {HashPath::kAvx2, HashPath::kAvx512})
    if (!hash_path_supported(p)) {
      EXPECT_THROW(force_hash_path(p), Error) << hash_path_name(p);
    }
  for (HashPath p : {HashPath::kScalar, HashPath::kAvx2, HashPath::kAvx512})
    EXPECT_EQ(hash_path_from_name(hash_path_name(p), "x"), p);
  try {
    hash_path_from_name("avx1024", "COBENCH_EP_HASH");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "COBENCH_EP_HASH: 'avx1024' is no hash path; expected scalar, avx2 or avx512");
  }
  force_hash_path(HashPath::kScalar);
  EXPECT_EQ(active_hash_path(), HashPath::kScalar);
  force_hash_path(active);
  EXPECT_EQ(active_hash_path(), active);
}

}  // namespace
}  // namespace cobench::coll::ep
