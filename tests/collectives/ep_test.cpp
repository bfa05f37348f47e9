// SPDX-License-Identifier: Apache-2.0
// The EP benchmark's pieces without MPI: configuration errors, payload sizes, record layouts,
// routing (limits, skew, files) and the traffic accounting on a routing worked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "collectives/ep/ep_hash.h"
#include "collectives/ep/ep_plan.h"
#include "collectives/ep/ep_record.h"
#include "collectives/ep/ep_routing.h"
#include "collectives/ep/ep_token.h"
#include "collectives/pattern.h"
#include "tests/test_util.h"

namespace cobench::coll::ep {
namespace {

TEST(EpConfig, PayloadSizesAsDeepEpCountsThem) {
  EXPECT_EQ(dispatch_payload_bytes(7168), 7392u);  // (1 + 4/128) * 7168
  EXPECT_EQ(combine_payload_bytes(7168), 14336u);
}

// DeepSeek-V3's shapes (top-8, H = 7168): a dispatch record is 8 + 32 + 32 + 7392 = 7464 B, a
// combine record 8 + 14336 = 14344 B.
TEST(EpRecord, LayoutsWorkedByHand) {
  const EpConfig c;
  ASSERT_EQ(c.top_k, 8);
  ASSERT_EQ(c.hidden, 7168);
  const DispatchRecordLayout d(c);
  EXPECT_EQ(DispatchRecordLayout::kSourceRankOffset, 0u);
  EXPECT_EQ(DispatchRecordLayout::kTokenOffset, 4u);
  EXPECT_EQ(DispatchRecordLayout::kExpertsOffset, 8u);
  EXPECT_EQ(d.weights_offset(), 40u);  // 8 + 4 * 8
  EXPECT_EQ(d.payload_offset(), 72u);  // 8 + 8 * 8
  EXPECT_EQ(d.payload_bytes(), 7392u);
  EXPECT_EQ(d.bytes(), 7464u);
  const CombineRecordLayout k(c);
  EXPECT_EQ(CombineRecordLayout::kTokenOffset, 0u);
  EXPECT_EQ(CombineRecordLayout::kReservedOffset, 4u);
  EXPECT_EQ(CombineRecordLayout::kValuesOffset, 8u);
  EXPECT_EQ(k.payload_bytes(), 14336u);
  EXPECT_EQ(k.bytes(), 14344u);
}

// Top-3 at H = 128: 8 + 12 + 12 + 132 = 164 B; written at an odd address (records need no
// alignment) and read back field by field.
TEST(EpRecord, DispatchRecordRoundTrips) {
  const DispatchRecordLayout d(3, dispatch_payload_bytes(128));
  ASSERT_EQ(d.bytes(), 164u);
  const int experts[3] = {5, 17, 42};
  const float weights[3] = {0.25f, 0.5f, 0.25f};
  std::vector<std::byte> payload(d.payload_bytes());
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i * 7);
  std::vector<std::byte> buffer(1 + d.bytes());
  std::byte* rec = buffer.data() + 1;
  d.write(rec, 6, 11, experts, weights, payload.data());
  EXPECT_EQ(DispatchRecordLayout::source_rank(rec), 6);
  EXPECT_EQ(DispatchRecordLayout::token(rec), 11);
  for (int j = 0; j < 3; ++j) EXPECT_EQ(DispatchRecordLayout::expert(rec, j), experts[j]);
  std::int32_t token = 0;
  float weight = 0;
  std::memcpy(&token, rec + 4, 4);
  std::memcpy(&weight, rec + 8 + 12 + 4, 4);
  EXPECT_EQ(token, 11);
  EXPECT_EQ(weight, 0.5f);
  EXPECT_EQ(std::memcmp(rec + 32, payload.data(), payload.size()), 0);

  std::vector<std::byte> aligned(rec, rec + d.bytes());
  const RecordView v = d.view(aligned.data());
  EXPECT_EQ(v.source_rank, 6);
  EXPECT_EQ(v.token, 11);
  EXPECT_EQ(std::memcmp(v.experts, experts, sizeof experts), 0);
  EXPECT_EQ(std::memcmp(v.weights, weights, sizeof weights), 0);
  EXPECT_EQ(v.payload, aligned.data() + 32);
}

// H = 4: 8 + 8 = 16 B; values exact in BF16 come back exactly.
TEST(EpRecord, CombineRecordRoundTrips) {
  const CombineRecordLayout k(4);
  ASSERT_EQ(k.bytes(), 16u);
  std::vector<std::byte> buffer(1 + k.bytes(), std::byte{0xff});
  std::byte* rec = buffer.data() + 1;
  CombineRecordLayout::write_header(rec, 9);
  const float values[4] = {1.5f, -2.0f, 0.0078125f, 96.0f};
  k.write_values(rec, values);
  EXPECT_EQ(CombineRecordLayout::token(rec), 9);
  std::int32_t reserved = -1;
  std::memcpy(&reserved, rec + 4, 4);
  EXPECT_EQ(reserved, 0);
  EXPECT_EQ(CombineRecordLayout::payload(rec), rec + 8);
  float sum[4] = {1, 1, 1, 1};
  k.add_values(rec, sum);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(sum[i], 1 + values[i]) << i;
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

// The routing's definition (ep_routing.h) written out plainly: keys log(u) (e + 1)^s for every
// expert, the best groups and then nodes by the sum of their two best keys (a stable sort), the
// top_k keys (a partial sort). route_all_ranks computes it faster (comparing u itself under
// uniform routing, selecting instead of sorting); the choices must be the same.
std::vector<int> routed_by_definition(const EpConfig& c, const NodeLayout& l, int rank, int t) {
  const int ranks = static_cast<int>(l.node_of_rank.size());
  const double s = c.routing == RoutingKind::kZipf ? c.zipf_exponent : 0.0;
  const double masked = -INFINITY;
  std::vector<double> key(static_cast<std::size_t>(c.num_experts));
  for (int e = 0; e < c.num_experts; ++e) {
    const std::uint64_t h =
        mix(mix(c.seed ^ 0x5, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(t)),
            static_cast<std::uint64_t>(e), 0x5);
    key[static_cast<std::size_t>(e)] =
        std::log((static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0) * std::pow(e + 1.0, s);
  }
  auto limit = [&](auto set_of, int sets, int keep) {
    if (keep <= 0 || keep >= sets) return;
    std::vector<double> score(static_cast<std::size_t>(sets), masked);
    for (int i = 0; i < sets; ++i) {
      std::vector<double> k;
      for (int e = 0; e < c.num_experts; ++e)
        if (set_of(e) == i && key[static_cast<std::size_t>(e)] > masked)
          k.push_back(key[static_cast<std::size_t>(e)]);
      std::sort(k.rbegin(), k.rend());
      if (!k.empty()) score[static_cast<std::size_t>(i)] = k[0] + (k.size() > 1 ? k[1] : 0.0);
    }
    std::vector<int> order(static_cast<std::size_t>(sets));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return score[x] > score[y]; });
    for (std::size_t i = static_cast<std::size_t>(keep); i < order.size(); ++i)
      for (int e = 0; e < c.num_experts; ++e)
        if (set_of(e) == order[i]) key[static_cast<std::size_t>(e)] = masked;
  };
  limit([&](int e) { return e / (c.num_experts / c.num_groups); }, c.num_groups, c.topk_groups);
  limit(
      [&](int e) { return l.node_of_rank[static_cast<std::size_t>(rank_of_expert(c, ranks, e))]; },
      l.num_nodes, c.max_nodes);
  std::vector<int> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + c.top_k, order.end(),
                    [&](int x, int y) { return key[x] > key[y]; });
  std::vector<int> out(order.begin(), order.begin() + c.top_k);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(EpRouting, FastRoutingMakesTheDefinitionsChoices) {
  struct Case {
    const char* name;
    EpConfig c;
    int ranks, per_node;
  };
  std::vector<Case> cases;
  EpConfig v3;  // DeepSeek-V3's limits
  v3.tokens_per_rank = 64;
  cases.push_back({"v3 64 ranks", v3, 64, 8});
  EpConfig zipf = v3;
  zipf.routing = RoutingKind::kZipf;
  zipf.zipf_exponent = 1.2;
  cases.push_back({"zipf", zipf, 32, 4});
  EpConfig free = v3;
  free.max_nodes = 0;
  free.topk_groups = free.num_groups;
  cases.push_back({"no limits", free, 16, 8});
  // One expert a node and at most 2 nodes for top-4: the limits leave fewer experts than top_k,
  // so the choice falls to the masked keys in partial_sort's order.
  EpConfig tight;
  tight.tokens_per_rank = 64;
  tight.num_experts = 16;
  tight.top_k = 4;
  tight.num_groups = 1;
  tight.topk_groups = 1;
  tight.max_nodes = 2;
  cases.push_back({"tight node limit", tight, 16, 1});
  // Nodes inside groups (EP256: a node holds 8 experts, a group 32) and groups inside nodes (16
  // ranks of 8 a node: a node holds 128 experts), both under DeepSeek-V3's limits.
  cases.push_back({"nodes inside groups", v3, 256, 8});
  cases.push_back({"groups inside nodes", v3, 16, 8});
  // per_node 0: ranks alternate between two hosts, so a node's experts are no range of ids.
  cases.push_back({"interleaved hosts", v3, 16, 0});
  for (const Case& k : cases) {
    std::vector<std::string> hosts;
    for (int r = 0; r < k.ranks; ++r) hosts.push_back(r % 2 ? "b" : "a");
    const NodeLayout l =
        k.per_node > 0 ? layout_virtual(k.ranks, k.per_node, 0) : layout_from_hosts(hosts, 0);
    const auto all = route_all_ranks(k.c, l);
    for (int r : {0, 1, k.ranks - 1})
      for (int t = 0; t < k.c.tokens_per_rank; ++t) {
        const int* got = all[static_cast<std::size_t>(r)].experts_of(t);
        ASSERT_EQ(std::vector<int>(got, got + k.c.top_k), routed_by_definition(k.c, l, r, t))
            << k.name << ", rank " << r << ", token " << t;
      }
  }
}

// Runs `body` once on every hash path (ep_hash.h) this binary and CPU support, forced, and
// leaves the path as it found it.
template <class F>
void on_every_hash_path(const F& body) {
  const HashPath before = active_hash_path();
  for (HashPath p : {HashPath::kScalar, HashPath::kAvx2, HashPath::kAvx512}) {
    if (!hash_path_supported(p)) {
      std::printf("the %s hash path is not supported here; not run\n", hash_path_name(p));
      continue;
    }
    force_hash_path(p);
    SCOPED_TRACE(hash_path_name(p));
    body();
  }
  force_hash_path(before);
}

// Every hash path makes the definition's choices on the layouts the cells path meets: cells of
// more than one piece (nodes and groups of 32 experts), one cell a node (nodes inside groups),
// nodes of several cells (groups inside nodes), nodes of unequal sizes whose bounds are not the
// groups' (pieces of unequal lengths side by side in the vector lanes), Zipf keys, and the member
// lists (interleaved hosts).
TEST(EpRouting, EveryHashPathMakesTheDefinitionsChoices) {
  struct Case {
    const char* name;
    EpConfig c;
    std::vector<std::string> hosts;
  };
  EpConfig v3;
  v3.tokens_per_rank = 24;
  const auto hosts_of = [](const std::vector<int>& sizes) {
    std::vector<std::string> hosts;
    for (std::size_t n = 0; n < sizes.size(); ++n)
      for (int i = 0; i < sizes[n]; ++i) hosts.push_back("h" + std::to_string(n));
    return hosts;
  };
  std::vector<Case> cases{{"v3 64 ranks", v3, hosts_of(std::vector<int>(8, 8))},
                          {"nodes inside groups", v3, hosts_of(std::vector<int>(32, 8))},
                          {"groups inside nodes", v3, hosts_of({8, 8})},
                          // 64 ranks of 4 experts in 12 nodes of 1 ... 11 ranks
                          {"unequal nodes", v3, hosts_of({5, 3, 9, 7, 1, 11, 6, 2, 4, 8, 2, 6})}};
  EpConfig zipf = v3;
  zipf.routing = RoutingKind::kZipf;
  zipf.zipf_exponent = 1.2;
  cases.push_back({"zipf", zipf, hosts_of(std::vector<int>(8, 4))});
  std::vector<std::string> interleaved;
  for (int r = 0; r < 16; ++r) interleaved.push_back(r % 2 ? "b" : "a");
  cases.push_back({"interleaved hosts", v3, interleaved});
  on_every_hash_path([&] {
    for (const Case& k : cases) {
      const NodeLayout l = layout_from_hosts(k.hosts, 0);
      const int ranks = static_cast<int>(k.hosts.size());
      const auto all = route_all_ranks(k.c, l);
      for (int r : {0, 1, ranks / 2, ranks - 1})
        for (int t = 0; t < k.c.tokens_per_rank; ++t) {
          const int* got = all[static_cast<std::size_t>(r)].experts_of(t);
          ASSERT_EQ(std::vector<int>(got, got + k.c.top_k), routed_by_definition(k.c, l, r, t))
              << k.name << ", rank " << r << ", token " << t;
        }
    }
  });
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

// The plan routes every rank on every thread and accounts all sampled ranks in one pass; its
// counts are those of the per-rank account it replaced (golden values of that code, 2026-12-05).
void plan_counts_are_those_of_the_per_rank_account() {
  EpConfig c;
  c.tokens_per_rank = 256;
  std::string text = plan_report(c, layout_virtual(32, 4, 0), 8);
  for (const char* want : {"11.358 MB        1.200 MB", "6.531 MB        9.647 MB", "42.5% fewer",
                           "3.955 nodes (own included) and 6.802 ranks"})
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
  c = EpConfig{};
  c.tokens_per_rank = 300;
  c.routing = RoutingKind::kZipf;
  c.zipf_exponent = 1.2;
  c.max_nodes = 0;
  text = plan_report(c, layout_virtual(16, 8, 0), 8);
  for (const char* want : {"0.960 MB        6.122 MB", "0.819 MB       12.162 MB", "any nodes",
                           "1.369 nodes (own included) and 6.238 ranks"})
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
  // DeepSeek-V3's scale of experts: one a rank, 2048 ranks in 256 nodes of one cell each, 128
  // nodes in the kept groups to choose 4 from (golden values of the plan before the vector
  // hashing, 474d9a5: cobench_ep --plan-ranks 2048 --tokens 16 --experts 2048).
  c = EpConfig{};
  c.tokens_per_rank = 16;
  c.num_experts = 2048;
  text = plan_report(c, layout_virtual(2048, 8, 0), 8);
  for (const char* want : {"0.945 MB        0.000 MB", "0.472 MB        0.758 MB", "50.0% fewer",
                           "4.000 nodes (own included) and 7.438 ranks"})
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
}

TEST(EpPlan, PlanCountsAreThoseOfThePerRankAccount) {
  on_every_hash_path([] { plan_counts_are_those_of_the_per_rank_account(); });
}

// One account of several ranks equals an account of each alone, and accounts of disjoint
// sources add up.
TEST(EpPlan, AccountsOfSeveralRanksAndSourcesAddUp) {
  EpConfig c;
  c.tokens_per_rank = 64;
  const NodeLayout l = layout_virtual(32, 8, 0);
  const auto all = route_all_ranks(c, l);
  for (bool hier : {false, true})
    for (bool dispatch : {false, true}) {
      TrafficAccount low(c, l, {0, 9, 31}, hier, dispatch), high = low;
      for (int src = 0; src < 32; ++src)
        (src < 16 ? low : high).add(src, all[static_cast<std::size_t>(src)]);
      low.add(high);
      int i = 0;
      for (int r : {0, 9, 31}) {
        const Traffic want = expected_traffic(c, l, all, r, hier, dispatch);
        const Traffic got = low.traffic(static_cast<std::size_t>(i++));
        EXPECT_EQ(got.payload.network, want.payload.network) << r;
        EXPECT_EQ(got.payload.intra, want.payload.intra) << r;
        EXPECT_EQ(got.wire.network, want.wire.network) << r;
        EXPECT_EQ(got.logical_network, want.logical_network) << r;
        EXPECT_EQ(got.logical_intra, want.logical_intra) << r;
      }
    }
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
