// SPDX-License-Identifier: Apache-2.0
// The group order-statistics sampler of the node-limited routing (ep_group_sampler.h): its CDF
// by hand and against brute force, its inverse, the rule's properties on its routes, and its
// routes against the all-scores sampler's in distribution where both run (64 nodes).
#include "topologies/ep_group_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "topologies/data_files.h"
#include "topologies/fabric_ep.h"

namespace {

using namespace cobench::topo;

double uniform(SplitMix64& r) { return static_cast<double>(r.next() >> 11) * 0x1p-53; }

TEST(FabricEpSampler, SplitMix64IsTheReferenceSequence) {
  // Vigna's splitmix64.c from state 0 (its first output is the finalizer of the golden gamma).
  SplitMix64 r{0};
  EXPECT_EQ(r.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(r.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(r.next(), 0x06c45d188009454fULL);
}

TEST(FabricEpSampler, GroupScoreCdfByHand) {
  // Sum of the two best of 2 = the sum of two uniforms: s^2 / 2 below 1, 1 - (2 - s)^2 / 2 above.
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kTop2Sum, 2, 0.5), 0.125);
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kTop2Sum, 2, 1.5), 0.875);
  // n = 8: F(1) = 2 (1/2)^8 = 1/128; F(1.5) = 2 x 0.75^8 - 0.5^8 = 0.200226... - 0.00390625.
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kTop2Sum, 8, 1.0), 1.0 / 128);
  EXPECT_NEAR(group_score_cdf(GroupScore::kTop2Sum, 8, 1.5), 2 * 0.100112915 - 0.00390625, 1e-9);
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kTop2Sum, 8, 2.0), 1.0);
  // The best of 3: s^3; one score under either rule: s.
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kMax, 3, 0.5), 0.125);
  EXPECT_DOUBLE_EQ(group_score_cdf(GroupScore::kTop2Sum, 1, 0.3), 0.3);
}

TEST(FabricEpSampler, GroupScoreCdfMatchesBruteForce) {
  // 200,000 groups of 8 uniform scores, the sum of the two best: the empirical CDF at each point
  // within 5 standard errors (sqrt(F (1 - F) / 200,000) <= 0.0011).
  SplitMix64 r{42};
  constexpr int kGroups = 200000;
  const std::vector<double> at = {0.9, 1.2, 1.5, 1.7, 1.85, 1.95};
  std::vector<int> below(at.size(), 0);
  for (int i = 0; i < kGroups; ++i) {
    double b = 0, s = 0;
    for (int j = 0; j < 8; ++j) {
      const double x = uniform(r);
      if (x > b) {
        s = b;
        b = x;
      } else if (x > s) {
        s = x;
      }
    }
    for (size_t k = 0; k < at.size(); ++k) below[k] += b + s <= at[k];
  }
  for (size_t k = 0; k < at.size(); ++k) {
    const double f = group_score_cdf(GroupScore::kTop2Sum, 8, at[k]);
    const double se = std::sqrt(f * (1 - f) / kGroups);
    EXPECT_NEAR(below[k] / double{kGroups}, f, 5 * se + 1e-6) << at[k];
  }
}

TEST(FabricEpSampler, InverseOfTheCdf) {
  for (std::int64_t n : {2, 8, 64})
    for (double s : {0.05, 0.5, 0.999, 1.0, 1.001, 1.3, 1.9, 1.99, 1.9999}) {
      const double log_f = std::log(group_score_cdf(GroupScore::kTop2Sum, n, s));
      if (!std::isfinite(log_f)) continue;  // 0.05^64 underflows
      EXPECT_NEAR(group_score_from_log_cdf(GroupScore::kTop2Sum, n, log_f), s, 1e-9 * s)
          << n << " " << s;
    }
  EXPECT_NEAR(group_score_from_log_cdf(GroupScore::kMax, 4, std::log(0.0625)), 0.5, 1e-15);
  // Near the top: 1 - F(2 - t) ~ n (n - 1) t^2 / 4, so log F = -1e-8 (q = 1e-8) at n = 8 puts
  // t at sqrt(4e-8 / 56) = 2.6726e-5.
  EXPECT_NEAR(2 - group_score_from_log_cdf(GroupScore::kTop2Sum, 8, -1e-8), 2.6726e-5, 1e-8);
}

// The experts of each token grouped by node (8 experts a node at one a GPU on 8-GPU nodes).
struct TokenShape {
  std::int64_t nodes = 0;    ///< distinct nodes reached
  std::int64_t largest = 0;  ///< the most experts on one node
};

TokenShape shape_of(const std::vector<std::int32_t>& experts, std::int64_t per_node) {
  std::map<std::int64_t, std::int64_t> by_node;
  for (std::int32_t e : experts) ++by_node[e / per_node];
  TokenShape s;
  s.nodes = static_cast<std::int64_t>(by_node.size());
  for (const auto& [node, count] : by_node) s.largest = std::max(s.largest, count);
  return s;
}

// The chi-square statistic of two samples' histograms (homogeneity), bins with fewer than 10
// counts in both together pooled into the next; `df` set to the pooled bins less one.
double chi_square_two_samples(const std::vector<std::int64_t>& a,
                              const std::vector<std::int64_t>& b, int& df) {
  std::vector<std::pair<double, double>> bins;
  double pa = 0, pb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    pa += static_cast<double>(a[i]);
    pb += static_cast<double>(b[i]);
    if (pa + pb >= 10) {
      bins.emplace_back(pa, pb);
      pa = pb = 0;
    }
  }
  if (pa + pb > 0 && !bins.empty()) bins.back().first += pa, bins.back().second += pb;
  double na = 0, nb = 0;
  for (const auto& [x, y] : bins) na += x, nb += y;
  double chi2 = 0;
  for (const auto& [x, y] : bins) {
    const double ea = (x + y) * na / (na + nb), eb = (x + y) * nb / (na + nb);
    chi2 += (x - ea) * (x - ea) / ea + (y - eb) * (y - eb) / eb;
  }
  df = static_cast<int>(bins.size()) - 1;
  return chi2;
}

// The chi-square distribution's 0.999 quantile for 1 to 10 degrees of freedom (tables).
constexpr double kChi2At999[] = {10.83, 13.82, 16.27, 18.47, 20.52,
                                 22.46, 24.32, 26.12, 27.88, 29.59};

TEST(FabricEpSampler, AgreesWithTheAllScoresSamplerInDistribution) {
  // 65,536 tokens each sampler: 64 nodes (512 GPUs), one expert a GPU, top-8 of at most 4 nodes
  // (the 16,384-GPU shape, smaller); the V2 rule (best score) on 3 nodes; and 32 nodes of 4
  // experts a GPU (1024 experts, 32 a node: many scores below a group's second).
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  struct Shape {
    std::int32_t gpus;
    std::int64_t experts, max_nodes;
    GroupScore rule;
  };
  for (const Shape& sh :
       {Shape{512, 512, 4, GroupScore::kTop2Sum}, Shape{512, 512, 3, GroupScore::kMax},
        Shape{256, 1024, 4, GroupScore::kTop2Sum}}) {
    SCOPED_TRACE(sh.experts * 10 + sh.max_nodes);
    EpTrafficOptions o;
    o.tokens_per_gpu = 65536 / sh.gpus;
    o.experts = sh.experts;
    o.max_nodes = sh.max_nodes;
    o.group_score = sh.rule;
    const std::int64_t per_node = sh.experts / (sh.gpus / 8);
    std::vector<std::int64_t> nodes[2], largest[2];
    for (int which = 0; which < 2; ++which) {
      o.sampler = which == 0 ? EpSampler::kAllScores : EpSampler::kGroupOrder;
      o.seed = 11 + static_cast<std::uint64_t>(which);
      nodes[which].assign(9, 0);
      largest[which].assign(9, 0);
      std::vector<std::int64_t> load(static_cast<size_t>(sh.experts), 0);
      for (const EpTokenRoute& t : ep_routes(g, sh.gpus, o)) {
        // The rule: k distinct experts on at most M nodes.
        ASSERT_EQ(t.experts.size(), 8u);
        ASSERT_EQ(std::set<std::int32_t>(t.experts.begin(), t.experts.end()).size(), 8u);
        const TokenShape s = shape_of(t.experts, per_node);
        ASSERT_LE(s.nodes, o.max_nodes);
        ++nodes[which][static_cast<size_t>(s.nodes)];
        ++largest[which][static_cast<size_t>(s.largest)];
        for (std::int32_t e : t.experts) ++load[static_cast<size_t>(e)];
      }
      // Every expert's load is Binomial(65,536 tokens, p = 8 / E) (the tokens are independent,
      // the experts exchangeable): mean 65,536 p, sd sqrt(65,536 p (1 - p)) (31.7 at E = 512,
      // 22.5 at 1024); none beyond 5 sd (p < 1024 x 5.7e-7 = 6e-4 that one is, for a right
      // sampler).
      const double p = 8.0 / static_cast<double>(sh.experts);
      const double mean = 65536 * p, sd = std::sqrt(65536 * p * (1 - p));
      for (size_t e = 0; e < load.size(); ++e)
        EXPECT_NEAR(static_cast<double>(load[e]), mean, 5 * sd) << e;
    }
    // The same distribution of the nodes a token reaches and of its most experts on one node:
    // chi-square homogeneity tests at p = 0.001 (a single bin: the same in both).
    for (const auto* h : {nodes, largest}) {
      int df = 0;
      const double chi2 = chi_square_two_samples(h[0], h[1], df);
      if (df == 0) {
        EXPECT_EQ(h[0], h[1]);
        continue;
      }
      EXPECT_LT(chi2, kChi2At999[df - 1]) << "df " << df;
    }
    // The test has power: the most experts on one node spreads over at least 3 values (100+
    // tokens each); at E = 512, top-2 sum: 1 for 43,400 tokens, 2 for 21,400, 3 for 720.
    EXPECT_GE(std::count_if(largest[0].begin(), largest[0].end(),
                            [](std::int64_t c) { return c >= 100; }),
              3);
  }
}

TEST(FabricEpSampler, OneScoreAGroupIsAUniformSubset) {
  // n = 1: a group's statistic is its only score, so the kept groups are the top M experts and
  // the top-k of them the top k of all: a uniform 3-subset of 16, best first. 48,000 tokens:
  // each expert 9,000 times (sd sqrt(48,000 x 3/16 x 13/16) = 85.5), within 5 sd.
  GroupOrderSampler sampler(16, 16, 4, 3, GroupScore::kTop2Sum);
  SplitMix64 rng{5};
  std::vector<std::int64_t> load(16, 0);
  std::vector<std::int32_t> out;
  for (int t = 0; t < 48000; ++t) {
    sampler.route(rng, out);
    ASSERT_EQ(std::set<std::int32_t>(out.begin(), out.end()).size(), 3u);
    for (std::int32_t e : out) ++load[static_cast<size_t>(e)];
  }
  for (std::int64_t l : load) EXPECT_NEAR(static_cast<double>(l), 9000, 5 * 85.5);
}

TEST(FabricEpSampler, TrafficEqualsItsRoutesAndTheSwitch) {
  // ep_traffic's sparse, threaded counts are those of the routes ep_routes lists.
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  EpTrafficOptions o;
  o.tokens_per_gpu = 32;
  o.experts = 1024;
  o.sampler = EpSampler::kGroupOrder;
  const EpTraffic t = ep_traffic(g, 128, o, EpDirection::kDispatch);
  const EpTraffic r = ep_traffic_from_routes(g, 128, o.experts, o.hidden, EpDirection::kDispatch,
                                             ep_routes(g, 128, o));
  EXPECT_EQ(t.tokens, 128 * 32);
  EXPECT_EQ(t.token_node_pairs, r.token_node_pairs);
  EXPECT_EQ(t.nvlink_copies, r.nvlink_copies);
  ASSERT_EQ(t.flows.size(), r.flows.size());
  for (size_t i = 0; i < t.flows.size(); ++i) {
    EXPECT_EQ(t.flows[i].src_gpu, r.flows[i].src_gpu) << i;
    EXPECT_EQ(t.flows[i].dst_gpu, r.flows[i].dst_gpu) << i;
    EXPECT_EQ(t.flows[i].bytes, r.flows[i].bytes) << i;
  }
  // kAuto: all scores up to 4096 experts or without a node limit; group order above.
  EpTrafficOptions a;
  a.experts = 256;
  EXPECT_EQ(resolve_ep_sampler(a, 8), EpSampler::kAllScores);
  a.experts = 16384;
  EXPECT_EQ(resolve_ep_sampler(a, 2048), EpSampler::kGroupOrder);
  EXPECT_EQ(resolve_ep_sampler(a, 4), EpSampler::kAllScores);  // M = 4 >= 4 nodes
  a.experts = 4096;
  EXPECT_EQ(resolve_ep_sampler(a, 512), EpSampler::kAllScores);
}

}  // namespace
