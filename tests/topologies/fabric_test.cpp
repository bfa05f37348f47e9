// SPDX-License-Identifier: Apache-2.0
// The fabric simulator (graph, routing, max-min rates, collectives) against hand-worked values:
// progressive filling, an event-driven finish, ECMP collisions and their balls-in-bins odds,
// PXN, ring and all-to-all bandwidths, and the bad inputs it refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_util.h"
#include "tests/topologies/fabric_test_util.h"
#include "topologies/data_files.h"
#include "topologies/fabric_failure.h"
#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"
#include "topologies/fabric_traffic.h"

namespace {

using namespace cobench::topo;
using cobench::Bandwidth;
using cobench::Seconds;
using cobench::test::error_of;

constexpr double kGB = 1e9;

// A cluster by hand: NVLink 160 GB/s achievable (3 us), NICs 50 GB/s line rate and 40 GB/s
// achievable, 2 us within a leaf and 4 us across (so 1 us a leaf-spine link).
ClusterSpec cluster(FabricKind kind, std::int64_t nodes, std::int64_t gpus, std::int64_t nics,
                    std::int64_t radix, std::int64_t planes = 1) {
  ClusterSpec c;
  c.name = "hand-built";
  c.nodes = nodes;
  c.node.gpus_per_node = gpus;
  c.node.nics_per_node = nics;
  c.node.nic_speed = Bandwidth(50 * kGB);
  c.scale_up = {"NVLink", gpus, Bandwidth(200 * kGB), Bandwidth(160 * kGB), Seconds(3e-6)};
  c.scale_out = {"InfiniBand", Bandwidth(40 * kGB), Seconds(2e-6), Seconds(4e-6)};
  c.fabric.kind = kind;
  c.fabric.planes = planes;
  c.fabric.switch_radix = radix;
  return c;
}

// The radix-4 FT2 of the brief: 2 leaves x 2 hosts (one GPU and NIC each), 2 spines.
ClusterSpec small_ft2() { return cluster(FabricKind::kFatTree2, 4, 1, 1, 4); }

FlowSet flow_set(const std::vector<std::vector<std::int32_t>>& paths, double bytes = 1) {
  FlowSet s;
  for (const auto& p : paths) s.add(p, bytes);
  return s;
}

using cobench::topo::test::routed_rates;

TEST(FabricMaxMin, TwoFlowsOnOneLinkGetHalfEach) {
  const std::vector<double> cap = {100 * kGB};
  const std::vector<double> r = max_min_rates(cap, flow_set({{0}, {0}}));
  EXPECT_DOUBLE_EQ(r[0], 50 * kGB);
  EXPECT_DOUBLE_EQ(r[1], 50 * kGB);
}

TEST(FabricMaxMin, PrivateBottleneckLeavesTheRestToTheOthers) {
  // Link 0 (10 GB/s) carries flows a, b, c; c also crosses link 1 (2 GB/s). Filling from 0:
  // link 1 fills first at 2 (one flow), c freezes at 2; link 0 has 8 left for a and b: 4 each.
  const std::vector<double> cap = {10 * kGB, 2 * kGB};
  const std::vector<double> r = max_min_rates(cap, flow_set({{0}, {0}, {0, 1}}));
  EXPECT_DOUBLE_EQ(r[0], 4 * kGB);
  EXPECT_DOUBLE_EQ(r[1], 4 * kGB);
  EXPECT_DOUBLE_EQ(r[2], 2 * kGB);
  // A chain: link 0 (1) holds a, b; link 1 (2) holds b, c, d. Shares 1/2 and 2/3: link 0 fills
  // at 0.5 (a, b); link 1 keeps 1.5 for c and d: 0.75 each.
  const std::vector<double> cap2 = {1 * kGB, 2 * kGB};
  const std::vector<double> r2 = max_min_rates(cap2, flow_set({{0}, {0, 1}, {1}, {1}}));
  EXPECT_DOUBLE_EQ(r2[0], 0.5 * kGB);
  EXPECT_DOUBLE_EQ(r2[1], 0.5 * kGB);
  EXPECT_DOUBLE_EQ(r2[2], 0.75 * kGB);
  EXPECT_DOUBLE_EQ(r2[3], 0.75 * kGB);
}

TEST(FabricMaxMin, FinishedFlowsFreeCapacity) {
  // 100 B and 200 B on one 100 B/s link: 50 each until the first ends at 2 s; the second has
  // 100 B left at 100 B/s: it ends at 3 s, not the 4 s of a fixed 50.
  FlowSet s;
  s.add(std::vector<std::int32_t>{0}, 100);
  s.add(std::vector<std::int32_t>{0}, 200);
  const std::vector<double> cap = {100};
  const FluidRun run = run_fluid(cap, s);
  EXPECT_DOUBLE_EQ(run.finish_s[0], 2.0);
  EXPECT_DOUBLE_EQ(run.finish_s[1], 3.0);
  EXPECT_EQ(run.events, 2);
  // A finish window of 1 (the earliest finish, 2 s, plus 1 x 2 s) ends both in one event, the
  // second at its own 200 B / 50 B/s = 4 s: conservative, no rate recomputed.
  FluidOptions window_one;
  window_one.finish_window = 1.0;
  const FluidRun coarse = run_fluid(cap, s, window_one);
  EXPECT_DOUBLE_EQ(coarse.finish_s[0], 2.0);
  EXPECT_DOUBLE_EQ(coarse.finish_s[1], 4.0);
  EXPECT_EQ(coarse.events, 1);
  // Five flows (1, 1, 1, 1, 2 B) on 5 B/s: 1 B/s each until four end at 1 s; the last has 1 B
  // left at 5 B/s and ends at 1.2 s (the index is rebuilt without the finished four).
  FlowSet five;
  for (double b : {1.0, 1.0, 1.0, 1.0, 2.0}) five.add(std::vector<std::int32_t>{0}, b);
  const FluidRun r5 = run_fluid(std::vector<double>{5}, five);
  EXPECT_DOUBLE_EQ(r5.finish_s[0], 1.0);
  EXPECT_DOUBLE_EQ(r5.finish_s[4], 1.2);
  EXPECT_EQ(r5.events, 2);
  // Progress after each event: the four at 1 s, then the fifth; the times are unchanged.
  std::vector<std::pair<std::int64_t, std::int64_t>> seen;
  FluidOptions watched;
  watched.progress = [&](std::int64_t finished, std::int64_t flows) {
    seen.emplace_back(finished, flows);
  };
  const FluidRun w5 = run_fluid(std::vector<double>{5}, five, watched);
  EXPECT_EQ(seen, (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 5}, {5, 5}}));
  EXPECT_EQ(w5.finish_s, r5.finish_s);
}

TEST(FabricMaxMin, FlowsThatShareNoResourceRunApart) {
  // Resources 0-5: flows {0,1} and {1,2} share 1; {3} and {4,3} share 3; {5} is alone.
  FlowSet s;
  for (const std::vector<std::int32_t>& path :
       std::vector<std::vector<std::int32_t>>{{0, 1}, {1, 2}, {3}, {4, 3}, {5}})
    s.add(path, 1);
  EXPECT_EQ(flow_components(6, s), (std::vector<std::vector<std::int32_t>>{{0, 1}, {2, 3}, {4}}));
  // Two components: 100 and 200 B on a 100 B/s link (done at 2 and 3 s, as above), and 50 B
  // alone on a 10 B/s link (5 s). Each event recomputes one component: 2 + 1 events.
  FlowSet two;
  two.add(std::vector<std::int32_t>{0}, 100);
  two.add(std::vector<std::int32_t>{1}, 50);
  two.add(std::vector<std::int32_t>{0}, 200);
  std::vector<std::int64_t> finished;
  FluidOptions watched;
  watched.progress = [&](std::int64_t done, std::int64_t flows) {
    EXPECT_EQ(flows, 3);
    finished.push_back(done);
  };
  const FluidRun run = run_fluid(std::vector<double>{100, 10}, two, watched);
  EXPECT_EQ(run.finish_s, (std::vector<double>{2.0, 5.0, 3.0}));
  EXPECT_EQ(run.events, 3);
  EXPECT_EQ(finished, (std::vector<std::int64_t>{1, 2, 3}));  // across the components
}

TEST(FabricGraph, SmallFatTreeIsSizedToItsHosts) {
  const FabricGraph g(small_ft2());
  const FabricSizing& s = g.sizing();
  EXPECT_EQ(std::tuple(s.leaves, s.spines, s.switches, s.leaf_spine_cables),
            std::tuple(2, 2, 4, 4));
  EXPECT_DOUBLE_EQ(s.top_tier_port_fraction, 0.5);  // each radix-4 spine uses 2 ports
  EXPECT_FALSE(g.has_scale_up());                   // one GPU a node
  EXPECT_EQ(g.links(), 4 + 4 + 4 + 4 + 4 + 4);      // GPU-NIC, NIC-leaf, leaf-spine, both ways
  EXPECT_EQ(g.leaf_of_nic(1), 0);
  EXPECT_EQ(g.leaf_of_nic(2), 1);
  EXPECT_EQ(g.link_name(g.leaf_to_spine(1, 0)), "leaf 1 -> spine 0");
}

TEST(FabricGraph, ShippedClustersAreSizedAsThePaperBuildsThem) {
  // DeepSeek's 2048 H800: 8 planes, each 256 NICs on 8 leaves of 32 ports and 32 spines using
  // 8 of 64 ports.
  const FabricGraph mpft(load_cluster_file("deepseek-h800-2048"));
  const FabricSizing& s = mpft.sizing();
  EXPECT_EQ(std::tuple(s.trees, s.leaves, s.spines, s.switches, s.leaf_spine_cables),
            std::tuple(8, 64, 256, 320, 2048));
  EXPECT_DOUBLE_EQ(s.top_tier_port_fraction, 0.125);
  EXPECT_DOUBLE_EQ(s.leaf_port_fraction, 1.0);
  EXPECT_EQ(mpft.gpus(), 2048);
  EXPECT_EQ(mpft.link_name(mpft.nic_to_leaf(mpft.nic_of(9))), "nic1.1 -> leaf p1.0");
  EXPECT_DOUBLE_EQ(mpft.capacity_bytes_per_s(mpft.scale_up_out(0)), 160 * kGB);
  EXPECT_DOUBLE_EQ(mpft.capacity_bytes_per_s(mpft.gpu_to_nic(0)), 50 * kGB);  // 400 Gb/s
  EXPECT_DOUBLE_EQ(mpft.capacity_bytes_per_s(mpft.nic_to_leaf(0)), 40 * kGB);
  EXPECT_DOUBLE_EQ(mpft.capacity_bytes_per_s(mpft.leaf_to_spine(0, 0)), 40 * kGB);
  // H100 x 256, rail-optimized: 8 rails of one 32-port leaf each, 32 shared spines.
  const FabricGraph mrft(load_cluster_file("h100-ib-256"));
  EXPECT_EQ(std::tuple(mrft.sizing().trees, mrft.sizing().leaves, mrft.sizing().spines),
            std::tuple(1, 8, 32));
  EXPECT_EQ(mrft.leaf_of_nic(mrft.nic_of(11)), 3);  // node 1, GPU 3: rail 3
  EXPECT_EQ(mrft.vertex_name(mrft.link_to(mrft.nic_to_leaf(3))), "leaf r3.0");
}

TEST(FabricRouting, EcmpCollisionHalvesTheRatesAdaptiveAndStaticDoNot) {
  const FabricGraph g(small_ft2());
  const std::vector<Flow> flows = {{0, 2, 1e6}, {1, 3, 1e6}};  // both leaf 0 -> leaf 1
  int collide = -1, spread = -1;
  for (int seed = 0; seed < 64 && (collide < 0 || spread < 0); ++seed) {
    const RoutingOptions o{RoutingPolicy::kEcmp, true, static_cast<std::uint64_t>(seed)};
    const bool same = route_flow(g, 0, 2, 0, o).spine == route_flow(g, 1, 3, 1, o).spine;
    (same ? collide : spread) = seed;
  }
  ASSERT_GE(collide, 0);
  ASSERT_GE(spread, 0);
  const RoutingOptions bad{RoutingPolicy::kEcmp, true, static_cast<std::uint64_t>(collide)};
  const RoutingOptions good{RoutingPolicy::kEcmp, true, static_cast<std::uint64_t>(spread)};
  for (double r : routed_rates(g, flows, bad)) EXPECT_DOUBLE_EQ(r, 20 * kGB);  // 40 shared
  for (double r : routed_rates(g, flows, good)) EXPECT_DOUBLE_EQ(r, 40 * kGB);
  EXPECT_EQ(simulate_phase(g, flows, bad).collided_flows, 2);
  EXPECT_EQ(simulate_phase(g, flows, good).collided_flows, 0);
  EXPECT_DOUBLE_EQ(simulate_phase(g, flows, bad).spine_imbalance, 2.0);  // 2 flows, fair 1
  EXPECT_DOUBLE_EQ(simulate_phase(g, flows, good).spine_imbalance, 1.0);
  // The LFT sends destination port 0 (host 2) up spine 0 and port 1 (host 3) up spine 1.
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  EXPECT_EQ(route_flow(g, 0, 2, 0, lft).spine, 0);
  EXPECT_EQ(route_flow(g, 1, 3, 1, lft).spine, 1);
  for (double r : routed_rates(g, flows, lft)) EXPECT_DOUBLE_EQ(r, 40 * kGB);
  // Adaptive: each flow half on each spine; the bundle of 2 x 40 carries both at the NIC rate.
  const RoutingOptions ar{RoutingPolicy::kAdaptive, true, 0};
  EXPECT_EQ(route_flow(g, 0, 2, 0, ar).spine, -1);
  for (double r : routed_rates(g, flows, ar)) EXPECT_DOUBLE_EQ(r, 40 * kGB);
  // Phase time with latency: 1 MB at 20 GB/s = 50 us, plus 2 x 1 us + 2 x 1 us = 4 us.
  EXPECT_NEAR(simulate_phase(g, flows, bad).time_s, 54e-6, 1e-12);
}

TEST(FabricRouting, EcmpSpreadMatchesBallsInBins) {
  // Radix 16: 2 leaves of 8 hosts, 8 spines. 8 flows leaf 0 -> leaf 1 hashed into 8 spines.
  // Expected empty spines s(1 - 1/s)^k = 8 (7/8)^8 = 2.7488 (sd 0.894 per trial, so 0.014 over
  // 4000 seeds); a flow shares its spine with another with probability 1 - (7/8)^7 = 0.6073.
  const FabricGraph g(cluster(FabricKind::kFatTree2, 16, 1, 1, 16));
  std::vector<Flow> flows;
  for (std::int32_t i = 0; i < 8; ++i) flows.push_back({i, 8 + i, 1e6});
  const int seeds = 4000;
  double empty = 0, collided = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    const RoutingOptions o{RoutingPolicy::kEcmp, true, static_cast<std::uint64_t>(seed)};
    std::vector<int> load(8, 0);
    for (size_t i = 0; i < flows.size(); ++i)
      ++load[static_cast<size_t>(route_flow(g, flows[i].src_gpu, flows[i].dst_gpu, i, o).spine)];
    for (int n : load) empty += n == 0;
    collided += static_cast<double>(simulate_phase(g, flows, o).collided_flows) / 8;
  }
  EXPECT_NEAR(empty / seeds, 8 * std::pow(7.0 / 8, 8), 0.06);
  EXPECT_NEAR(collided / seeds, 1 - std::pow(7.0 / 8, 7), 0.02);
}

TEST(FabricRouting, PxnMovesCrossRailTrafficOntoNvlink) {
  // H100 x 256 (multi-rail): GPU 0 (node 0, rail 0) to GPU 11 (node 1, rail 3).
  const FabricGraph g(load_cluster_file("h100-ib-256"));
  const Route pxn = route_flow(g, 0, 11, 0, {RoutingPolicy::kEcmp, true, 0});
  ASSERT_EQ(pxn.hops, 6);  // NVLink to GPU 3, its NIC, rail 3's leaf (both nodes on it)
  EXPECT_EQ(pxn.resources[0], g.scale_up_out(0));
  EXPECT_EQ(pxn.resources[1], g.scale_up_in(3));
  EXPECT_EQ(pxn.resources[2], g.gpu_to_nic(3));
  EXPECT_EQ(pxn.relay_gpu, 3);
  EXPECT_NEAR(pxn.latency_s, 3.33e-6 + 2.8e-6, 1e-15);  // NVLink + same leaf
  // Without PXN the flow crosses rails through a shared spine: 3.7 us, no NVLink.
  const Route direct = route_flow(g, 0, 11, 0, {RoutingPolicy::kEcmp, false, 0});
  ASSERT_EQ(direct.hops, 6);
  EXPECT_EQ(direct.resources[0], g.gpu_to_nic(0));
  EXPECT_EQ(g.link_kind(direct.resources[2]), LinkKind::kLeafToSpine);
  EXPECT_EQ(direct.relay_gpu, -1);
  EXPECT_NEAR(direct.latency_s, 3.7e-6, 1e-15);
  // MPFT without PXN: plane 0 to node 1's GPU 8, then node 1's NVLink to GPU 11.
  const FabricGraph mpft(load_cluster_file("deepseek-h800-2048"));
  const Route fwd = route_flow(mpft, 0, 11, 0, {RoutingPolicy::kEcmp, false, 0});
  ASSERT_EQ(fwd.hops, 6);
  EXPECT_EQ(fwd.resources[0], mpft.gpu_to_nic(0));
  EXPECT_EQ(fwd.resources[4], mpft.scale_up_out(8));
  EXPECT_EQ(fwd.resources[5], mpft.scale_up_in(11));
  EXPECT_EQ(fwd.relay_gpu, 8);
  EXPECT_EQ(route_flow(mpft, 0, 11, 0, {}).relay_gpu, 3);  // PXN on by default
  // Same rail: no NVLink either way.
  EXPECT_EQ(route_flow(mpft, 0, 8, 0, {}).relay_gpu, -1);
}

TEST(FabricCollectives, RingAllGatherInOneNodeRunsAtTheNvlinkRate) {
  // 8 GPUs on NVLink: each step every GPU sends size/8 over its own 160 GB/s link; 7 steps of
  // size/8/160 GB/s + 3 us. busbw = size/time x 7/8 = 160 GB/s x fluid / (fluid + latency).
  const FabricGraph g(cluster(FabricKind::kNone, 1, 8, 0, 4));
  const double size = 8.0 * (1 << 30);
  const CollectiveResult r = simulate_collective(g, ring_all_gather(rank_groups(8, 8), size), {});
  const double fluid = size / 8 / (160 * kGB);
  EXPECT_NEAR(r.time_s, 7 * (fluid + 3e-6), 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s / (160 * kGB * fluid / (fluid + 3e-6)), 1.0, 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s / (160 * kGB), 1.0, 1e-3);
  EXPECT_EQ(r.flows, 7 * 8);
  // Every TP group of DeepSeek's 2048 GPUs at once (TP 8, 4, 2 all inside a node): the same.
  const FabricGraph ds(load_cluster_file("deepseek-h800-2048"));
  for (std::int32_t tp : {8, 4, 2}) {
    const CollectiveResult t =
        simulate_collective(ds, ring_all_gather(rank_groups(2048, tp), size), {});
    const double f = size / tp / (160 * kGB);
    EXPECT_NEAR(t.busbw_bytes_per_s / (160 * kGB * f / (f + 3.33e-6)), 1.0, 1e-9) << tp;
    EXPECT_EQ(t.groups, 2048 / tp);
  }
}

TEST(FabricCollectives, ChannelsSplitAHopAndEcmpHashesThemApart) {
  // Rings {0, 2} and {1, 3} on the radix-4 FT2: leaf 0 (hosts 0, 1) sends both rings' hops
  // across to leaf 1 over its 2 uplinks, and leaf 1 both back.
  const FabricGraph g(small_ft2());
  const double size = 1.0 * (1 << 30);
  const RankGroups rings = rank_groups(4, 2, 2);
  // 4 channels: each hop 4 flows of a quarter of its bytes (size / 2 ranks / 4).
  const Collective c4 = ring_all_gather(rings, size, 4);
  ASSERT_EQ(c4.phases.size(), 1u);
  ASSERT_EQ(c4.phases[0].flows.size(), 16u);
  for (const Flow& f : c4.phases[0].flows) EXPECT_EQ(f.bytes, size / 8);
  EXPECT_EQ(c4.phases[0].flows[0].dst_gpu, 2);
  EXPECT_EQ(c4.phases[0].flows[3].dst_gpu, 2);
  // Static routing is per destination: the channels take their hop's path, the same time.
  const RoutingOptions st{RoutingPolicy::kStatic, true, 0};
  const double one = simulate_collective(g, ring_all_gather(rings, size), st).time_s;
  EXPECT_NEAR(simulate_collective(g, c4, st).time_s, one, 1e-12);
  // ECMP: one flow a hop puts leaf 0's two hops on one uplink half the time (they share it:
  // twice the time); 8 channels a hop spread 16 flows, which rarely load one uplink twice as
  // much as the other. The mean over 64 seeds falls.
  double t1 = 0, t8 = 0;
  int collided = 0;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    const RoutingOptions o{RoutingPolicy::kEcmp, true, seed};
    const double a = simulate_collective(g, ring_all_gather(rings, size), o).time_s;
    collided += a > 1.5 * one;
    t1 += a / 64;
    t8 += simulate_collective(g, ring_all_gather(rings, size, 8), o).time_s / 64;
  }
  // Either leaf colliding doubles the step: 1 - (1/2)^2 = 3/4 of the seeds, +-5.5 sigma.
  EXPECT_NEAR(collided / 64.0, 0.75, 0.3);
  EXPECT_LT(t8, 0.85 * t1);
  EXPECT_GE(t8, one * (1 - 1e-12));
  EXPECT_THROW(ring_all_gather(rings, size, 0), cobench::Error);
}

TEST(FabricCollectives, TheFig8ClusterFileSpreadsEcmpWithChannels) {
  // tests/data/fabric/deepseek-h800-roce-ft2.yaml, the setup of --paper's Fig 8 rows and of
  // docs/model.md's channel table: TP 8 rings, one rank a leaf. Static: each hop alone on its
  // spine at 40 GB/s, busbw 40 GB/s x f / (f + 5.6 us), f = 1 GiB / 8 / 40 GB/s (worked as in
  // PaperReport.Fig8EcmpFallsWellBelowAdaptiveAndStatic). ECMP (seed 0) below it, and higher
  // with 4 channels a hop than with 1.
  const FabricGraph g(load_cluster_file(std::string(COBENCH_TEST_DATA_DIR) +
                                        "/fabric/deepseek-h800-roce-ft2.yaml"));
  const RankGroups tp8 = rank_groups(g.gpus(), 8, 64);
  const double size = 1.0 * (1 << 30), f = size / 8 / (40 * kGB);
  const RoutingOptions st{RoutingPolicy::kStatic, true, 0}, ecmp{RoutingPolicy::kEcmp, true, 0};
  EXPECT_NEAR(simulate_collective(g, ring_all_gather(tp8, size), st).busbw_bytes_per_s,
              40 * kGB * f / (f + 5.6e-6), 1e3);
  const double one = simulate_collective(g, ring_all_gather(tp8, size), ecmp).busbw_bytes_per_s;
  const double four = simulate_collective(g, ring_all_gather(tp8, size, 4), ecmp).busbw_bytes_per_s;
  EXPECT_LT(one, 0.5 * 40 * kGB);
  EXPECT_GT(four, 1.3 * one);
}

TEST(FabricCollectives, RingAllGatherOnAFullBisectionTreeRunsAtTheNicRate) {
  // The radix-4 FT2, adaptive routing, ring 0-1-2-3: flows 1->2 and 3->0 cross leaves (4 us),
  // each at 40 GB/s (a bundle of 2 x 40 holds one flow). Step = size/4/40 GB/s + 4 us.
  const FabricGraph g(small_ft2());
  const double size = 1.0 * (1 << 30);
  const RoutingOptions ar{RoutingPolicy::kAdaptive, true, 0};
  const CollectiveResult r = simulate_collective(g, ring_all_gather(rank_groups(4, 4), size), ar);
  const double fluid = size / 4 / (40 * kGB);
  EXPECT_NEAR(r.time_s, 3 * (fluid + 4e-6), 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s / (40 * kGB * fluid / (fluid + 4e-6)), 1.0, 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s / (40 * kGB), 1.0, 1e-3);
  // DeepSeek's MPFT: the 8 rings of one GPU per node (stride 8), one per plane, at once.
  const FabricGraph ds(load_cluster_file("deepseek-h800-2048"));
  const CollectiveResult d =
      simulate_collective(ds, ring_all_gather(rank_groups(2048, 256, 8), size), ar);
  const double f = size / 256 / (40 * kGB);
  EXPECT_NEAR(d.busbw_bytes_per_s / (40 * kGB * f / (f + 3.7e-6)), 1.0, 1e-9);
  EXPECT_EQ(d.ranks, 256);
}

TEST(FabricCollectives, AllToAllOnTheSmallTreeAndItsLinkLoads) {
  // 4 hosts, adaptive: each sends size/4 to 3 peers; every NIC-leaf link carries 3 flows at
  // 40/3 GB/s (a leaf's 80 GB/s uplink bundle carries 4 of them: 53 GB/s, not full). Fluid
  // time = (size/4) / (40/3 GB/s); busbw = size/time x 3/4 = 40 GB/s x fluid/(fluid + 4 us).
  const FabricGraph g(small_ft2());
  const double size = 1.0 * (1 << 30);
  const CollectiveResult r = simulate_collective(g, all_to_all(rank_groups(4, 4), size),
                                                 {RoutingPolicy::kAdaptive, true, 0});
  const double fluid = size / 4 / (40 * kGB / 3);
  EXPECT_EQ(r.flows, 12);
  EXPECT_NEAR(r.phases.at(0).fluid_time_s / fluid, 1.0, 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s / (40 * kGB * fluid / (fluid + 4e-6)), 1.0, 1e-12);
  ASSERT_EQ(r.hottest_links.size(), kHottestLinks);
  const LinkKind hot = g.link_kind(r.hottest_links[0].link);
  EXPECT_TRUE(hot == LinkKind::kNicToLeaf || hot == LinkKind::kLeafToNic);
  EXPECT_NEAR(r.hottest_links[0].utilization, fluid / (fluid + 4e-6), 1e-12);
  // Leaf 0's uplinks: hosts 0 and 1 each send size/4 to hosts 2 and 3 (size in all), half on
  // each of the 2 spines.
  EXPECT_NEAR(r.link_bytes[static_cast<size_t>(g.leaf_to_spine(0, 1))], size / 2, 1e-3);
  EXPECT_EQ(r.ecmp_collision_fraction, 0.0);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::kAllToAll, 4), 0.75);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::kAllReduce, 4), 1.5);
}

// The fabric with the failures of `specs` applied.
FabricGraph failed_graph(const ClusterSpec& c, const std::vector<std::string>& specs) {
  FabricGraph g(c);
  std::vector<LinkFailure> failures;
  for (const std::string& s : specs) failures.push_back(parse_link_failure(g, s));
  apply_link_failures(g, failures);
  return g;
}

TEST(FabricFailures, OneDeadUplinkHalvesTheFlowsItCarried) {
  // The radix-4 FT2 with the cable leaf 0 <-> spine 0 cut: leaf 0 reaches leaf 1 through spine 1
  // alone (40 GB/s a direction). Flows 0->2 and 1->3 share it: 20 GB/s each under every
  // policy (healthy: static and adaptive give 40 each). The reverse flows 2->0 and 3->1 come
  // down spine 1 alone: 20 each too.
  const FabricGraph g = failed_graph(small_ft2(), {"uplink:0:0"});
  EXPECT_EQ(g.failed_links(), 2);  // both directions of the cable
  EXPECT_FALSE(g.link_up(g.leaf_to_spine(0, 0)));
  EXPECT_FALSE(g.link_up(g.spine_to_leaf(0, 0)));
  EXPECT_TRUE(g.link_up(g.leaf_to_spine(1, 0)));
  EXPECT_EQ(g.capacity_bytes_per_s(g.leaf_to_spine(0, 0)), 0.0);
  const std::vector<Flow> out = {{0, 2, 1e6}, {1, 3, 1e6}}, back = {{2, 0, 1e6}, {3, 1, 1e6}};
  for (RoutingPolicy p : {RoutingPolicy::kEcmp, RoutingPolicy::kStatic, RoutingPolicy::kAdaptive})
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      const RoutingOptions o{p, true, seed};
      for (double r : routed_rates(g, out, o)) EXPECT_DOUBLE_EQ(r, 20 * kGB) << to_string(p);
      for (double r : routed_rates(g, back, o)) EXPECT_DOUBLE_EQ(r, 20 * kGB) << to_string(p);
      if (p != RoutingPolicy::kAdaptive) {
        EXPECT_EQ(route_flow(g, 0, 2, 0, o).spine, 1);
      }
    }
  // A lone flow loses nothing: 40 GB/s on spine 1.
  for (double r : routed_rates(g, {{0, 2, 1e6}}, {RoutingPolicy::kStatic, true, 0}))
    EXPECT_DOUBLE_EQ(r, 40 * kGB);
  // The healthy fabric under static routing: 40 each. 1 MB at 20 GB/s = 50 us + 4 us of path
  // latency, against 25 + 4 us.
  const FabricGraph healthy(small_ft2());
  for (double r : routed_rates(healthy, out, {RoutingPolicy::kStatic, true, 0}))
    EXPECT_DOUBLE_EQ(r, 40 * kGB);
  EXPECT_NEAR(simulate_phase(g, out, {RoutingPolicy::kStatic, true, 0}).time_s, 54e-6, 1e-12);
  EXPECT_NEAR(simulate_phase(healthy, out, {RoutingPolicy::kStatic, true, 0}).time_s, 29e-6, 1e-12);
}

TEST(FabricFailures, StaticMovesOnlyTheDeadPathsFlowsEcmpRehashesAdaptiveSpreads) {
  // Radix 8: 2 leaves of 4 hosts, 4 spines; flow i -> 4 + i (i = 0..3). Static: destination
  // port i, spine i, one flow a spine, 40 GB/s each. Cut leaf 0 <-> spine 1: flow 1->5 fails
  // over to spine 2, which keeps 2->6: 40, 20, 20, 40. Adaptive: leaf 0's 3 live uplinks
  // (120 GB/s) for 4 flows: 30 each. ECMP: the hash picks among spines 0, 2, 3.
  const ClusterSpec c = cluster(FabricKind::kFatTree2, 8, 1, 1, 8);
  const FabricGraph g = failed_graph(c, {"uplink:0:1"});
  std::vector<Flow> flows;
  for (std::int32_t i = 0; i < 4; ++i) flows.push_back({i, 4 + i, 1e6});
  const RoutingOptions lft{RoutingPolicy::kStatic, true, 0};
  EXPECT_EQ(route_flow(g, 1, 5, 1, lft).spine, 2);
  const std::vector<double> st = routed_rates(g, flows, lft);
  EXPECT_DOUBLE_EQ(st[0], 40 * kGB);
  EXPECT_DOUBLE_EQ(st[1], 20 * kGB);
  EXPECT_DOUBLE_EQ(st[2], 20 * kGB);
  EXPECT_DOUBLE_EQ(st[3], 40 * kGB);
  for (double r : routed_rates(g, flows, {RoutingPolicy::kAdaptive, true, 0}))
    EXPECT_DOUBLE_EQ(r, 30 * kGB);
  // ECMP over 3000 seeds: flow 0 on each live spine a third of the time (sd 0.0086), never on 1.
  std::vector<int> hits(4, 0);
  const int seeds = 3000;
  for (int seed = 0; seed < seeds; ++seed)
    ++hits[static_cast<size_t>(
        route_flow(g, 0, 4, 0, {RoutingPolicy::kEcmp, true, static_cast<std::uint64_t>(seed)})
            .spine)];
  EXPECT_EQ(hits[1], 0);
  for (int s : {0, 2, 3}) EXPECT_NEAR(hits[static_cast<size_t>(s)] / double(seeds), 1.0 / 3, 0.04);
  // The healthy fabric routes ECMP as before the failure code existed (same hash, 4 spines).
  const FabricGraph healthy(c);
  for (std::uint64_t seed = 0; seed < 16; ++seed)
    EXPECT_EQ(route_flow(healthy, 0, 4, 0, {RoutingPolicy::kEcmp, true, seed}).spine,
              ecmp_spine(0, 4, 0, seed, 4));
}

TEST(FabricFailures, APlaneDownMovesItsTrafficToTheOtherPlane) {
  // An MPFT of 4 nodes x 2 GPUs, 2 NICs (planes), radix 4: each plane 2 leaves of 2 nodes.
  // Flows 0 -> 2 (plane 0) and 1 -> 3 (plane 1), nodes 0 -> 1 on the same leaf: 40 GB/s each.
  // Plane 1 down: 1 -> 3 crosses NVLink to GPU 0, plane 0, then NVLink from GPU 2 to GPU 3;
  // both flows share NIC 0.0's 40 GB/s: 20 each. 1 MB: 50 us + 3 + 2 + 3 us latency.
  const ClusterSpec c = cluster(FabricKind::kMultiPlaneFatTree, 4, 2, 2, 4, 2);
  const FabricGraph g = failed_graph(c, {"plane:1"});
  const FabricGraph healthy(c);
  EXPECT_EQ(g.failed_links(), 4 * 2 + 2 * 2 * 2);  // 4 NICs both ways, 2 leaves x 2 spines x 2
  const std::vector<Flow> flows = {{0, 2, 1e6}, {1, 3, 1e6}};
  const RoutingOptions pxn{RoutingPolicy::kEcmp, true, 0};
  const Route r = route_flow(g, 1, 3, 1, pxn);
  ASSERT_EQ(r.hops, 8);
  EXPECT_EQ(r.resources[0], g.scale_up_out(1));
  EXPECT_EQ(r.resources[2], g.gpu_to_nic(0));
  EXPECT_EQ(r.resources[6], g.scale_up_out(2));
  for (double rate : routed_rates(g, flows, pxn)) EXPECT_DOUBLE_EQ(rate, 20 * kGB);
  for (double rate : routed_rates(healthy, flows, pxn)) EXPECT_DOUBLE_EQ(rate, 40 * kGB);
  EXPECT_NEAR(simulate_phase(g, flows, pxn).time_s, 58e-6, 1e-12);
  // PXN toward the dead plane: GPU 0 -> GPU 3 would relay to GPU 1 (plane 1); it stays on
  // plane 0 and is forwarded by node 1's NVLink from GPU 2.
  const Route x = route_flow(g, 0, 3, 0, pxn);
  EXPECT_EQ(x.resources[0], g.gpu_to_nic(0));
  EXPECT_EQ(x.relay_gpu, 2);
  EXPECT_EQ(route_flow(healthy, 0, 3, 0, pxn).relay_gpu, 1);
  // A multi-rail tree's rail 1 down: GPU 0 -> GPU 3 (rail 1) cannot use PXN's relay or GPU 3's
  // NIC; it leaves on rail 0 and node 1's GPU 2 forwards it over NVLink.
  const FabricGraph mr = failed_graph(cluster(FabricKind::kMultiRail, 4, 2, 2, 4), {"rail:1"});
  const Route m = route_flow(mr, 0, 3, 0, pxn);
  EXPECT_EQ(m.resources[0], mr.gpu_to_nic(0));
  EXPECT_EQ(m.relay_gpu, 2);
  EXPECT_EQ(m.resources[static_cast<size_t>(m.hops - 1)], mr.scale_up_in(3));
}

TEST(FabricFailures, APlaneDownCostsTheAllToAllAQuarterMoreTime) {
  // DeepSeek's MPFT, an all-to-all among 128 GPUs (16 nodes on one leaf a plane: no spine, so
  // every routing alike). With PXN each node's plane-j NIC sends its 8 GPUs' chunks to local j
  // of the 15 other nodes: 120 chunks. Plane 0 down: a chunk for local 0 leaves on the source's
  // own plane i (i >= 1) and crosses the destination node's NVLink; local 0's own chunks for
  // local 0 take the next live plane, 1. Plane 1's NIC: 120 + 15 + 15 = 150 chunks, the others
  // 135; every NIC link is the bottleneck of its own flows, so the fluid time is 150/120 = 1.25x.
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const FabricGraph healthy(c);
  const FabricGraph g = failed_graph(c, {"plane:0"});
  const Collective a2a = all_to_all(rank_groups(128, 128), 1 << 30);
  const CollectiveResult h = simulate_collective(healthy, a2a, {RoutingPolicy::kAdaptive, true, 0});
  const CollectiveResult f = simulate_collective(g, a2a, {RoutingPolicy::kAdaptive, true, 0});
  EXPECT_NEAR(f.phases.at(0).fluid_time_s / h.phases.at(0).fluid_time_s, 1.25, 1e-9);
  EXPECT_NEAR(f.link_bytes[static_cast<size_t>(g.nic_to_leaf(g.nic_of(1)))] /
                  h.link_bytes[static_cast<size_t>(g.nic_to_leaf(g.nic_of(1)))],
              1.25, 1e-9);
  EXPECT_EQ(f.link_bytes[static_cast<size_t>(g.nic_to_leaf(g.nic_of(0)))], 0.0);
}

TEST(FabricFailures, BadSpecsNameTheRange) {
  const FabricGraph ft2(small_ft2());
  EXPECT_NE(error_of([&] {
              parse_link_failure(ft2, "uplink:2:0");
            }).find("--fail 'uplink:2:0': leaf '2' is not in the fabric: expected 0 to 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_link_failure(ft2, "uplink:0:2");
            }).find("spine '2' is not in the tree: expected 0 to 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_link_failure(ft2, "uplink:0:-1"); }).find("expected 0 to 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_link_failure(ft2, "plane:0"); }).find("plane:N needs mpft"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { parse_link_failure(ft2, "spine:3"); }).find("expected uplink:LEAF:SPINE"),
      std::string::npos);
  const FabricGraph mpft(cluster(FabricKind::kMultiPlaneFatTree, 4, 2, 2, 4, 2));
  EXPECT_NE(error_of([&] {
              parse_link_failure(mpft, "uplink:p2.0:0");
            }).find("plane 2 is not in the fabric: expected p0 to p1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_link_failure(mpft, "uplink:1:0"); }).find("expected p0.0 to p1.1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_link_failure(mpft, "plane:2"); }).find("expected 0 to 1"),
            std::string::npos);
  // Every path cut: the flow is refused, naming the leaves.
  const FabricGraph cut = failed_graph(small_ft2(), {"uplink:0:0", "uplink:0:1"});
  EXPECT_NE(
      error_of([&] { route_flow(cut, 0, 2, 0, {}); }).find("no live spine joins leaf 0 to leaf 1"),
      std::string::npos);
  // Both planes down: nothing crosses nodes.
  const FabricGraph dark =
      failed_graph(cluster(FabricKind::kMultiPlaneFatTree, 4, 2, 2, 4, 2), {"plane:0", "plane:1"});
  EXPECT_NE(error_of([&] { route_flow(dark, 0, 2, 0, {}); }).find("no live plane or rail"),
            std::string::npos);
}

TEST(FabricTraffic, AFileGivesTheFlowsOfOnePhase) {
  // Comments, blank lines, a size in bytes and one with a unit: the two flows leaf 0 -> leaf 1
  // of the radix-4 tree. Static routing puts them on spines 0 and 1: 40 GB/s each, 1 MB in
  // 25 us + 4 us of path latency; algbw = the most one GPU sends (1 MB) / 29 us.
  const std::vector<Flow> flows =
      parse_traffic("# two flows\n\n0 2 1000000\n\t1  3 1MB # a unit\n", "t.traffic", 4);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(std::tuple(flows[1].src_gpu, flows[1].dst_gpu, flows[1].bytes), std::tuple(1, 3, 1e6));
  const Collective c = traffic_matrix(flows);
  EXPECT_EQ(c.kind, CollectiveKind::kMatrix);
  EXPECT_EQ(c.ranks, 4);
  EXPECT_DOUBLE_EQ(c.size_bytes, 1e6);
  const FabricGraph g(small_ft2());
  const CollectiveResult r = simulate_collective(g, c, {RoutingPolicy::kStatic, true, 0});
  EXPECT_NEAR(r.time_s, 29e-6, 1e-12);
  EXPECT_NEAR(r.busbw_bytes_per_s, 1e6 / 29e-6, 1e-3);
  // Two flows from GPU 0 (3 MB in all): the size is the busiest sender's.
  EXPECT_DOUBLE_EQ(traffic_matrix(parse_traffic("0 2 1e6\n0 3 2e6\n", "t", 4)).size_bytes, 3e6);
  // The shipped example file.
  EXPECT_EQ(load_traffic_file(std::string(COBENCH_TEST_DATA_DIR) + "/fabric/two_flows.traffic", 256)
                .size(),
            2u);
}

TEST(FabricTraffic, BadLinesAreRefusedAtFileLineColumn) {
  auto err = [](const char* text, std::int32_t gpus = 4) {
    return error_of([&] { parse_traffic(text, "t.traffic", gpus); });
  };
  EXPECT_NE(err("0 2\n").find("t.traffic:1:1: expected 'SRC DST BYTES', got 2 field(s)"),
            std::string::npos);
  EXPECT_NE(err("# c\n\n0 2 5\n3 x 5\n").find("t.traffic:4:3: DST 'x': expected a whole GPU id"),
            std::string::npos);
  EXPECT_NE(err("0 4 5\n").find(
                "t.traffic:1:3: DST GPU 4 is out of range: the simulation holds GPUs 0 to 3"),
            std::string::npos);
  EXPECT_NE(err("-1 2 5\n").find("t.traffic:1:1: SRC GPU -1 is out of range"), std::string::npos);
  EXPECT_NE(err("0 2 -5\n").find("t.traffic:1:5: BYTES '-5': expected a positive, finite size"),
            std::string::npos);
  EXPECT_NE(err("0 2 -5MiB\n").find("BYTES '-5MiB': expected a positive, finite size"),
            std::string::npos);
  EXPECT_NE(err("0 2 0\n").find("expected a positive, finite size"), std::string::npos);
  EXPECT_NE(err("0 2 nan\n").find("expected a positive, finite size"), std::string::npos);
  // Whole bytes: half of one, or an eighth (1 bit), printed busbw in 1e-06 GB/s.
  EXPECT_NE(
      err("0 2 0.5\n")
          .find("t.traffic:1:5: BYTES '0.5': expected a whole number of bytes >= 1, got 0.5 B"),
      std::string::npos);
  EXPECT_NE(err("0 2 1b\n").find("BYTES '1b': expected a whole number of bytes >= 1, got 0.125 B"),
            std::string::npos);
  EXPECT_EQ(printable("a\x1b\xef\xbb\xbf b"), "a\\x1b\\xef\\xbb\\xbf\\x20b");
  EXPECT_EQ(printable("abcdef", 3), "abc... (6 bytes)");
  EXPECT_NE(err("0 2 12parsecs\n")
                .find("t.traffic:1:5: BYTES '12parsecs': expected a number of "
                      "bytes or a size (64MiB)"),
            std::string::npos);
  EXPECT_NE(err("1 1 5\n").find("t.traffic:1:1: a flow from GPU 1 to itself"), std::string::npos);
  EXPECT_NE(err("# nothing\n\n").find("t.traffic: no flows"), std::string::npos);
  EXPECT_NE(err("0 1 5", 1).find("needs 2 or more GPUs"), std::string::npos);
  EXPECT_NE(error_of([] { load_traffic_file("/nonexistent/x.traffic", 4); }).find("x.traffic"),
            std::string::npos);
}

TEST(FabricErrors, BadInputsAreRefusedWithTheValue) {
  // 16 one-NIC hosts need 8 leaves of 2 ports; a radix-4 spine reaches 4.
  EXPECT_NE(error_of([] {
              FabricGraph g(cluster(FabricKind::kFatTree2, 16, 1, 1, 4));
            }).find("its 16 NICs need 8 leaves of 2 ports"),
            std::string::npos);
  EXPECT_NE(error_of([] { FabricGraph g(cluster(FabricKind::kSlimFly, 4, 1, 1, 4)); })
                .find("switch radix 4 is too small for a slim-fly (the smallest MMS graph, "
                      "q = 3, needs 5 network and 3 NIC ports a router)"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              FabricGraph g(cluster(static_cast<FabricKind>(42), 4, 1, 1, 4));
            }).find("is not simulated"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              FabricGraph g(cluster(FabricKind::kNone, 2, 8, 0, 4));
            }).find("has 2 nodes but fabric 'none'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              FabricGraph g(cluster(FabricKind::kMultiPlaneFatTree, 4, 2, 2, 4));
            }).find("got 1 planes for 2 NICs per node"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ring_all_gather(rank_groups(4, 4), 0);
            }).find("collective size 0 bytes: expected a positive, finite size"),
            std::string::npos);
  const FabricGraph g(small_ft2());
  EXPECT_NE(error_of([&] {
              simulate_phase(g, std::vector<Flow>{{0, 2, 0}}, {});
            }).find("flow 0 (GPU 0 to GPU 2) has 0 bytes"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              route_flow(g, 0, 99, 0, {});
            }).find("GPU 99 is not in the fabric: expected 0 to 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              simulate_collective(g, ring_all_gather(rank_groups(8, 8), 1e6), {});
            }).find("GPU 4 is not in the fabric"),
            std::string::npos);
  EXPECT_NE(error_of([] { rank_groups(10, 4); }).find("do not tile 10 GPUs"), std::string::npos);
  EXPECT_NE(error_of([] {
              parse_routing_policy("random");
            }).find("unknown routing 'random': expected ecmp, static or adaptive"),
            std::string::npos);
  EXPECT_NE(error_of([] { all_to_all(rank_groups(8192, 8192), 1e6); }).find("at most"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              FluidOptions negative;
              negative.finish_window = -0.5;
              run_fluid(std::vector<double>{1}, flow_set({{0}}), negative);
            }).find("finish window -0.5: expected 0 (exact) to 1"),
            std::string::npos);
  EXPECT_EQ(error_of([] {
              FluidOptions negative;
              negative.threads = -1;
              run_fluid(std::vector<double>{1}, flow_set({{0}}), negative);
            }),
            "-1 fluid threads: expected 0 (every hardware thread) or more");
  EXPECT_NE(error_of([] {
              run_fluid(std::vector<double>{0}, flow_set({{0}}));
            }).find("cross resource 0 of capacity 0"),
            std::string::npos);
  // An MPFT without NVLink cannot cross planes.
  ClusterSpec no_nvlink = cluster(FabricKind::kMultiPlaneFatTree, 4, 2, 2, 4, 2);
  no_nvlink.scale_up.domain_gpus = 1;
  const FabricGraph planes(no_nvlink);
  EXPECT_NE(error_of([&] {
              route_flow(planes, 0, 3, 0, {});
            }).find("a multi-plane fat tree's planes are disjoint"),
            std::string::npos);
}

}  // namespace
