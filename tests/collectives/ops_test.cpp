// SPDX-License-Identifier: Apache-2.0
// The collective descriptors (collectives/ops/): what every registered collective must satisfy
// for the harness to drive it, and broadcast and reduce against values worked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "collectives/bandwidth.h"
#include "collectives/coll_bench.h"
#include "collectives/ops/collective_op.h"
#include "collectives/pattern.h"
#include "core/error.h"
#include "tests/test_util.h"

namespace cobench::coll {
namespace {

TEST(CollectiveOps, RegistryHoldsEveryCollectiveOnceInOrder) {
  std::vector<std::string> names;
  for (Collective c : kAllCollectives) names.emplace_back(collective_op(c).name);
  EXPECT_EQ(names, (std::vector<std::string>{"all_reduce", "all_gather", "reduce_scatter",
                                             "all_to_all", "send_recv", "broadcast", "reduce"}));
  EXPECT_EQ(&collective_op(Collective::kBroadcast), &kBroadcastOp);
  EXPECT_EQ(&collective_op(Collective::kReduce), &kReduceOp);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

// Every descriptor against the harness's assumptions, at rank counts and sizes that do and do not
// divide evenly.
TEST(CollectiveOps, EveryDescriptorFitsTheHarness) {
  for (Collective c : kAllCollectives) {
    const CollectiveOp& op = collective_op(c);
    SCOPED_TRACE(std::string(op.name));
    EXPECT_EQ(parse_collective(op.name), c);
    EXPECT_EQ(has_in_place(c), op.in_place != InPlace::kNone);
    for (int ranks : {1, 2, 3, 4, 8}) {
      EXPECT_GE(op.bus_factor(ranks), 0);
      EXPECT_LE(op.bus_factor(ranks), 2);
      for (std::size_t bytes : {0, 4, 12, 100, 4096, 65540}) {
        const CollectiveCounts k = collective_counts(c, bytes, 4, ranks);
        EXPECT_LE(k.bytes, bytes);
        EXPECT_EQ(k.bytes % 4, 0u);
        EXPECT_TRUE(k.bytes == k.send * 4 || k.bytes == k.recv * 4) << bytes << " B";
        EXPECT_LE(k.param, std::max(k.send, k.recv));
        for (int rank = 0; rank < ranks; ++rank)
          EXPECT_LE(op.expected(k.param, 1, rank, ranks).size(), k.recv);
        // In place, both pointers' extents lie inside the one buffer of max(send, recv).
        const std::size_t block = static_cast<std::size_t>(ranks - 1) * k.param;
        if (op.in_place == InPlace::kSendAtRank) {
          EXPECT_LE(block + k.send, std::max(k.send, k.recv));
        }
        if (op.in_place == InPlace::kRecvAtRank) {
          EXPECT_LE(block + k.recv, std::max(k.send, k.recv));
        }
      }
    }
  }
}

TEST(CollectiveOps, BroadcastAndReduceRunOnlyWhenNamed) {
  EXPECT_EQ(default_collectives(),
            (std::vector<Collective>{Collective::kAllReduce, Collective::kAllGather,
                                     Collective::kReduceScatter, Collective::kAllToAll,
                                     Collective::kSendRecv}));
  EXPECT_EQ(parse_collective("broadcast"), Collective::kBroadcast);
  EXPECT_EQ(parse_collective("reduce"), Collective::kReduce);
  EXPECT_NE(test::error_of([] { parse_collective("bcast"); })
                .find("unknown collective 'bcast': expected all_reduce, all_gather, "
                      "reduce_scatter, all_to_all, send_recv, broadcast or reduce"),
            std::string::npos);
}

TEST(CollectiveOps, BroadcastAndReduceCountsAndFactorsAsNcclTests) {
  for (Collective c : {Collective::kBroadcast, Collective::kReduce}) {
    // S = the buffer, whatever the rank count; 103 B of float32 is 25 elements, 100 B.
    const CollectiveCounts k = collective_counts(c, 103, 4, 3);
    EXPECT_EQ(k.send, 25u);
    EXPECT_EQ(k.recv, 25u);
    EXPECT_EQ(k.param, 25u);
    EXPECT_EQ(k.bytes, 100u);
    EXPECT_DOUBLE_EQ(bus_factor(c, 1), 1.0);
    EXPECT_DOUBLE_EQ(bus_factor(c, 8), 1.0);
    EXPECT_EQ(collective_op(c).in_place, InPlace::kSameBuffer);
    // 1 GiB in 10 ms: algbw = busbw = 107.374 GB/s.
    const auto bw = bus_bandwidth(c, 1u << 30, 0.01, 8);
    EXPECT_NEAR(bw.alg_bytes_per_s, 107.3741824e9, 1);
    EXPECT_NEAR(bw.bus_bytes_per_s, 107.3741824e9, 1);
  }
}

// Seed 9, 4 ranks, elements 0..2 of each rank's send buffer (pattern_value, worked outside C++):
//   rank 0:  2  8 -7     rank 2:  2 -8  3
//   rank 1: -1  8  7     rank 3: -4 -6  5      column sums: -1  2  8
TEST(CollectiveOps, BroadcastAndReduceOfThePatternWorkedByHand) {
  const std::vector<std::vector<int>> sent{{2, 8, -7}, {-1, 8, 7}, {2, -8, 3}, {-4, -6, 5}};
  for (int r = 0; r < 4; ++r)
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(pattern_value(9, r, i), sent[r][i]);
  // reduce to root 0: the root holds the column sums; the other ranks' buffers are not checked.
  EXPECT_EQ(expected_result(Collective::kReduce, 3, 9, 0, 4), (std::vector<double>{-1, 2, 8}));
  for (int rank = 1; rank < 4; ++rank)
    EXPECT_TRUE(expected_result(Collective::kReduce, 3, 9, rank, 4).empty()) << rank;
  // broadcast from root 0: every rank, the root included, holds rank 0's buffer.
  for (int rank = 0; rank < 4; ++rank)
    EXPECT_EQ(expected_result(Collective::kBroadcast, 3, 9, rank, 4),
              (std::vector<double>{2, 8, -7}))
        << rank;
  // One rank: reduce is the rank's own buffer.
  EXPECT_EQ(expected_result(Collective::kReduce, 3, 9, 0, 1), (std::vector<double>{2, 8, -7}));
}

}  // namespace
}  // namespace cobench::coll
