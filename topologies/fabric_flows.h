// SPDX-License-Identifier: Apache-2.0
// Flow-level simulation over the fabric graph: max-min fair rates by progressive filling, an
// event-driven fluid run of a phase (all flows start together; whenever flows finish, the rates
// of the rest are recomputed), collectives as sequences of phases, and their results.
//
// A phase's time is the latest flow's finish: its fluid completion plus its path latency (the
// latency is added once at the end, as for a pipelined transfer). A collective's time is the sum
// of its phases' (a phase repeated k times counts k times). Traffic generators:
//   ring all-gather / reduce-scatter: every rank of a group sends size/n to its successor in the
//     group's order (NCCL's ring by rank); n - 1 identical steps, one phase repeated n - 1 times;
//     every group of the job at once (the TP 8/4/2 groups of the paper's Fig 8);
//   ring all-reduce: a reduce-scatter then an all-gather, 2(n - 1) steps;
//   all-to-all: every rank sends size/n to every other rank of its group, one phase.
// Bandwidths follow nccl-tests: algbw = size / time, busbw = algbw x (n - 1)/n (all-gather,
// reduce-scatter, all-to-all) or x 2(n - 1)/n (all-reduce).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"

namespace cobench::topo {

/// The most flows one phase holds (an all-to-all among 5793 GPUs).
inline constexpr std::int64_t kMaxPhaseFlows = std::int64_t{1} << 25;

/// Flows over shared resources: flow f crosses path[offsets[f] .. offsets[f + 1]).
struct FlowSet {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> path;
  std::vector<double> bytes;

  std::int64_t size() const { return static_cast<std::int64_t>(bytes.size()); }
  void add(std::span<const std::int32_t> resources, double flow_bytes);
  std::span<const std::int32_t> path_of(std::int64_t f) const {
    return {
        path.data() + offsets[static_cast<size_t>(f)],
        static_cast<size_t>(offsets[static_cast<size_t>(f) + 1] - offsets[static_cast<size_t>(f)])};
  }
};

/// Max-min fair rates (bytes/s) by progressive filling: every unfrozen flow's rate rises
/// together until a resource fills; its flows freeze at that rate; repeat.
std::vector<double> max_min_rates(std::span<const double> capacity_bytes_per_s,
                                  const FlowSet& flows);

struct FluidRun {
  std::vector<double> finish_s;  ///< each flow's completion (no latency)
  std::int64_t events = 0;       ///< rate recomputations
};

struct FluidOptions {
  /// 0: exact, the rates recomputed at every completion. w > 0: the flows that would finish
  /// within w x (the earliest finish time) after the earliest finish end in the same event,
  /// each at its own time under the current rates; the rest move on at their rates, without
  /// the capacity freed meanwhile, to the last of those ends (conservative by about w). For
  /// many distinct rates (ECMP on an oversubscribed tree): about ln(T / t1) / w events.
  double finish_window = 0;
  /// Called after every event with the flows finished so far and all of them, for a long run's
  /// progress (the caller decides how often to print); empty: nothing is called.
  std::function<void(std::int64_t finished, std::int64_t flows)> progress;
  /// How an event recomputes the rates. kIncremental: only the flows the finished ones can move
  /// (fabric_refill.h), the same rates as kFull to 1e-12; kFull: every active flow of the
  /// component, the reference the incremental refill is tested against.
  enum class Refill : std::uint8_t { kIncremental, kFull };
  Refill refill = Refill::kIncremental;
  /// Components (flow_components) run on this many threads at once; 0: every hardware thread.
  int threads = 0;
};

/// The flows in groups that share no resource, directly or through other flows (the components
/// of the flow-resource graph; on a multi-plane fabric, each plane and each node's NVLink): in
/// the order of their first flow, flows in order within each.
std::vector<std::vector<std::int32_t>> flow_components(std::size_t resources, const FlowSet& flows);

/// All flows start at 0; rates are max-min fair and recomputed whenever flows finish. Each
/// component (flow_components) runs apart, on FluidOptions::threads at once: the same rates, an
/// event recomputing only its own flows (FluidRun::events sums the components'), and a finish
/// window that applies within it. `progress` is called one call at a time.
FluidRun run_fluid(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                   const FluidOptions& options = {});

struct Flow {
  std::int32_t src_gpu = 0;
  std::int32_t dst_gpu = 0;
  double bytes = 0;
};

struct Phase {
  std::vector<Flow> flows;
  std::int64_t repeat = 1;  ///< identical steps (a ring's n - 1)
};

/// kMatrix: flows from a traffic file (fabric_traffic.h), one phase; busbw = algbw.
enum class CollectiveKind { kAllGather, kReduceScatter, kAllReduce, kAllToAll, kMatrix };
std::string_view to_string(CollectiveKind k);
/// nccl-tests' busbw / algbw for `ranks` ranks.
double bus_factor(CollectiveKind k, std::int64_t ranks);

struct Collective {
  CollectiveKind kind = CollectiveKind::kAllGather;
  std::int64_t ranks = 0;   ///< n, each group's size
  std::int64_t groups = 0;  ///< groups running at once
  double size_bytes = 0;    ///< nccl-tests' size: all-gather's output, all-to-all's send buffer
  std::vector<Phase> phases;
};

using RankGroups = std::vector<std::vector<std::int32_t>>;

/// Groups of `group_size` ranks among `gpus`: {b + o, b + o + stride, ...} for each block start b
/// (a multiple of group_size x stride) and offset o < stride. stride 1: consecutive ranks (TP
/// groups); stride = TP: one rank per TP group (DP groups, across nodes).
RankGroups rank_groups(std::int32_t gpus, std::int32_t group_size, std::int32_t stride = 1);

/// The most channels a ring hop is split over (NCCL's NCCL_MAX_NCHANNELS is 32 on Hopper).
inline constexpr std::int32_t kMaxRingChannels = 64;

/// Rings of each group (NCCL's ring order by rank). `channels` > 1 splits every hop into that
/// many flows of 1/channels of its bytes, as NCCL spreads a collective over channels whose
/// connections (QPs) ECMP hashes apart: each flow gets its own flow index, hence its own hash.
Collective ring_all_gather(const RankGroups& groups, double size_bytes, std::int32_t channels = 1);
Collective ring_reduce_scatter(const RankGroups& groups, double size_bytes,
                               std::int32_t channels = 1);
Collective ring_all_reduce(const RankGroups& groups, double size_bytes, std::int32_t channels = 1);
Collective all_to_all(const RankGroups& groups, double size_bytes);

struct PhaseResult {
  std::int64_t flows = 0;
  std::int64_t repeat = 1;
  double time_s = 0;        ///< one step: the latest finish plus its path latency
  double fluid_time_s = 0;  ///< the latest fluid finish, no latency
  std::int64_t events = 0;
  std::int64_t spine_flows = 0;     ///< flows that picked one spine (kEcmp, kStatic)
  std::int64_t collided_flows = 0;  ///< of them, on a leaf-spine link over its fair count
  /// The most flows on one leaf-spine link over an even spread's (ceil(its leaf's flows /
  /// spines)); 1: even. With many flows a leaf, ECMP's hot spot, where the collided fraction
  /// (flows on links above the even count) says little. FT3: the leaf-aggregation links as
  /// the leaf-spine ones, and the aggregation-core links likewise (ceil(an aggregation
  /// switch's cross-pod flows / its cores)); a flow over the fair count on either collided.
  double spine_imbalance = 0;
};

struct LinkLoad {
  std::int32_t link = 0;
  double bytes = 0;        ///< over the whole collective
  double utilization = 0;  ///< bytes / (capacity x time)
};

struct CollectiveResult {
  CollectiveKind kind = CollectiveKind::kAllGather;
  RoutingOptions routing;
  std::int64_t ranks = 0;
  std::int64_t groups = 0;
  double size_bytes = 0;
  double time_s = 0;
  double algbw_bytes_per_s = 0;
  double busbw_bytes_per_s = 0;
  std::int64_t flows = 0;  ///< repeats counted
  std::vector<PhaseResult> phases;
  std::vector<double> link_bytes;        ///< per graph link (bundles spread over their links)
  std::vector<double> link_utilization;  ///< per graph link
  std::vector<LinkLoad> hottest_links;   ///< the most utilized, at most kHottestLinks
  /// Of the flows that picked one spine, those on a leaf-spine link carrying more flows than
  /// an even spread of its leaf's flows would (ceil(flows / spines)): with no more flows than
  /// spines, the flows that share a link with another because their hashes collided.
  double ecmp_collision_fraction = 0;
  double spine_imbalance = 0;  ///< the phases' largest (PhaseResult::spine_imbalance)
  /// Flows (over the repeats) that picked one spine or a dragonfly's global link: 0 when no
  /// flow had a choice (NVLink only, one leaf), and the two figures above mean nothing.
  std::int64_t spine_flows = 0;
};

inline constexpr size_t kHottestLinks = 10;

/// One phase: routes every flow (flow index = its position), runs the fluid model. Adds each
/// resource's carried bytes to `resource_bytes` (sized resource_count(g)) when given.
PhaseResult simulate_phase(const FabricGraph& g, std::span<const Flow> flows,
                           const RoutingOptions& routing,
                           std::vector<double>* resource_bytes = nullptr,
                           const FluidOptions& fluid = {});

CollectiveResult simulate_collective(const FabricGraph& g, const Collective& c,
                                     const RoutingOptions& routing, const FluidOptions& fluid = {});

}  // namespace cobench::topo
