// SPDX-License-Identifier: Apache-2.0
// The three-level fat tree (FT3) in the fabric simulator against hand-worked values: its sizing
// (k^3/4 endpoints, 5k^2/4 switches, k^3/2 switch cables; network_topology's Table 3 formulas
// as a second implementation), its routes (same leaf, same pod, across pods under ECMP, D-mod-K
// static and adaptive), max-min rates of colliding flows, and the all-to-all under adaptive
// routing against its cut bounds.
#include <gtest/gtest.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "tests/test_util.h"
#include "tests/topologies/fabric_test_util.h"
#include "topologies/fabric_failure.h"
#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"
#include "topologies/network_topology.h"

namespace {

using namespace cobench::topo;
using cobench::Bandwidth;
using cobench::Seconds;
using cobench::test::error_of;

constexpr double kGB = 1e9;

// Hosts of one GPU and one NIC (no NVLink): NICs 50 GB/s line rate, 40 GB/s achievable; 2 us
// within a leaf and 4 us across leaves, so 1 us a NIC-leaf link and 1 us a leaf-aggregation or
// aggregation-core link.
ClusterSpec ft3(std::int64_t hosts, std::int64_t radix) {
  ClusterSpec c;
  c.name = "hand-built ft3";
  c.nodes = hosts;
  c.node.gpus_per_node = 1;
  c.node.nics_per_node = 1;
  c.node.nic_speed = Bandwidth(50 * kGB);
  c.scale_up = {"none", 1, Bandwidth(0), Bandwidth(0), Seconds(0)};
  c.scale_out = {"InfiniBand", Bandwidth(40 * kGB), Seconds(2e-6), Seconds(4e-6)};
  c.fabric.kind = FabricKind::kFatTree3;
  c.fabric.switch_radix = radix;
  return c;
}

// The radix-4 FT3 (h = 2): 16 hosts, leaf l holds NICs 2l and 2l + 1, pod p leaves 2p and
// 2p + 1 (NICs 4p to 4p + 3), 2 aggregation switches a pod, 4 cores (group j: cores (j, 0) and
// (j, 1)).
ClusterSpec radix4() { return ft3(16, 4); }

using cobench::topo::test::routed_rates;

TEST(FabricFt3, Radix4IsTheFullTreeOfTheFormulas) {
  const FabricGraph g(radix4());
  const FabricSizing& s = g.sizing();
  // k = 4: k^3/4 = 16 endpoints on 8 leaves, k pods, k x k/2 = 8 aggregation, k^2/4 = 4 cores:
  // 5k^2/4 = 20 switches; 8 x 2 leaf-aggregation and 4 x 2 x 2 aggregation-core cables (32 =
  // k^3/2).
  EXPECT_EQ(std::tuple(s.leaves, s.pods, s.aggregations, s.cores, s.switches),
            std::tuple(8, 4, 8, 4, 20));
  EXPECT_EQ(std::tuple(s.leaf_spine_cables, s.aggregation_core_cables), std::tuple(16, 16));
  const TopologySize table = fat_tree_3(4);
  EXPECT_EQ(std::tuple(table.endpoints, table.switches, table.links),
            std::tuple(g.nics(), s.switches, s.leaf_spine_cables + s.aggregation_core_cables));
  EXPECT_DOUBLE_EQ(s.leaf_port_fraction, 1.0);
  EXPECT_DOUBLE_EQ(s.top_tier_port_fraction, 1.0);  // each core reaches all 4 pods
  // GPU-NIC, NIC-leaf, leaf-aggregation, aggregation-core links, each both ways.
  EXPECT_EQ(g.links(), 2 * (16 + 16 + 16 + 16));
  EXPECT_EQ(g.vertices(), 16 + 16 + 8 + 8 + 4);
  EXPECT_EQ(g.link_name(g.leaf_to_spine(3, 1)), "leaf 3 -> agg 1.1");
  EXPECT_EQ(g.link_name(g.aggregation_to_core(2, 1, 0)), "agg 2.1 -> core 1.0");
  EXPECT_EQ(g.link_name(g.core_to_aggregation(3, 0, 1)), "core 0.1 -> agg 3.0");
  EXPECT_EQ(g.link_kind(g.spine_to_leaf(0, 0)), LinkKind::kAggregationToLeaf);
  EXPECT_EQ(g.link_kind(g.aggregation_to_core(0, 0, 0)), LinkKind::kAggregationToCore);
  EXPECT_EQ(g.vertex_kind(g.link_to(g.aggregation_to_core(0, 0, 0))), VertexKind::kCore);
  EXPECT_EQ(to_string(VertexKind::kAggregation), "aggregation");
  EXPECT_EQ(to_string(LinkKind::kCoreToAggregation), "core->aggregation");
  // Every link's endpoints are the vertices its formula names: no two links alike.
  for (std::int32_t p = 0; p < 4; ++p)
    for (std::int32_t j = 0; j < 2; ++j)
      for (std::int32_t k = 0; k < 2; ++k) {
        const std::int32_t up = g.aggregation_to_core(p, j, k);
        const std::int32_t down = g.core_to_aggregation(p, j, k);
        EXPECT_EQ(g.link_from(up), g.link_to(down));
        EXPECT_EQ(g.link_to(up), g.link_from(down));
        EXPECT_EQ(g.link_from(up), g.link_to(g.leaf_to_spine(2 * p, j)));
      }
}

TEST(FabricFt3, Radix64FullIsTable3) {
  // 8192 nodes of 8 GPUs and 8 NICs: 65,536 NICs = 64^3/4. Table 3: 5,120 switches (2,048
  // leaves, 2,048 aggregation, 1,024 cores) and 131,072 links (65,536 at each of two tiers).
  ClusterSpec c = ft3(8192, 64);
  c.node.gpus_per_node = 8;
  c.node.nics_per_node = 8;
  const FabricGraph g(c);
  const FabricSizing& s = g.sizing();
  EXPECT_EQ(std::tuple(s.leaves, s.pods, s.aggregations, s.cores, s.switches),
            std::tuple(2048, 64, 2048, 1024, 5120));
  EXPECT_EQ(s.leaf_spine_cables + s.aggregation_core_cables, 131072);
  EXPECT_DOUBLE_EQ(s.top_tier_port_fraction, 1.0);
  const TopologySize table = fat_tree_3(64);
  EXPECT_EQ(std::tuple(table.endpoints, table.switches, table.links),
            std::tuple(g.nics(), s.switches, s.leaf_spine_cables + s.aggregation_core_cables));
}

TEST(FabricFt3, PartialAndOnePodClustersAreSizedToTheirNics) {
  // Radix 8 (h = 4), 37 NICs: ceil(37/4) = 10 leaves in ceil(10/4) = 3 pods (4, 4, 2 leaves),
  // 3 x 4 = 12 aggregation, 16 cores: 38 switches; 40 leaf-aggregation and 3 x 16 = 48
  // aggregation-core cables; 37/40 leaf ports and 3 of 8 core ports used.
  const FabricGraph g(ft3(37, 8));
  const FabricSizing& s = g.sizing();
  EXPECT_EQ(std::tuple(s.leaves, s.pods, s.aggregations, s.cores, s.switches),
            std::tuple(10, 3, 12, 16, 38));
  EXPECT_EQ(std::tuple(s.leaf_spine_cables, s.aggregation_core_cables), std::tuple(40, 48));
  EXPECT_DOUBLE_EQ(s.leaf_port_fraction, 37.0 / 40);
  EXPECT_DOUBLE_EQ(s.top_tier_port_fraction, 3.0 / 8);
  EXPECT_EQ(g.pod_of_leaf(9), 2);
  // The last pod's 2 leaves reach all 4 of its aggregation switches.
  EXPECT_EQ(g.link_name(g.leaf_to_spine(9, 3)), "leaf 9 -> agg 2.3");

  // 12 NICs fit one pod: 3 leaves and 4 aggregation switches, no cores (the switches of an FT2
  // of radix 8: 3 leaves, 4 spines), each aggregation switch using 3 of its 8 ports.
  const FabricGraph one(ft3(12, 8));
  EXPECT_EQ(std::tuple(one.sizing().pods, one.sizing().aggregations, one.sizing().cores,
                       one.sizing().switches),
            std::tuple(1, 4, 0, 7));
  ClusterSpec as_ft2 = ft3(12, 8);
  as_ft2.fabric.kind = FabricKind::kFatTree2;
  EXPECT_EQ(FabricGraph(as_ft2).sizing().switches, 7);
  EXPECT_DOUBLE_EQ(one.sizing().top_tier_port_fraction, 3.0 / 8);
  EXPECT_NE(one.sizing().note.find("one pod: no core tier"), std::string::npos);
  EXPECT_EQ(resource_count(one), one.links() + 2 * 3);  // no pod bundles without cores
  // Across leaves of the one pod: leaf, aggregation switch, leaf (NIC 0 on leaf 0, NIC 5 on 1).
  const Route r = route_flow(one, 0, 5, 0, {RoutingPolicy::kStatic, true, 0});
  EXPECT_EQ(std::tuple(r.hops, r.spine, r.core), std::tuple(6, 5 % 4, -1));

  // 17 NICs on radix 4: 9 leaves need 5 pods; a core of 4 ports reaches 4.
  EXPECT_NE(error_of([] { FabricGraph too_big(ft3(17, 4)); })
                .find("its 17 NICs need 9 leaves of 2 ports in 5 pods of 2 leaves, but a core of "
                      "radix 4 reaches at most 4 pods (16 NICs)"),
            std::string::npos);
}

TEST(FabricFt3, RoutesClimbOnlyAsHighAsTheyMust) {
  const FabricGraph g(radix4());
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  // Same leaf (NICs 0 and 1): GPU-NIC, NIC-leaf, leaf-NIC, NIC-GPU; 2 x 1 us.
  const Route leaf = route_flow(g, 0, 1, 0, lft);
  EXPECT_EQ(std::tuple(leaf.hops, leaf.spine, leaf.core), std::tuple(4, -1, -1));
  EXPECT_DOUBLE_EQ(leaf.latency_s, 2e-6);
  // Same pod (leaf 0 to leaf 1): D-mod-K picks aggregation switch 3 mod 2 = 1; 4 us.
  const Route pod = route_flow(g, 1, 3, 0, lft);
  EXPECT_EQ(std::tuple(pod.hops, pod.spine, pod.core), std::tuple(6, 1, -1));
  EXPECT_EQ(pod.resources[2], g.leaf_to_spine(0, 1));
  EXPECT_EQ(pod.resources[3], g.spine_to_leaf(1, 1));
  EXPECT_DOUBLE_EQ(pod.latency_s, 4e-6);
  // Across pods (NIC 0 to NIC 13, pod 3 leaf 6): aggregation 13 mod 2 = 1, core (13 / 2) mod 2
  // = 0 of group 1; 6 us (4 + (4 - 2)).
  const Route far = route_flow(g, 0, 13, 0, lft);
  EXPECT_EQ(std::tuple(far.hops, far.spine, far.core), std::tuple(8, 1, 0));
  const std::vector<std::int32_t> path(far.path().begin(), far.path().end());
  EXPECT_EQ(path, (std::vector<std::int32_t>{g.gpu_to_nic(0), g.nic_to_leaf(0),
                                             g.leaf_to_spine(0, 1), g.aggregation_to_core(0, 1, 0),
                                             g.core_to_aggregation(3, 1, 0), g.spine_to_leaf(6, 1),
                                             g.leaf_to_nic(13), g.nic_to_gpu(13)}));
  EXPECT_DOUBLE_EQ(far.latency_s, 6e-6);
  // Adaptive across pods: leaf 0's uplinks, pod 0's core uplinks, pod 3's core downlinks,
  // leaf 6's downlinks as bundles of 2 x 40, 4 x 40, 4 x 40 and 2 x 40 GB/s.
  const Route split = route_flow(g, 0, 13, 0, {RoutingPolicy::kAdaptive, true, 0});
  const std::vector<std::int32_t> bundles(split.path().begin() + 2, split.path().begin() + 6);
  EXPECT_EQ(bundles, (std::vector<std::int32_t>{uplink_bundle(g, 0), pod_uplink_bundle(g, 0),
                                                pod_downlink_bundle(g, 3), downlink_bundle(g, 6)}));
  const std::vector<double> cap = resource_capacities(g);
  EXPECT_DOUBLE_EQ(cap[static_cast<size_t>(pod_uplink_bundle(g, 0))], 160 * kGB);
  EXPECT_DOUBLE_EQ(cap[static_cast<size_t>(downlink_bundle(g, 6))], 80 * kGB);
  EXPECT_DOUBLE_EQ(split.latency_s, 6e-6);
}

TEST(FabricFt3, StaticFlowsSharingACoreLinkGetHalfEach) {
  const FabricGraph g(radix4());
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  // D-mod-K: to NIC 4 (pod 1) aggregation 4 mod 2 = 0, core (4/2) mod 2 = 0; to NIC 8 (pod 2)
  // aggregation 0, core (8/2) mod 2 = 0. From leaf 0 (GPU 0) and leaf 1 (GPU 2) of pod 0 both
  // climb to aggregation switch 0.0 and share its one link to core 0.0 (40 GB/s): 20 each.
  // GPU 1 to GPU 3 stays in pod 0 (aggregation 3 mod 2 = 1): its own 40 GB/s.
  const std::vector<Flow> flows = {{0, 4, 1}, {2, 8, 1}, {1, 3, 1}};
  const std::vector<double> r = routed_rates(g, flows, lft);
  EXPECT_DOUBLE_EQ(r[0], 20 * kGB);
  EXPECT_DOUBLE_EQ(r[1], 20 * kGB);
  EXPECT_DOUBLE_EQ(r[2], 40 * kGB);
  const Route same_pod = route_flow(g, 1, 3, 2, lft);
  for (std::int32_t l : same_pod.path()) {
    const LinkKind k = g.link_kind(l);
    EXPECT_NE(k, LinkKind::kAggregationToCore);
    EXPECT_NE(k, LinkKind::kCoreToAggregation);
  }
  // To NIC 6 instead of 8: core (6/2) mod 2 = 1, another link: both at the NICs' 40.
  const std::vector<double> apart = routed_rates(g, {{0, 4, 1}, {2, 6, 1}}, lft);
  EXPECT_DOUBLE_EQ(apart[0], 40 * kGB);
  EXPECT_DOUBLE_EQ(apart[1], 40 * kGB);
  // The phase counts both of the first pair as collided on the core tier (2 flows on a link of
  // an aggregation switch whose 2 cross-pod flows an even spread puts 1 a link).
  const PhaseResult pr = simulate_phase(g, std::vector<Flow>{{0, 4, 1e6}, {2, 8, 1e6}}, lft);
  EXPECT_EQ(std::tuple(pr.spine_flows, pr.collided_flows), std::tuple(2, 2));
  EXPECT_DOUBLE_EQ(pr.spine_imbalance, 2.0);
}

TEST(FabricFt3, EcmpPicksAggregationAndCoreIndependently) {
  const FabricGraph g(radix4());
  // GPU 0 (leaf 0) to GPU 4 (pod 1) and GPU 2 (leaf 1) to GPU 8 (pod 2): the flows share a link
  // only where both hashes agree (same aggregation switch of pod 0 and same core): then 20
  // GB/s each, else 40. Independent picks agree with odds 1/2 x 1/2 = 1/4 (1/2 if the core
  // hash repeated the aggregation one): over 256 seeds 64 +- 7 (binomial sd).
  int shared = 0;
  for (std::uint64_t seed = 0; seed < 256; ++seed) {
    const RoutingOptions o{RoutingPolicy::kEcmp, true, seed};
    const Route a = route_flow(g, 0, 4, 0, o), b = route_flow(g, 2, 8, 1, o);
    const bool same = a.spine == b.spine && a.core == b.core;
    shared += same;
    const std::vector<double> r = routed_rates(g, {{0, 4, 1}, {2, 8, 1}}, o);
    EXPECT_DOUBLE_EQ(r[0], same ? 20 * kGB : 40 * kGB) << "seed " << seed;
    EXPECT_DOUBLE_EQ(r[1], same ? 20 * kGB : 40 * kGB) << "seed " << seed;
  }
  EXPECT_GT(shared, 64 - 3 * 7);
  EXPECT_LT(shared, 64 + 3 * 7);
}

TEST(FabricFt3, AdaptiveAllToAllRunsAtItsCutBound) {
  // 16 GPUs, 16 MB each: 1 MB to each of 15 others. Full bisection (1:1): the bound is a NIC's
  // 15 MB at 40 GB/s = 375 us (every flow at 40/15 GB/s), plus the 6 us of a cross-pod path.
  const FabricGraph full(radix4());
  const Collective a2a = all_to_all(rank_groups(16, 16), 16e6);
  const RoutingOptions ar{RoutingPolicy::kAdaptive, true, 0};
  const CollectiveResult r = simulate_collective(full, a2a, ar);
  EXPECT_NEAR(r.time_s, 375e-6 + 6e-6, 1e-12);
  // Each aggregation-core link of pod 0 carries a quarter of pod 0's 4 x 12 MB out of the pod.
  EXPECT_NEAR(r.link_bytes[static_cast<size_t>(full.aggregation_to_core(0, 1, 1))], 12e6, 1e-3);
  EXPECT_NEAR(r.link_bytes[static_cast<size_t>(full.leaf_to_spine(0, 0))], 14e6, 1e-3);

  // 2:1 at the leaf (leaf-aggregation and aggregation-core links 20 GB/s): a leaf's 2 x 14 MB
  // leave it over 2 x 20 GB/s: 700 us (every off-leaf flow at 40/28 GB/s); a pod's 4 x 12 MB
  // over 4 x 20 GB/s would take only 600 us, and the same-leaf flows finish first (at 20 GB/s,
  // 50 us) without speeding the rest, which the leaf uplinks hold.
  const FabricGraph thin(radix4(), FabricOptions{2.0});
  const PhaseResult pr = simulate_phase(thin, a2a.phases.front().flows, ar);
  EXPECT_NEAR(pr.fluid_time_s, 700e-6, 1e-12);
  EXPECT_NEAR(pr.time_s, 706e-6, 1e-12);
  // ECMP and D-mod-K cannot beat the cut.
  for (RoutingPolicy p : {RoutingPolicy::kEcmp, RoutingPolicy::kStatic})
    EXPECT_GE(simulate_phase(thin, a2a.phases.front().flows, {p, true, 0}).fluid_time_s,
              700e-6 * (1 - 1e-12));
}

// Pod 0's four GPUs to pod 3's (NICs 12-15). D-mod-K: to 12 aggregation 0 core 0, to 13 (1, 0),
// to 14 (0, 1), to 15 (1, 1); every link carries one flow, 40 GB/s each.
const std::vector<Flow> kPod0ToPod3 = {{0, 12, 1}, {1, 13, 1}, {2, 14, 1}, {3, 15, 1}};

TEST(FabricFt3, AFailedCoreCableMovesStaticFlowsOntoTheNextCore) {
  FabricGraph g(radix4());
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  for (double r : routed_rates(g, kPod0ToPod3, lft)) EXPECT_DOUBLE_EQ(r, 40 * kGB);
  const LinkFailure f = parse_link_failure(g, "core:0:0:0");
  EXPECT_EQ(f.links, (std::vector<std::int32_t>{g.aggregation_to_core(0, 0, 0),
                                                g.core_to_aggregation(0, 0, 0)}));
  apply_link_failures(g, std::vector<LinkFailure>{f});
  // Static: 0 -> 12 fails over to core (0, 1) (cyclic order), which 2 -> 14 uses: 20 GB/s each,
  // on pod 0's cable up and on pod 3's cable down; the other two keep 40.
  const Route moved = route_flow(g, 0, 12, 0, lft);
  EXPECT_EQ(std::tuple(moved.spine, moved.core), std::tuple(0, 1));
  const std::vector<double> r = routed_rates(g, kPod0ToPod3, lft);
  EXPECT_EQ(r, (std::vector<double>{20 * kGB, 40 * kGB, 20 * kGB, 40 * kGB}));
  // Adaptive: pod 0's aggregation-core bundle keeps 3 of its 4 cables, 120 GB/s for the 4 flows.
  const std::vector<double> a = routed_rates(g, kPod0ToPod3, {RoutingPolicy::kAdaptive, true, 0});
  EXPECT_EQ(a, (std::vector<double>(4, 30 * kGB)));
  // ECMP hashes over the live cores only: no seed puts a flow on the dead cable.
  for (std::uint64_t seed = 0; seed < 64; ++seed)
    for (size_t i = 0; i < kPod0ToPod3.size(); ++i) {
      const Route e = route_flow(g, kPod0ToPod3[i].src_gpu, kPod0ToPod3[i].dst_gpu, i,
                                 {RoutingPolicy::kEcmp, true, seed});
      for (std::int32_t l : e.path()) EXPECT_TRUE(g.link_up(l)) << "seed " << seed;
    }
}

TEST(FabricFt3, AnAggregationSwitchWithoutLiveCoresLeavesTheEcmpGroup) {
  FabricGraph g(radix4());
  // Both cables of pod 0's aggregation switch 1 to its cores: switch 1 no longer reaches other
  // pods, so 1 -> 13 (D-mod-K aggregation 1, core 0) climbs to switch 0 and its core (13/2) mod
  // 2 = 0; inside the pod switch 1 still carries 1 -> 3 (aggregation 3 mod 2 = 1).
  for (const char* spec : {"core:0:1:0", "core:0:1:1"})
    apply_link_failures(g, std::vector<LinkFailure>{parse_link_failure(g, spec)});
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  const Route up = route_flow(g, 1, 13, 0, lft);
  EXPECT_EQ(std::tuple(up.spine, up.core), std::tuple(0, 0));
  EXPECT_EQ(route_flow(g, 1, 3, 0, lft).spine, 1);
  for (std::uint64_t seed = 0; seed < 32; ++seed)
    EXPECT_EQ(route_flow(g, 1, 13, 0, {RoutingPolicy::kEcmp, true, seed}).spine, 0);
  // A leaf's uplink to switch 0 down as well: nothing leaves pod 0 from leaf 0.
  apply_link_failures(g, std::vector<LinkFailure>{parse_link_failure(g, "uplink:0:0")});
  EXPECT_NE(error_of([&] { route_flow(g, 1, 13, 0, lft); }).find("no live path joins"),
            std::string::npos);
  // Leaf 1 still reaches leaf 0 through switch 1 inside the pod.
  EXPECT_EQ(route_flow(g, 2, 0, 0, lft).spine, 1);
}

TEST(FabricFt3, BadCoreFailuresNameWhatTheFabricHas) {
  const FabricGraph g(radix4());
  EXPECT_NE(error_of([&] {
              parse_link_failure(g, "core:4:0:0");
            }).find("--fail 'core:4:0:0': pod '4' is not in the fabric: expected 0 to 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_link_failure(g, "core:0:0:2");
            }).find("core '2' is not in the fabric: expected 0 to 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_link_failure(g, "plane:0"); }).find("needs mpft"),
            std::string::npos);
  // A control character is refused, not echoed to the terminal.
  EXPECT_NE(error_of([&] {
              parse_link_failure(g,
                                 "uplink:\x1b"
                                 "0:0");
            }).find("--fail: the spec holds U+001B at byte 7: expected uplink:LEAF:SPINE"),
            std::string::npos);
  // One pod (4 hosts: 2 leaves): no core tier.
  const FabricGraph one_pod(ft3(4, 4));
  EXPECT_NE(error_of([&] { parse_link_failure(one_pod, "core:0:0:0"); }).find("no core tier"),
            std::string::npos);
  ClusterSpec two_level = radix4();
  two_level.fabric.kind = FabricKind::kFatTree2;
  two_level.nodes = 8;
  const FabricGraph ft2(two_level);
  EXPECT_NE(error_of([&] { parse_link_failure(ft2, "core:0:0:0"); }).find("needs an ft3"),
            std::string::npos);
}

}  // namespace
