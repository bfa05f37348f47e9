// SPDX-License-Identifier: Apache-2.0
// The incremental refill of the fluid run (fabric_refill.h) against hand-worked finishes, and
// against the full refill (every active flow recomputed at every event, FluidOptions::Refill::
// kFull) on random flow sets and on routed EP dispatch and all-to-all traffic, its components
// on threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "topologies/data_files.h"
#include "topologies/fabric_ep.h"
#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"

namespace {

using namespace cobench::topo;

// The full refill on one thread, the incremental one on four: components run apart.
FluidOptions refill(FluidOptions::Refill how, double window = 0) {
  FluidOptions o;
  o.refill = how;
  o.finish_window = window;
  o.threads = how == FluidOptions::Refill::kFull ? 1 : 4;
  return o;
}

// Both refills: the same events, each flow's finish within 1e-12 of the other's.
void expect_same_run(std::span<const double> cap, const FlowSet& s, double window = 0) {
  const FluidRun full = run_fluid(cap, s, refill(FluidOptions::Refill::kFull, window));
  const FluidRun inc = run_fluid(cap, s, refill(FluidOptions::Refill::kIncremental, window));
  EXPECT_EQ(inc.events, full.events);
  ASSERT_EQ(inc.finish_s.size(), full.finish_s.size());
  for (size_t f = 0; f < full.finish_s.size(); ++f)
    ASSERT_NEAR(inc.finish_s[f], full.finish_s[f], 1e-12 * full.finish_s[f]) << "flow " << f;
}

TEST(FabricRefill, AFastFlowEndingLeavesTheSlowerRatesAlone) {
  // Link 0 (10 B/s): a, b, c; link 1 (4 B/s): c, d. Link 1 fills first at 2 (c, d), then a and
  // b share link 0's 8 left: 4 each. a (4 B) ends at 1 s; from rate 4 up only b moves: link 0's
  // 10 less c's 2, 8 B/s, so b's 36 B left end at 1 + 4.5 = 5.5 s. c and d keep 2 B/s (their
  // refill never ran) and end together at 20 B / 2 = 10 s. Events: start, a, b, {c, d}.
  const std::vector<double> cap = {10, 4};
  FlowSet s;
  s.add(std::vector<std::int32_t>{0}, 4);      // a
  s.add(std::vector<std::int32_t>{0}, 40);     // b
  s.add(std::vector<std::int32_t>{0, 1}, 20);  // c
  s.add(std::vector<std::int32_t>{1}, 20);     // d
  for (auto how : {FluidOptions::Refill::kIncremental, FluidOptions::Refill::kFull}) {
    const FluidRun run = run_fluid(cap, s, refill(how));
    EXPECT_DOUBLE_EQ(run.finish_s[0], 1.0);
    EXPECT_DOUBLE_EQ(run.finish_s[1], 5.5);
    EXPECT_DOUBLE_EQ(run.finish_s[2], 10.0);
    EXPECT_DOUBLE_EQ(run.finish_s[3], 10.0);
    EXPECT_EQ(run.events, 3);
  }
}

TEST(FabricRefill, ASlowFlowEndingRefillsTheFasterOnes) {
  // The same links, c now 2 B: it ends first at 1 s (rate 2), and everything at rate >= 2
  // refills: d alone on link 1 at 4; a and b on link 0 at 5. d's 18 B left end at
  // 1 + 4.5 = 5.5 s (rate 4); a and b, at 5 >= 4, refill to the same 5 and their
  // 36 B left end together at 1 + 7.2 = 8.2 s. Events: start, c, d, {a, b}.
  const std::vector<double> cap = {10, 4};
  FlowSet s;
  s.add(std::vector<std::int32_t>{0}, 40);
  s.add(std::vector<std::int32_t>{0}, 40);
  s.add(std::vector<std::int32_t>{0, 1}, 2);
  s.add(std::vector<std::int32_t>{1}, 20);
  for (auto how : {FluidOptions::Refill::kIncremental, FluidOptions::Refill::kFull}) {
    const FluidRun run = run_fluid(cap, s, refill(how));
    EXPECT_DOUBLE_EQ(run.finish_s[2], 1.0);
    EXPECT_DOUBLE_EQ(run.finish_s[3], 5.5);
    EXPECT_DOUBLE_EQ(run.finish_s[0], 8.2);
    EXPECT_DOUBLE_EQ(run.finish_s[1], 8.2);
    EXPECT_EQ(run.events, 3);
  }
}

TEST(FabricRefill, EqualsTheFullRefillOnRandomFlowSets) {
  // Small random fabrics: 1-12 resources of capacity 1-10 (integers, so shares tie often, or
  // real), 1-60 flows over 1-4 distinct resources, sizes of 1-8 B (ties) or real.
  std::mt19937_64 rng(20240518);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::uniform_real_distribution<double> real(0.5, 10.0);
  for (int trial = 0; trial < 400; ++trial) {
    const bool integers = trial % 2 == 0;
    const int resources = uniform(1, 12);
    std::vector<double> cap(static_cast<size_t>(resources));
    for (double& c : cap) c = integers ? uniform(1, 10) : real(rng);
    FlowSet s;
    const int flows = uniform(1, 60);
    for (int f = 0; f < flows; ++f) {
      std::vector<std::int32_t> path;
      const int hops = std::min(resources, uniform(1, 4));
      while (static_cast<int>(path.size()) < hops) {
        const auto r = static_cast<std::int32_t>(uniform(0, resources - 1));
        if (std::find(path.begin(), path.end(), r) == path.end()) path.push_back(r);
      }
      s.add(path, integers ? uniform(1, 8) : real(rng));
    }
    SCOPED_TRACE(trial);
    expect_same_run(cap, s);
    expect_same_run(cap, s, trial % 4 == 1 ? 0.05 : 0.5);
  }
}

TEST(FabricRefill, EqualsTheFullRefillOnRoutedTraffic) {
  // EP dispatch on 64 GPUs of DeepSeek's MPFT under ECMP (distinct sizes and rates, spine
  // collisions) and an all-to-all of 32 GPUs under each routing: the same phase either way.
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  EpTrafficOptions o;
  o.tokens_per_gpu = 64;
  o.experts = 64;
  const EpTraffic ep = ep_traffic(g, 64, o, EpDirection::kDispatch);
  const RoutingOptions ecmp{RoutingPolicy::kEcmp, true, 1};
  const PhaseResult full =
      simulate_phase(g, ep.flows, ecmp, nullptr, refill(FluidOptions::Refill::kFull));
  const PhaseResult inc =
      simulate_phase(g, ep.flows, ecmp, nullptr, refill(FluidOptions::Refill::kIncremental));
  EXPECT_GT(full.events, 100);
  EXPECT_EQ(inc.events, full.events);
  EXPECT_NEAR(inc.time_s, full.time_s, 1e-12 * full.time_s);
  EXPECT_NEAR(inc.fluid_time_s, full.fluid_time_s, 1e-12 * full.fluid_time_s);
  const std::vector<double> cap = resource_capacities(g);
  for (auto policy : {RoutingPolicy::kEcmp, RoutingPolicy::kStatic, RoutingPolicy::kAdaptive}) {
    const Collective c = all_to_all(rank_groups(32, 32), 32 * 65536.0);
    FlowSet s;
    const Phase& p = c.phases.front();
    for (size_t i = 0; i < p.flows.size(); ++i)
      s.add(route_flow(g, p.flows[i].src_gpu, p.flows[i].dst_gpu, i, {policy, true, 1}).path(),
            p.flows[i].bytes * (1 + static_cast<double>(i % 7) / 8));
    SCOPED_TRACE(static_cast<int>(policy));
    expect_same_run(cap, s);
  }
}

}  // namespace
