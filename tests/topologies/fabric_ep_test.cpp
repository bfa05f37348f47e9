// SPDX-License-Identifier: Apache-2.0
// EP dispatch and combine traffic (fabric_ep.h) against hand-worked bytes and rates on a tiny
// multi-plane fabric, the sampled node-limited routing against its exact expectation and against a
// plain sort of the same draws, and the inputs it refuses.
#include "topologies/fabric_ep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_util.h"
#include "topologies/data_files.h"
#include "topologies/ep_group_sampler.h"

namespace {

using namespace cobench::topo;
using cobench::Bandwidth;
using cobench::Seconds;
using cobench::test::error_of;

constexpr double kGB = 1e9;

// 2 nodes x 2 GPUs, 2 NICs a node on 2 planes (radix 4: each plane one leaf, no spines); NVLink
// 160 GB/s achievable (3 us), NICs 40 GB/s achievable, 2 us within a leaf.
ClusterSpec tiny_mpft() {
  ClusterSpec c;
  c.name = "tiny";
  c.nodes = 2;
  c.node.gpus_per_node = 2;
  c.node.nics_per_node = 2;
  c.node.nic_speed = Bandwidth(50 * kGB);
  c.scale_up = {"NVLink", 2, Bandwidth(200 * kGB), Bandwidth(160 * kGB), Seconds(3e-6)};
  c.scale_out = {"InfiniBand", Bandwidth(40 * kGB), Seconds(2e-6), Seconds(4e-6)};
  c.fabric.kind = FabricKind::kMultiPlaneFatTree;
  c.fabric.planes = 2;
  c.fabric.switch_radix = 4;
  return c;
}

// Hidden 128,000: a dispatched copy 128,000 + 4 x 1000 = 132,000 B, a combined one 256,000 B.
constexpr double kHidden = 128000;
// 4 experts, one a GPU. Token A of GPU 0 picks experts 1, 2, 3 (GPU 1 on its node; GPUs 2 and 3
// on node 1); token B of GPU 3 picks expert 0; token C of GPU 0 picks expert 2.
const std::vector<EpTokenRoute> kTokens = {{0, {1, 2, 3}}, {3, {0}}, {0, {2}}};

double flow_bytes(const EpTraffic& t, std::int32_t src, std::int32_t dst) {
  double b = 0;
  for (const Flow& f : t.flows)
    if (f.src_gpu == src && f.dst_gpu == dst) b += f.bytes;
  return b;
}

TEST(FabricEp, DispatchBytesByHand) {
  const FabricGraph g(tiny_mpft());
  const EpTraffic t = ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kDispatch, kTokens);
  EXPECT_DOUBLE_EQ(t.payload_bytes, 132000);
  // Token-node pairs: A {0, 1}, B {0}, C {1}: 4, of them 3 off the token's node.
  EXPECT_EQ(t.tokens, 3);
  EXPECT_EQ(t.token_node_pairs, 4);
  EXPECT_EQ(t.remote_token_node_pairs, 3);
  // Network, over the source's own plane to the same local GPU: A and C 0 -> 2, B 3 -> 1.
  EXPECT_EQ(t.network_flows, 2);
  EXPECT_DOUBLE_EQ(flow_bytes(t, 0, 2), 264000);
  EXPECT_DOUBLE_EQ(flow_bytes(t, 3, 1), 132000);
  // NVLink: A forwarded by GPU 0 to GPU 1 and by GPU 2 to GPU 3 (GPU 2 holds expert 2 itself);
  // B by GPU 1 to GPU 0.
  EXPECT_EQ(t.nvlink_copies, 3);
  EXPECT_EQ(t.flows.size(), 5u);
  EXPECT_DOUBLE_EQ(flow_bytes(t, 0, 1), 132000);
  EXPECT_DOUBLE_EQ(flow_bytes(t, 2, 3), 132000);
  EXPECT_DOUBLE_EQ(flow_bytes(t, 1, 0), 132000);
  EXPECT_EQ(t.nic_bytes, (std::vector<double>{264000, 0, 0, 132000}));
  EXPECT_DOUBLE_EQ(t.network_bytes(), 396000);
  EXPECT_DOUBLE_EQ(t.logical_bytes(), 4 * 132000.0);
}

TEST(FabricEp, DispatchRatesByHand) {
  const FabricGraph g(tiny_mpft());
  const EpTraffic t = ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kDispatch, kTokens);
  const EpResult r = simulate_ep(g, t, RoutingOptions{});
  // No two flows share a link. The slowest: 264,000 B over GPU 0's NIC at 40 GB/s (6.6 us)
  // plus 2 us within the leaf: 8.6 us (NVLink: 132,000 B at 160 GB/s, 0.825 us + 3 us).
  EXPECT_NEAR(r.time_s, 8.6e-6, 1e-15);
  // Physical: 396,000 NIC bytes / 4 GPUs / 8.6 us = 11.5116 GB/s; the busiest NIC 264,000 /
  // 8.6 us = 30.6977 GB/s; logical: 4 pairs x 132,000 / 4 / 8.6 us = 15.3488 GB/s.
  EXPECT_NEAR(r.physical_bw_bytes_per_s / kGB, 99000 / 8.6e-6 / kGB, 1e-9);
  EXPECT_NEAR(r.physical_bw_bytes_per_s / kGB, 11.5116, 1e-4);
  EXPECT_NEAR(r.max_physical_bw_bytes_per_s / kGB, 30.6977, 1e-4);
  EXPECT_NEAR(r.logical_bw_bytes_per_s / kGB, 15.3488, 1e-4);
}

TEST(FabricEp, CombineIsDispatchReversedInBf16) {
  const FabricGraph g(tiny_mpft());
  const EpTraffic direct = ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kCombine, kTokens);
  const EpTraffic reversed = reverse_ep_traffic(
      ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kDispatch, kTokens), kHidden);
  for (const EpTraffic* t : {&direct, &reversed}) {
    EXPECT_DOUBLE_EQ(t->payload_bytes, 256000);
    EXPECT_DOUBLE_EQ(flow_bytes(*t, 2, 0), 512000);  // A and C back over plane 0
    EXPECT_DOUBLE_EQ(flow_bytes(*t, 1, 3), 256000);
    EXPECT_DOUBLE_EQ(flow_bytes(*t, 1, 0), 256000);  // NVLink to the relay
    EXPECT_DOUBLE_EQ(flow_bytes(*t, 3, 2), 256000);
    EXPECT_DOUBLE_EQ(flow_bytes(*t, 0, 1), 256000);
    EXPECT_EQ(t->nic_bytes, (std::vector<double>{0, 256000, 512000, 0}));
    const EpResult r = simulate_ep(g, *t, RoutingOptions{});
    // 512,000 B at 40 GB/s = 12.8 us + 2 us = 14.8 us; physical 768,000 / 4 / 14.8 us =
    // 12.9730 GB/s, logical 4 x 256,000 / 4 / 14.8 us = 17.2973 GB/s.
    EXPECT_NEAR(r.time_s, 14.8e-6, 1e-15);
    EXPECT_NEAR(r.physical_bw_bytes_per_s / kGB, 12.9730, 1e-4);
    EXPECT_NEAR(r.logical_bw_bytes_per_s / kGB, 17.2973, 1e-4);
  }
}

// A size that would route for an hour (a helper's sweep: --experts 16777216 on 256 GPUs) is
// refused before any token is routed, naming the sizes; the work counts the sampler's scores a
// token: every expert without a node limit (32 GPUs = 4 nodes), the reached nodes' experts and
// the nodes with one (256 GPUs = 32 nodes, at most 4 a token).
TEST(FabricEp, ASizeThatWouldRouteForAnHourIsRefused) {
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  EpTrafficOptions o;
  o.experts = 1 << 24;
  const std::string all = error_of([&] { ep_traffic(g, 32, o, EpDirection::kDispatch); });
  EXPECT_NE(all.find("32 GPUs x 4096 tokens x 16777216 expert scores a token (all-scores "
                     "sampler) = 2.2e+12, above the 1.72e+10"),
            std::string::npos)
      << all;
  const std::string group = error_of([&] { ep_traffic(g, 256, o, EpDirection::kDispatch); });
  // 16777216 / 32 nodes x 4 + 32 = 2097184 scores a token.
  EXPECT_NE(group.find("256 GPUs x 4096 tokens x 2097184 expert scores a token (group-order "
                       "sampler)"),
            std::string::npos)
      << group;
}

TEST(FabricEp, SampledRoutingMatchesTheExactExpectationWithoutALimit) {
  // 32 GPUs = 4 nodes, at most 4 nodes: no limit, so a token's experts are a uniform 8-subset of
  // 256 and E[nodes] = 4 x (1 - C(192, 8) / C(256, 8)) (routing.h, hypergeometric).
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  EpTrafficOptions o;
  o.tokens_per_gpu = 512;
  const EpTraffic t = ep_traffic(g, 32, o, EpDirection::kDispatch);
  // Progress from one thread as the GPUs are routed, never beyond the 32; the same traffic.
  std::vector<std::int64_t> routed;
  EpTrafficOptions watched = o;
  watched.progress = [&](std::int64_t done, std::int64_t gpus) {
    EXPECT_EQ(gpus, 32);
    routed.push_back(done);
  };
  const EpTraffic tw = ep_traffic(g, 32, watched, EpDirection::kDispatch);
  ASSERT_FALSE(routed.empty());
  EXPECT_TRUE(std::is_sorted(routed.begin(), routed.end()));
  EXPECT_GE(routed.front(), 1);
  EXPECT_LE(routed.back(), 32);
  EXPECT_EQ(tw.token_node_pairs, t.token_node_pairs);
  EXPECT_EQ(tw.nic_bytes, t.nic_bytes);
  RoutingShape shape;
  shape.groups = 4;
  shape.experts_per_gpu = 8;
  const double exact = expected_nodes_unlimited(shape);
  EXPECT_NEAR(exact, 3.6142, 1e-3);  // 4 x (1 - 0.096446)
  const double mean = static_cast<double>(t.token_node_pairs) / static_cast<double>(t.tokens);
  EXPECT_NEAR(mean, exact, 0.02);  // 16,384 tokens: a standard error of about 0.005
  // A token reaches its own node with probability E[nodes] / 4 (symmetry).
  EXPECT_NEAR(static_cast<double>(t.remote_token_node_pairs) / static_cast<double>(t.tokens),
              exact * 3 / 4, 0.02);
}

TEST(FabricEp, NodeLimitAndTheNicBound) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const FabricGraph g(c);
  EpTrafficOptions o;
  o.tokens_per_gpu = 256;
  o.max_nodes = 2;
  const EpTraffic t = ep_traffic(g, 64, o, EpDirection::kDispatch);
  // Every token reaches 1 or 2 of the 8 nodes; with 8 experts among 2 groups of 32, almost
  // always 2 (one group alone wins all 8 with probability well under 1%).
  const double nodes = static_cast<double>(t.token_node_pairs) / static_cast<double>(t.tokens);
  EXPECT_LE(nodes, 2.0);
  EXPECT_GT(nodes, 1.9);
  for (EpDirection d : {EpDirection::kDispatch, EpDirection::kCombine}) {
    const EpTraffic td = d == EpDirection::kDispatch ? t : reverse_ep_traffic(t, o.hidden);
    const EpResult r = simulate_ep(g, td, RoutingOptions{});
    // No NIC sends faster than the cluster's achievable 40 GB/s; logical / physical is the
    // token-node pairs over those that cross a NIC.
    EXPECT_LE(r.max_physical_bw_bytes_per_s, 40e9 * (1 + 1e-9));
    EXPECT_NEAR(
        r.logical_bw_bytes_per_s / r.physical_bw_bytes_per_s,
        static_cast<double>(t.token_node_pairs) / static_cast<double>(t.remote_token_node_pairs),
        1e-9);
  }
}

// The node-limited rule written plainly, by sorting, as a second implementation of the sampler
// in fabric_ep.cpp: its stream (SplitMix64, whose sequence ep_group_sampler_test.cpp checks; one
// a GPU seeded from seed ^ (GPU x 0xd1b54a32d192ed03), two 32-bit scores a draw, the high half
// for the even expert), group scores, the best M groups and the top-k of their experts, ties to
// the lower id.
std::vector<EpTokenRoute> reference_routes(std::int32_t gpus, std::int64_t nodes,
                                           const EpTrafficOptions& o) {
  const std::int64_t per_group = o.experts / nodes, m = std::min(o.max_nodes, nodes);
  std::vector<EpTokenRoute> routes;
  for (std::int32_t src = 0; src < gpus; ++src) {
    SplitMix64 rng{
        SplitMix64{o.seed ^ (static_cast<std::uint64_t>(src) * 0xd1b54a32d192ed03ULL)}.next()};
    for (std::int64_t t = 0; t < o.tokens_per_gpu; ++t) {
      std::vector<std::uint32_t> score(static_cast<size_t>(o.experts));
      for (size_t e = 0; e < score.size(); e += 2) {
        const std::uint64_t x = rng.next();
        score[e] = static_cast<std::uint32_t>(x >> 32);
        if (e + 1 < score.size()) score[e + 1] = static_cast<std::uint32_t>(x);
      }
      // (score, id) best first: higher score, then lower id.
      auto better = [](const std::pair<std::uint64_t, std::int64_t>& a,
                       const std::pair<std::uint64_t, std::int64_t>& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      };
      std::vector<std::pair<std::uint64_t, std::int64_t>> groups;
      for (std::int64_t gi = 0; gi < nodes; ++gi) {
        std::vector<std::uint32_t> s(score.begin() + gi * per_group,
                                     score.begin() + (gi + 1) * per_group);
        std::sort(s.begin(), s.end(), std::greater<>());
        const bool top2 = o.group_score == GroupScore::kTop2Sum && per_group >= 2;
        groups.emplace_back(std::uint64_t{s[0]} + (top2 ? s[1] : 0), gi);
      }
      std::sort(groups.begin(), groups.end(), better);
      std::vector<std::pair<std::uint64_t, std::int64_t>> experts;
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t e = groups[static_cast<size_t>(i)].second * per_group;
             e < (groups[static_cast<size_t>(i)].second + 1) * per_group; ++e)
          experts.emplace_back(score[static_cast<size_t>(e)], e);
      std::sort(experts.begin(), experts.end(), better);
      EpTokenRoute r{src, {}};
      for (std::int64_t i = 0; i < o.top_k; ++i)
        r.experts.push_back(static_cast<std::int32_t>(experts[static_cast<size_t>(i)].second));
      routes.push_back(std::move(r));
    }
  }
  return routes;
}

TEST(FabricEp, SampledRoutingEqualsAPlainSortOfTheRule) {
  // The sampler's traffic, flow by flow, equals that of the same draws routed by sorting: all
  // nodes allowed (32 GPUs, 4 nodes, M = 4), the paper's limit (64 GPUs, 4 of 8 nodes), a
  // tighter one with a larger top-k (128 GPUs, 2 of 16 nodes, top-12), and the max-score rule.
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  struct Shape {
    std::int32_t gpus;
    std::int64_t max_nodes, top_k;
    GroupScore rule;
    std::uint64_t seed;
  };
  for (const Shape& sh :
       {Shape{32, 4, 8, GroupScore::kTop2Sum, 0}, Shape{64, 4, 8, GroupScore::kTop2Sum, 7},
        Shape{128, 2, 12, GroupScore::kTop2Sum, 1}, Shape{64, 3, 8, GroupScore::kMax, 3}}) {
    EpTrafficOptions o;
    o.tokens_per_gpu = 64;
    o.max_nodes = sh.max_nodes;
    o.top_k = sh.top_k;
    o.group_score = sh.rule;
    o.seed = sh.seed;
    const EpTraffic sampled = ep_traffic(g, sh.gpus, o, EpDirection::kDispatch);
    const EpTraffic plain =
        ep_traffic_from_routes(g, sh.gpus, o.experts, o.hidden, EpDirection::kDispatch,
                               reference_routes(sh.gpus, sh.gpus / g.gpus_per_node(), o));
    SCOPED_TRACE(sh.gpus);
    EXPECT_EQ(sampled.tokens, plain.tokens);
    EXPECT_EQ(sampled.token_node_pairs, plain.token_node_pairs);
    EXPECT_EQ(sampled.remote_token_node_pairs, plain.remote_token_node_pairs);
    EXPECT_EQ(sampled.nvlink_copies, plain.nvlink_copies);
    EXPECT_EQ(sampled.network_flows, plain.network_flows);
    ASSERT_EQ(sampled.flows.size(), plain.flows.size());
    for (size_t i = 0; i < sampled.flows.size(); ++i) {
      EXPECT_EQ(sampled.flows[i].src_gpu, plain.flows[i].src_gpu) << i;
      EXPECT_EQ(sampled.flows[i].dst_gpu, plain.flows[i].dst_gpu) << i;
      EXPECT_EQ(sampled.flows[i].bytes, plain.flows[i].bytes) << i;
    }
  }
}

TEST(FabricEp, RefusesWhatTheFabricOrTheRuleCannotHold) {
  const FabricGraph g(tiny_mpft());
  EXPECT_NE(error_of([&] {
              ep_traffic_from_routes(g, 4, 6, kHidden, EpDirection::kDispatch, kTokens);
            }).find("6 experts do not spread evenly over 4 GPUs"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ep_traffic_from_routes(g, 3, 6, kHidden, EpDirection::kDispatch, kTokens);
            }).find("expected whole nodes of 2 GPUs"),
            std::string::npos);
  const std::vector<EpTokenRoute> twice = {{0, {1, 1}}};
  EXPECT_NE(error_of([&] {
              ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kDispatch, twice);
            }).find("picks expert 1 twice"),
            std::string::npos);
  const std::vector<EpTokenRoute> out = {{0, {4}}};
  EXPECT_NE(error_of([&] {
              ep_traffic_from_routes(g, 4, 4, kHidden, EpDirection::kDispatch, out);
            }).find("expected 0 to 3"),
            std::string::npos);
  EpTrafficOptions o;
  o.experts = 4;
  o.max_nodes = 1;
  o.top_k = 3;  // one node's 2 experts only
  EXPECT_NE(error_of([&] {
              ep_traffic(g, 4, o, EpDirection::kDispatch);
            }).find("top-k 3: expected 1 to 2"),
            std::string::npos);
}

}  // namespace
