// SPDX-License-Identifier: Apache-2.0
// Node grouping, the verification pattern's expected results (worked by hand for small cases)
// and the watchdog, without MPI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "collectives/node_layout.h"
#include "collectives/pattern.h"
#include "collectives/watchdog.h"
#include "tests/test_util.h"

namespace cobench::coll {
namespace {

TEST(NodeLayout, GroupsRanksByHostInOrderOfTheirLowestRank) {
  const std::vector<std::string> hosts{"b", "a", "b", "a", "c"};
  const NodeLayout l = layout_from_hosts(hosts, 3);
  EXPECT_EQ(l.node_of_rank, (std::vector<int>{0, 1, 0, 1, 2}));
  EXPECT_EQ(l.local_rank_of_rank, (std::vector<int>{0, 0, 1, 1, 0}));
  EXPECT_EQ(l.ranks_per_node, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(l.num_nodes, 3);
  EXPECT_EQ(l.node, 1);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_FALSE(l.uniform());
  EXPECT_FALSE(l.virtual_nodes);
}

TEST(NodeLayout, VirtualNodesOfConsecutiveRanks) {
  const NodeLayout l = layout_virtual(8, 4, 5);
  EXPECT_EQ(l.num_nodes, 2);
  EXPECT_EQ(l.node, 1);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_TRUE(l.uniform());
  EXPECT_TRUE(l.virtual_nodes);
  EXPECT_NE(test::error_of([] { layout_virtual(6, 4, 0); }).find("must divide the 6 ranks"),
            std::string::npos);
}

TEST(Pattern, SmallIntegersDeterministicPerSeedRankIndex) {
  int seen_min = 0, seen_max = 0;
  for (int i = 0; i < 10000; ++i) {
    const int v = pattern_value(3, 1, static_cast<std::uint64_t>(i));
    seen_min = std::min(seen_min, v);
    seen_max = std::max(seen_max, v);
    EXPECT_EQ(v, pattern_value(3, 1, static_cast<std::uint64_t>(i)));
  }
  EXPECT_EQ(seen_min, -8);
  EXPECT_EQ(seen_max, 8);
  EXPECT_NE(pattern_value(3, 1, 0) * 1000 + pattern_value(3, 1, 1),
            pattern_value(3, 2, 0) * 1000 + pattern_value(3, 2, 1));
}

TEST(Pattern, ExpectedResultsWorkedByHand) {
  const std::uint64_t s = 9;
  auto v = [&](int r, std::uint64_t i) { return static_cast<double>(pattern_value(s, r, i)); };
  // all_reduce over 3 ranks, element 1.
  EXPECT_EQ(expected_result(Collective::kAllReduce, 2, s, 0, 3)[1], v(0, 1) + v(1, 1) + v(2, 1));
  // reduce_scatter, 2 ranks, 2 per rank: rank 1 gets elements 2 and 3 of every send buffer.
  const auto rs = expected_result(Collective::kReduceScatter, 2, s, 1, 2);
  EXPECT_EQ(rs, (std::vector<double>{v(0, 2) + v(1, 2), v(0, 3) + v(1, 3)}));
  // all_gather, 2 ranks, 1 each: [rank 0's element 0, rank 1's element 0].
  EXPECT_EQ(expected_result(Collective::kAllGather, 1, s, 1, 2),
            (std::vector<double>{v(0, 0), v(1, 0)}));
  // all_to_all, 2 ranks, 2 per peer: rank 1 receives block 1 of each sender.
  EXPECT_EQ(expected_result(Collective::kAllToAll, 2, s, 1, 2),
            (std::vector<double>{v(0, 2), v(0, 3), v(1, 2), v(1, 3)}));
  // send_recv ring of 3: rank 0 receives from rank 2.
  EXPECT_EQ(expected_result(Collective::kSendRecv, 1, s, 0, 3), (std::vector<double>{v(2, 0)}));
}

TEST(Pattern, CompareFindsTheFirstMismatch) {
  std::vector<float> got{1, 2, 3, 4};
  EXPECT_EQ(compare(got.data(), DataType::kFloat32, {1, 2, 3, 4}).wrong, 0);
  const Mismatch m = compare(got.data(), DataType::kFloat32, {1, 5, 3, 0});
  EXPECT_EQ(m.wrong, 2);
  EXPECT_EQ(m.first, 1);
  EXPECT_EQ(m.describe(), "2 elements differ; first at index 1: got 2, expected 5");
}

TEST(Watchdog, FiresOnlyForAnOperationThatRunsPastTheTimeout) {
  std::atomic<int> fired{0};
  std::string what;
  double waited = 0;
  std::mutex m;
  Watchdog w(0.2, [&](const std::string& op, double s) {
    std::lock_guard lock(m);
    what = op;
    waited = s;
    ++fired;
  });
  w.arm("quick");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.disarm();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(fired.load(), 0);
  w.arm("slow all_reduce");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  w.disarm();
  std::lock_guard lock(m);
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(what, "slow all_reduce");
  EXPECT_GE(waited, 0.2);
  EXPECT_LT(waited, 0.5);
}

}  // namespace
}  // namespace cobench::coll
