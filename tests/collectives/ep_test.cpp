// SPDX-License-Identifier: Apache-2.0
// The EP benchmark's pieces without MPI: configuration errors, payload sizes, routing (limits,
// skew, files) and the traffic accounting on a routing worked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "collectives/ep/ep_plan.h"
#include "collectives/ep/ep_routing.h"
#include "collectives/ep/ep_token.h"
#include "tests/test_util.h"

namespace cobench::coll::ep {
namespace {

TEST(EpConfig, PayloadSizesAsDeepEpCountsThem) {
  EXPECT_EQ(dispatch_payload_bytes(7168), 7392u);  // (1 + 4/128) * 7168
  EXPECT_EQ(combine_payload_bytes(7168), 14336u);
}

TEST(EpConfig, BadConfigurationsNameTheOption) {
  EpConfig c;
  c.hidden = 100;
  EXPECT_NE(test::error_of([&] {
              validate(c, 8);
            }).find("--hidden 100 must be a positive multiple of 128"),
            std::string::npos);
  c = EpConfig{};
  EXPECT_NE(test::error_of([&] {
              validate(c, 6);
            }).find("--experts 256 must be a positive multiple of the 6 ranks"),
            std::string::npos);
  c = EpConfig{};
  c.num_groups = 64;  // 4 experts per group
  c.topk_groups = 1;
  EXPECT_NE(test::error_of([&] { validate(c, 8); }).find("cannot hold --topk 8"),
            std::string::npos);
  c = EpConfig{};
  c.routing = RoutingKind::kFile;
  EXPECT_NE(test::error_of([&] { validate(c, 8); }).find("--routing-file"), std::string::npos);
  EXPECT_NO_THROW(validate(EpConfig{}, 64));
}

TEST(EpConfig, UnevenTokenCounts) {
  EpConfig c;
  c.tokens_per_rank = 100;
  c.uneven_tokens = true;
  EXPECT_EQ(tokens_of(c, 0, 5), 100);
  EXPECT_EQ(tokens_of(c, 1, 5), 75);
  EXPECT_EQ(tokens_of(c, 4, 5), 0);
  c.uneven_tokens = false;
  EXPECT_EQ(tokens_of(c, 4, 5), 100);
}

// DeepSeek-V3's limits on 64 ranks in 8 nodes: top-8 experts in at most 4 groups and 4 nodes.
TEST(EpRouting, DeepSeekV3LimitsHold) {
  EpConfig c;
  c.tokens_per_rank = 200;
  const NodeLayout layout = layout_virtual(64, 8, 0);
  const auto all = route_all_ranks(c, layout);
  ASSERT_EQ(all.size(), 64u);
  for (int r : {0, 37}) {
    const Routing& route = all[static_cast<std::size_t>(r)];
    for (int t = 0; t < route.tokens; ++t) {
      std::set<int> experts, groups, nodes;
      double w = 0;
      for (int j = 0; j < 8; ++j) {
        const int e = route.experts_of(t)[j];
        experts.insert(e);
        groups.insert(e / 32);
        nodes.insert(layout.node_of_rank[static_cast<std::size_t>(rank_of_expert(c, 64, e))]);
        w += route.weights_of(t)[j];
        if (j > 0) {
          EXPECT_LT(route.experts_of(t)[j - 1], e);
        }
      }
      EXPECT_EQ(experts.size(), 8u);
      EXPECT_LE(groups.size(), 4u);
      EXPECT_LE(nodes.size(), 4u);
      EXPECT_NEAR(w, 1.0, 1e-6);
    }
  }
  // Deterministic, and different per rank.
  EXPECT_EQ(route_all_ranks(c, layout)[5].expert, all[5].expert);
  EXPECT_NE(all[5].expert, all[6].expert);
}

TEST(EpRouting, UniformIsEvenAndZipfIsSkewed) {
  EpConfig c;
  c.tokens_per_rank = 4096;
  c.num_experts = 64;
  c.num_groups = 1;
  c.topk_groups = 1;
  c.max_nodes = 0;
  const NodeLayout layout = layout_virtual(1, 1, 0);
  auto load = [&](const EpConfig& cfg) {
    std::vector<int> n(64, 0);
    const auto r = route_all_ranks(cfg, layout)[0];
    for (int e : r.expert) ++n[static_cast<std::size_t>(e)];
    return n;
  };
  // Uniform: 4096 * 8 / 64 = 512 per expert; the binomial sd is about 21.
  for (int n : load(c)) EXPECT_NEAR(n, 512, 6 * 21.2);
  c.routing = RoutingKind::kZipf;
  c.zipf_exponent = 1.2;
  const auto z = load(c);
  EXPECT_GT(z[0], 4 * z[63]);
  EXPECT_GT(z[0], z[8]);
}

TEST(EpRouting, FileRoutingAndItsErrors) {
  EpConfig c;
  c.tokens_per_rank = 1;
  c.num_experts = 8;
  c.top_k = 2;
  c.num_groups = 1;
  c.topk_groups = 1;
  const auto all = routing_from_text("# r0\n4 6\n\n2 0  # r1\n1 5\n3 7\n", "r.txt", c, 4);
  EXPECT_EQ(all[1].expert, (std::vector<int>{0, 2}));
  EXPECT_EQ(all[3].expert, (std::vector<int>{3, 7}));
  EXPECT_NE(test::error_of([&] {
              routing_from_text("4 6\n2 9\n", "r.txt", c, 4);
            }).find("r.txt:2: '9' is not an expert id in 0 ... 7"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              routing_from_text("4 6 1\n", "r.txt", c, 4);
            }).find("r.txt:1: 3 expert ids; expected --topk 2"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              routing_from_text("4 4\n", "r.txt", c, 4);
            }).find("r.txt:1: an expert appears twice"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              routing_from_text("4 6\n", "r.txt", c, 4);
            }).find("r.txt: 1 tokens; the 4 ranks need 4"),
            std::string::npos);
}

TEST(EpToken, Fp8PayloadRoundTripsWithinE4M3Precision) {
  EpConfig c;
  c.hidden = 256;
  std::vector<float> x(256), back(256);
  std::vector<std::byte> p(dispatch_payload_bytes(256));
  token_values(c, 3, 7, x.data());
  quantize_payload(x.data(), 256, p.data());
  dequantize_payload(p.data(), 256, back.data());
  for (int b = 0; b < 2; ++b) {
    float amax = 0;
    for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(x[b * 128 + i]));
    for (int i = 0; i < 128; ++i) {
      const float v = x[b * 128 + i];
      // E4M3 keeps 3 fraction bits: half an ulp is 2^-4 of the value (normal range), and the
      // subnormal step is 2^-9 of the block maximum (448 -> 2^-9 * 448 / 448).
      EXPECT_LE(std::fabs(back[b * 128 + i] - v), std::fabs(v) / 16 + amax / 448 * 0x1p-9f)
          << b * 128 + i;
    }
  }
}

// 4 ranks in 2 virtual nodes (0, 1 | 2, 3), 8 experts (rank r holds 2r and 2r + 1), top-2,
// one token per rank, H = 128: dispatch payload 132 B, combine 256 B.
//   rank 0's token -> experts 4, 6 (ranks 2, 3: both on node 1)
//   rank 1's token -> experts 0, 2 (ranks 0, 1: its own node)
//   rank 2's token -> experts 1, 5 (ranks 0, 2)
//   rank 3's token -> experts 3, 7 (ranks 1, 3)
TEST(EpPlan, TrafficWorkedByHand) {
  EpConfig c;
  c.tokens_per_rank = 1;
  c.hidden = 128;
  c.num_experts = 8;
  c.top_k = 2;
  c.num_groups = 1;
  c.topk_groups = 1;
  const auto all = routing_from_text("4 6\n0 2\n1 5\n3 7\n", "hand", c, 4);
  const NodeLayout l = layout_virtual(4, 2, 0);
  // Rank 0, flat dispatch: two copies cross the network; logical: 1 node, 2 copies received.
  Traffic t = expected_traffic(c, l, all, 0, false, true);
  EXPECT_EQ(t.payload.network, 2 * 132);
  EXPECT_EQ(t.payload.intra, 0);
  EXPECT_EQ(t.wire.network, 2 * (8 + 16 + 132));
  EXPECT_EQ(t.logical_network, 132);
  EXPECT_EQ(t.logical_intra, 2 * 132);
  // Hierarchical: one copy to node 1; rank 0 forwards rank 2's token only to itself.
  t = expected_traffic(c, l, all, 0, true, true);
  EXPECT_EQ(t.payload.network, 132);
  EXPECT_EQ(t.payload.intra, 0);
  // Rank 1 forwards its own token to rank 0 (and rank 3's token to itself).
  t = expected_traffic(c, l, all, 1, true, true);
  EXPECT_EQ(t.payload.network, 0);
  EXPECT_EQ(t.payload.intra, 132);
  EXPECT_EQ(expected_traffic(c, l, all, 1, false, true).payload.intra, 132);
  // Combine at rank 0: flat returns one partial to rank 1 and one across to rank 2;
  // hierarchical returns rank 2's node sum across, and its partial for rank 1's token to the
  // forwarder, rank 1.
  t = expected_traffic(c, l, all, 0, false, false);
  EXPECT_EQ(t.payload.network, 256);
  EXPECT_EQ(t.payload.intra, 256);
  t = expected_traffic(c, l, all, 0, true, false);
  EXPECT_EQ(t.payload.network, 256);
  EXPECT_EQ(t.payload.intra, 256);
}

// Nodes a token reaches on 64 ranks in 8 nodes (32 experts per node), from the planned traffic.
double nodes_per_token(const EpConfig& c) {
  const NodeLayout l = layout_virtual(64, 8, 0);
  const auto all = route_all_ranks(c, l);
  double nodes = 0;
  for (int r = 0; r < 8; ++r)
    nodes += expected_traffic(c, l, all, r, false, true).logical_network /
             static_cast<double>(dispatch_payload_bytes(c.hidden)) / c.tokens_per_rank;
  return nodes / 8;
}

TEST(EpPlan, NodesPerTokenMatchTheClosedFormAndTheNodeLimit) {
  EpConfig c;
  c.tokens_per_rank = 512;
  c.max_nodes = 0;
  c.topk_groups = c.num_groups;
  // Unlimited uniform top-8 of 256: 8 (1 - C(224, 8) / C(256, 8)) distinct nodes of 32 experts.
  double none = 1;
  for (int i = 0; i < 8; ++i) none *= (224.0 - i) / (256.0 - i);
  const double exact = 8 * (1 - none);  // 5.29
  EXPECT_NEAR(nodes_per_token(c), exact, 0.05);
  // DeepSeek-V3's limit (4 of 8 groups, 4 nodes): at most 4, nearly always 4 (the topology
  // model's Monte Carlo of the same rule gives 3.96).
  c = EpConfig{};
  c.tokens_per_rank = 512;
  const double limited = nodes_per_token(c);
  EXPECT_LE(limited, 4.0);
  EXPECT_NEAR(limited, 3.96, 0.03);
}

TEST(EpPlan, PlanReportSaysHowMuchHierarchicalSaves) {
  EpConfig c;
  c.tokens_per_rank = 64;
  const std::string text = plan_report(c, layout_virtual(16, 4, 0), 4);
  EXPECT_NE(text.find("16 ranks in 4 nodes of 4"), std::string::npos) << text;
  EXPECT_NE(text.find("hierarchical sends"), std::string::npos) << text;
  EXPECT_NE(text.find("% fewer network bytes"), std::string::npos) << text;
}

}  // namespace
}  // namespace cobench::coll::ep
