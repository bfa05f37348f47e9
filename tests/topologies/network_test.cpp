// SPDX-License-Identifier: Apache-2.0
// Table 3's counts at radix 64 (exact), properties over radix and planes, and the errors.
#include "topologies/network_topology.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace {

using namespace cobench::topo;

TEST(Network, Table3CountsAtRadix64) {
  const TopologySize ft2 = fat_tree_2(64), ft3 = fat_tree_3(64), sf = slim_fly(64);
  const TopologySize mpft = multi_plane_fat_tree(64, 8), df = dragonfly(64, 511);
  EXPECT_EQ(std::tuple(ft2.endpoints, ft2.switches, ft2.links), std::tuple(2048, 96, 2048));
  EXPECT_EQ(std::tuple(mpft.endpoints, mpft.switches, mpft.links), std::tuple(16384, 768, 16384));
  EXPECT_EQ(std::tuple(ft3.endpoints, ft3.switches, ft3.links), std::tuple(65536, 5120, 131072));
  EXPECT_EQ(std::tuple(sf.endpoints, sf.switches, sf.links), std::tuple(32928, 1568, 32928));
  EXPECT_EQ(std::tuple(df.endpoints, df.switches, df.links), std::tuple(261632, 16352, 384272));
  EXPECT_LE(sf.ports_per_switch_used, 64);
  EXPECT_EQ(df.ports_per_switch_used, 63);            // 16 endpoints + 31 local + 16 global
  EXPECT_EQ(dragonfly(64).endpoints, 16 * 32 * 513);  // the maximal dragonfly has 513 groups
}

TEST(Network, CostPerEndpointWithinThreePercentOfTable3) {
  const NetworkPrices prices;  // $81,920 a switch, $550 a link
  const std::pair<TopologySize, double> rows[] = {{fat_tree_2(64), 4.39},
                                                  {multi_plane_fat_tree(64, 8), 4.39},
                                                  {fat_tree_3(64), 7.5},
                                                  {slim_fly(64), 4.4},
                                                  {dragonfly(64, 511), 5.8}};
  for (const auto& [t, paper_k] : rows) {
    const double per_endpoint = cost_usd(t, prices) / static_cast<double>(t.endpoints) / 1e3;
    EXPECT_NEAR(per_endpoint / paper_k, 1.0, 0.03) << t.name;
  }
  // FT2 by hand: 96 x 81,920 + 2048 x 550 = 8,990,720.
  EXPECT_EQ(cost_usd(fat_tree_2(64), prices), 8'990'720.0);
}

TEST(Network, MorePlanesNeverLowerCapacity) {
  for (std::int64_t radix : {8, 32, 64, 128}) {
    std::int64_t last = 0;
    for (std::int64_t planes = 1; planes <= 16; ++planes) {
      const std::int64_t e = multi_plane_fat_tree(radix, planes).endpoints;
      EXPECT_GE(e, last);
      last = e;
    }
  }
}

TEST(Network, LargerRadixNeverLowersCapacity) {
  std::int64_t ft2 = 0, ft3 = 0, sf = 0, df = 0;
  for (std::int64_t radix = 8; radix <= 128; radix += 2) {
    EXPECT_GE(fat_tree_2(radix).endpoints, ft2);
    EXPECT_GE(fat_tree_3(radix).endpoints, ft3);
    EXPECT_GE(slim_fly(radix).endpoints, sf);
    EXPECT_GE(dragonfly(radix).endpoints, df);
    ft2 = fat_tree_2(radix).endpoints, ft3 = fat_tree_3(radix).endpoints;
    sf = slim_fly(radix).endpoints, df = dragonfly(radix).endpoints;
  }
}

TEST(Network, CheapestFit) {
  const NetworkPrices prices;
  EXPECT_EQ(cheapest_fit(2048, 64, prices).name, "FT2");
  EXPECT_EQ(cheapest_fit(2000, 64, prices).name, "FT2");
  const TopologySize mpft = cheapest_fit(16384, 64, prices);
  EXPECT_EQ(mpft.name, "MPFT");
  EXPECT_EQ(mpft.endpoints, 16384);  // 8 planes, no more
  // Past 16 planes a dragonfly of 128 groups (4096 switches, 96,256 links) beats FT3's 5120
  // switches and 131,072 links.
  EXPECT_EQ(cheapest_fit(65536, 64, prices).name, "DF");
  EXPECT_THROW(cheapest_fit(10'000'000, 64, prices), cobench::Error);
}

TEST(Network, RadixTooSmallOrOddIsAnError) {
  EXPECT_THROW(fat_tree_2(2), cobench::Error);
  EXPECT_THROW(fat_tree_3(63), cobench::Error);
  EXPECT_THROW(slim_fly(4), cobench::Error);
  EXPECT_THROW(dragonfly(64, 600), cobench::Error);
  EXPECT_THROW(multi_plane_fat_tree(64, 0), cobench::Error);
}

}  // namespace
