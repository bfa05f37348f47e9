// SPDX-License-Identifier: Apache-2.0
// The fabric simulator on the direct networks of Table 3 (Slim Fly, dragonfly): sized to the
// cluster, routed over minimal paths, and max-min rates worked by hand.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "tests/topologies/fabric_test_util.h"
#include "topologies/fabric_failure.h"
#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"

namespace {

using namespace cobench::topo;
using cobench::Bandwidth;
using cobench::Seconds;
using cobench::test::error_of;
using cobench::topo::test::routed_rates;

constexpr double kGB = 1e9;

// One GPU and one NIC a node; NIC line rate 50 GB/s, 40 GB/s achievable (so are router links),
// 2 us within a router and 4 us across one router-router hop pair (1 us a router link).
ClusterSpec direct_cluster(FabricKind kind, std::int64_t nodes, std::int64_t radix) {
  ClusterSpec c;
  c.name = "hand-built";
  c.nodes = nodes;
  c.node.gpus_per_node = 1;
  c.node.nics_per_node = 1;
  c.node.nic_speed = Bandwidth(50 * kGB);
  c.scale_up = {"none", 1, Bandwidth(0), Bandwidth(0), Seconds(0)};
  c.scale_out = {"InfiniBand", Bandwidth(40 * kGB), Seconds(2e-6), Seconds(4e-6)};
  c.fabric.kind = kind;
  c.fabric.switch_radix = radix;
  return c;
}

TEST(FabricSlimFly, SizedToTheSmallestMmsGraphThatHoldsTheNics) {
  // 200 NICs: q = 3 (18 routers x 3 ports) and q = 4 (32 x 3 = 96) are too small; q = 5 has 50
  // routers of degree 7 and ceil(7/2) = 4 NIC ports: 200 exactly, 11 ports of radix 12.
  const FabricGraph g(direct_cluster(FabricKind::kSlimFly, 200, 12));
  ASSERT_NE(g.direct(), nullptr);
  EXPECT_EQ(g.direct()->q(), 5);
  EXPECT_EQ(g.leaves(), 50);
  EXPECT_EQ(g.nic_ports_per_leaf(), 4);
  EXPECT_EQ(g.sizing().switches, 50);
  EXPECT_EQ(g.sizing().router_cables, 50 * 7 / 2);
  EXPECT_DOUBLE_EQ(g.sizing().leaf_port_fraction, 1.0);
  EXPECT_DOUBLE_EQ(g.sizing().top_tier_port_fraction, 11.0 / 12.0);
  EXPECT_EQ(g.links(), 4 * 200 + 50 * 7);  // GPU-NIC and NIC-router both ways, router links
  EXPECT_EQ(g.vertex_name(g.link_to(g.nic_to_leaf(4))), "router 0.0.1");
  // Radix 10 cannot take q = 5 (7 + 4 ports): q = 4 holds 96 NICs.
  EXPECT_NE(error_of([] { FabricGraph x(direct_cluster(FabricKind::kSlimFly, 200, 10)); })
                .find("does not fit a slim-fly of radix 10: its 200 NICs need more than the "
                      "largest MMS graph whose network and NIC ports fit the radix holds (96 "
                      "NICs)"),
            std::string::npos);
}

TEST(FabricSlimFly, OneOrTwoRouterHopsAndTheirSharedLink) {
  const FabricGraph g(direct_cluster(FabricKind::kSlimFly, 200, 12));
  const DirectNetwork& n = *g.direct();
  const std::int32_t next = n.neighbours(0)[0];  // adjacent to router 0
  std::int32_t far = 1;
  while (n.minimal_paths(0, far) != 1 || n.minimal_path(0, far, 0).hops != 2) ++far;
  const RoutingOptions ecmp{RoutingPolicy::kEcmp, false, 0};
  const Route one = route_flow(g, 0, next * 4, 0, ecmp);
  EXPECT_EQ(one.hops, 5);  // GPU-NIC, NIC-router, router-router, router-NIC, NIC-GPU
  EXPECT_NEAR(one.latency_s, 3e-6, 1e-15);
  EXPECT_EQ(g.link_kind(one.resources[2]), LinkKind::kRouterToRouter);
  const Route two = route_flow(g, 0, far * 4, 0, ecmp);
  EXPECT_EQ(two.hops, 6);
  EXPECT_NEAR(two.latency_s, 4e-6, 1e-15);  // latency_cross_leaf, as a spine hop
  // NICs 0 and 1 (router 0) to NICs of the adjacent router: both on the one link, 20 GB/s each.
  const std::vector<double> r = routed_rates(g, {{0, next * 4, 1.0}, {1, next * 4 + 1, 1.0}}, ecmp);
  EXPECT_NEAR(r[0], 20 * kGB, 1e-3);
  EXPECT_NEAR(r[1], 20 * kGB, 1e-3);
  // The same NIC to a router: its own NIC link (40 GB/s) binds.
  EXPECT_NEAR(routed_rates(g, {{0, 4, 1.0}}, ecmp)[0], 40 * kGB, 1e-3);
}

// Radix 7: p = 2 NIC ports, a = 4 routers a group, h = 2 global links; 24 NICs need 12 routers
// in 3 groups, every pair of groups joined by a h / (g - 1) = 4 global links.
ClusterSpec small_dragonfly() { return direct_cluster(FabricKind::kDragonfly, 24, 7); }

TEST(FabricDragonfly, SizedAndRoutedByHand) {
  const FabricGraph g(small_dragonfly());
  ASSERT_NE(g.direct(), nullptr);
  EXPECT_EQ(g.direct()->groups(), 3);
  EXPECT_EQ(g.direct()->copies(), 4);
  EXPECT_EQ(g.sizing().switches, 12);
  EXPECT_EQ(g.sizing().router_cables, (12 * 3 + 3 * 8) / 2);  // local 18, global 12
  EXPECT_DOUBLE_EQ(g.sizing().top_tier_port_fraction, (3.0 + 2.0 + 2.0) / 7.0);
  // Static: GPU 0 (router 0.0) to GPU 10 (NIC 10, router 5 = 1.1): copy 10 mod 4 = 2, group 0's
  // port 2 x 2 + 0 = 4 (router 0.2) to group 1's port 2 x 2 + 1 = 5 (router 1.2).
  const RoutingOptions lft{RoutingPolicy::kStatic, false, 0};
  const Route r = route_flow(g, 0, 10, 0, lft);
  ASSERT_EQ(r.hops, 7);
  EXPECT_EQ(r.direct_path, 2);
  EXPECT_EQ(r.direct_paths, 4);
  EXPECT_EQ(g.link_name(r.resources[2]), "router 0.0 -> router 0.2");
  EXPECT_EQ(g.link_name(r.resources[3]), "router 0.2 -> router 1.2");
  EXPECT_EQ(g.link_name(r.resources[4]), "router 1.2 -> router 1.1");
  EXPECT_EQ(g.link_kind(r.resources[2]), LinkKind::kLocal);
  EXPECT_EQ(g.link_kind(r.resources[3]), LinkKind::kGlobal);
  EXPECT_NEAR(r.latency_s, 5e-6, 1e-15);  // 2 x 1 us at the NICs, three router links
  // GPU 1 to GPU 14 (router 7 = 1.3): 14 mod 4 = 2 too, the same local and global link.
  const std::vector<double> shared = routed_rates(g, {{0, 10, 1.0}, {1, 14, 1.0}}, lft);
  EXPECT_NEAR(shared[0], 20 * kGB, 1e-3);
  EXPECT_NEAR(shared[1], 20 * kGB, 1e-3);
  // Within a group: one local link.
  EXPECT_EQ(route_flow(g, 0, 6, 0, lft).hops, 5);
}

TEST(FabricDragonfly, AdaptiveSplitsAFlowOverTheGlobalLinks) {
  const FabricGraph g(small_dragonfly());
  const std::vector<Flow> flows{{0, 10, 1e9}, {1, 14, 1e9}};
  // Static: both at 20 GB/s (above): 1 GB in 50 ms.
  const PhaseResult st = simulate_phase(g, flows, {RoutingPolicy::kStatic, false, 0}, nullptr, {});
  EXPECT_NEAR(st.fluid_time_s, 1e9 / (20 * kGB), 1e-12);
  // Adaptive: each flow in 4 parts, one a global link (copies 0..3: gateways 0.0, 0.1, 0.2, 0.3);
  // the two flows' parts pair up on each link (20 GB/s a part at most), so the NIC links bind:
  // 40 GB/s a flow, 25 ms.
  std::array<std::int32_t, kMaxAdaptivePaths> paths{};
  EXPECT_EQ(adaptive_paths(g, 0, 10, {RoutingPolicy::kAdaptive, false, 0}, paths), 4);
  const PhaseResult ad =
      simulate_phase(g, flows, {RoutingPolicy::kAdaptive, false, 0}, nullptr, {});
  EXPECT_NEAR(ad.fluid_time_s, 1e9 / (40 * kGB), 1e-12);
  EXPECT_EQ(ad.flows, 2);
  // ECMP counts its global-link choices: 2 flows with a choice.
  const PhaseResult ec = simulate_phase(g, flows, {RoutingPolicy::kEcmp, false, 0}, nullptr, {});
  EXPECT_EQ(ec.spine_flows, 2);
  // Not on the trees, and never without a path.
  EXPECT_NE(error_of([&] {
              route_flow(g, 0, 10, 0, {RoutingPolicy::kAdaptive, false, 0});
            })
                .find("adaptive routing on a dragonfly splits the flow from GPU 0 to GPU 10 over "
                      "its 4 minimal paths"),
            std::string::npos);
}

TEST(FabricDragonfly, RefusesWhatItCannotBuild) {
  // Radix 7 reaches a h + 1 = 9 groups of 4 routers x 2 NICs: 72 NICs; 80 need 10 groups.
  EXPECT_NE(error_of([] { FabricGraph g(direct_cluster(FabricKind::kDragonfly, 80, 7)); })
                .find("its 80 NICs need 10 groups of 4 routers (2 NICs each), but a canonical "
                      "dragonfly has at most a h + 1 = 9"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              FabricGraph g(direct_cluster(FabricKind::kDragonfly, 8, 2));
            }).find("switch radix 2 is too small for a dragonfly"),
            std::string::npos);
  const FabricGraph g(small_dragonfly());
  EXPECT_NE(error_of([&] {
              parse_link_failure(g, "plane:0");
            }).find("link failures are simulated on the fat trees"),
            std::string::npos);
  // One group: only the routers the NICs need, no global link.
  const FabricGraph one(direct_cluster(FabricKind::kDragonfly, 6, 7));
  EXPECT_EQ(one.leaves(), 3);
  EXPECT_EQ(one.direct()->global_links(), 0);
  EXPECT_EQ(route_flow(one, 0, 5, 0, {RoutingPolicy::kStatic, false, 0}).hops, 5);
}

}  // namespace
