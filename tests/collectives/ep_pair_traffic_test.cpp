// SPDX-License-Identifier: Apache-2.0
// The EP traffic matrix (ep_pair_traffic.h): a four-rank routing file worked by hand for flat and
// hierarchical dispatch and combine, and on a DeepSeek-sized random routing every rank's row sums
// against the per-rank account (TrafficAccount, a second implementation).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "collectives/ep/ep_pair_traffic.h"
#include "collectives/ep/ep_record.h"
#include "collectives/node_layout.h"
#include "core/error.h"

namespace cobench::coll::ep {
namespace {

using Pairs = std::map<std::pair<int, int>, double>;

Pairs as_map(const std::vector<PairBytes>& v) {
  Pairs m;
  for (const PairBytes& p : v) m[{p.src, p.dst}] = p.bytes;
  return m;
}

TEST(EpPairTraffic, FourRanksByHand) {
  // 4 ranks in 2 nodes of 2, 8 experts (2 a rank), top-2, one token a rank:
  //   rank 0: experts 2, 6 (ranks 1 and 3)   rank 1: 0, 1 (rank 0)
  //   rank 2: 4, 7 (itself and rank 3)        rank 3: 0, 5 (ranks 0 and 2)
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     fmt::format("cobench-ep-pair-traffic-{}.routing", ::getpid());
  std::ofstream(file) << "2 6\n0 1\n4 7\n0 5\n";
  EpConfig c;
  c.tokens_per_rank = 1;
  c.hidden = 128;
  c.num_experts = 8;
  c.top_k = 2;
  c.num_groups = 1;
  c.topk_groups = 1;
  c.max_nodes = 0;
  c.routing = RoutingKind::kFile;
  c.routing_file = file.string();
  const NodeLayout l = layout_virtual(4, 2, 0);
  const double d = static_cast<double>(DispatchRecordLayout(c).bytes());
  const double b = static_cast<double>(CombineRecordLayout(c).bytes());
  // Flat: one record to each destination rank but itself.
  EXPECT_EQ(as_map(pair_traffic(c, l, false, true)),
            (Pairs{{{0, 1}, d}, {{0, 3}, d}, {{1, 0}, d}, {{2, 3}, d}, {{3, 0}, d}, {{3, 2}, d}}));
  EXPECT_EQ(as_map(pair_traffic(c, l, false, false)),
            (Pairs{{{1, 0}, b}, {{3, 0}, b}, {{0, 1}, b}, {{3, 2}, b}, {{0, 3}, b}, {{2, 3}, b}}));
  // Hierarchical (forwarder: the rank with the source's local index on the node):
  //   0 -> 1 on its node; 0 -> 2 (node 1's local 0), which forwards to 3;
  //   1 -> 0; 2 -> 3; 3 -> 1 (node 0's local 1), which forwards to 0; 3 -> 2.
  EXPECT_EQ(
      as_map(pair_traffic(c, l, true, true)),
      (Pairs{
          {{0, 1}, d}, {{0, 2}, d}, {{2, 3}, 2 * d}, {{1, 0}, 2 * d}, {{3, 1}, d}, {{3, 2}, d}}));
  EXPECT_EQ(
      as_map(pair_traffic(c, l, true, false)),
      (Pairs{
          {{1, 0}, b}, {{2, 0}, b}, {{3, 2}, 2 * b}, {{0, 1}, 2 * b}, {{1, 3}, b}, {{2, 3}, b}}));
  const std::string text = traffic_file_text(pair_traffic(c, l, false, true), "plan\nsecond");
  EXPECT_EQ(text.substr(0, 16), "# plan\n# second\n");
  EXPECT_NE(text.find(fmt::format("0 1 {:.0f}\n", d)), std::string::npos);
  std::filesystem::remove(file);
}

TEST(EpPairTraffic, RowSumsAreThePerRankAccounts) {
  EpConfig c;
  c.tokens_per_rank = 96;
  const NodeLayout l = layout_virtual(64, 8, 0);
  const RoutingSource source(c, l);
  std::vector<Routing> all;
  for (int r = 0; r < 64; ++r) all.push_back(source.rank(r));
  for (bool hier : {false, true})
    for (bool dispatch : {false, true}) {
      std::vector<double> network(64), intra(64);
      for (const PairBytes& p : pair_traffic(c, l, hier, dispatch)) {
        ASSERT_NE(p.src, p.dst);
        (l.node_of_rank[size_t(p.src)] != l.node_of_rank[size_t(p.dst)] ? network
                                                                        : intra)[size_t(p.src)] +=
            p.bytes;
      }
      for (int r = 0; r < 64; r += 7) {
        const Traffic want = expected_traffic(c, l, all, r, hier, dispatch);
        EXPECT_EQ(network[size_t(r)], want.wire.network) << r << hier << dispatch;
        EXPECT_EQ(intra[size_t(r)], want.wire.intra) << r << hier << dispatch;
      }
    }
  // Above the limit: refused by its size (before the EP options are checked against the ranks).
  try {
    pair_traffic(c, layout_virtual(kMaxPairTrafficRanks + 8, 8, 0), false, true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a traffic matrix of 4104 ranks: at most 4096"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cobench::coll::ep
