// SPDX-License-Identifier: Apache-2.0
// `cobench fabric`: a collective simulated on a cluster's fabric (fabric_graph.h, fabric_routing.h,
// fabric_flows.h) under each routing policy, as a report (text, Markdown, JSON): how the fabric is
// built and how much of it is used, then per policy the time, algbw and busbw in nccl-tests' terms,
// the ECMP collisions and the hottest links; with link failures (fabric_failure.h), each policy's
// loss against the healthy fabric; the traffic a collective or a file's flows (fabric_traffic.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/fabric_ep.h"
#include "topologies/fabric_flows.h"
#include "topologies/report.h"

namespace cobench::topo {

struct FabricRequest {
  CollectiveKind kind = CollectiveKind::kAllGather;
  std::int32_t gpus = 0;        ///< the first N GPUs of the cluster (0: all)
  std::int32_t group = 0;       ///< ranks a group (0: all of them); groups run at once
  std::int32_t stride = 1;      ///< 1: consecutive ranks; TP: one rank per TP group
  double size_bytes = 1 << 30;  ///< nccl-tests' size (all-gather output, all-to-all send buffer)
  std::vector<RoutingPolicy> policies{RoutingPolicy::kEcmp, RoutingPolicy::kStatic,
                                      RoutingPolicy::kAdaptive};
  bool pxn = true;
  std::uint64_t seed = 0;
  double oversubscription = 1;
  /// FluidOptions::finish_window: 0 exact; a coarser run for big oversubscribed ECMP cases.
  double finish_window = 0;
  /// Ring collectives: flows a hop is split over (NCCL's channels, hashed apart by ECMP).
  std::int32_t channels = 1;
  /// Link failures (fabric_failure.h specs): each policy is run on the healthy fabric and on
  /// the one with these links down, and the report says what it loses.
  std::vector<std::string> failures;
  /// A traffic-matrix file (fabric_traffic.h) instead of `kind`: its flows as one phase;
  /// group, stride and size_bytes do not apply.
  std::string traffic_file;
  /// EP dispatch or combine (fabric_ep.h) instead of `kind`: tokens routed under the
  /// node-limited rule, DeepEP's two-stage forwarding; group, stride and size_bytes do not apply.
  bool ep = false;
  EpDirection ep_direction = EpDirection::kDispatch;
  EpTrafficOptions ep_options;
  /// Results files or directories of `cobench_coll` (fabric_measured.h): the measured busbw of the
  /// simulated collective at its group's rank count and size, beside each routing's, with the
  /// ratio. Collectives only (not EP or a traffic file).
  std::vector<std::string> measured;
  /// --measured-as link: records of another link class (a host path, another GPU) are compared
  /// on purpose; otherwise they are refused (measured_identity.h's link_mismatch).
  bool measured_as_link = false;
  /// Called as the long stages go (routing the EP tokens: GPUs; each policy's fluid run: flows
  /// finished), with the stage, the work done and all of it; the caller decides how often to
  /// print. Empty: nothing is called.
  std::function<void(std::string_view stage, std::int64_t done, std::int64_t total)> progress;
};

/// "ep_dispatch" or "ep_combine".
bool is_ep_traffic_name(const std::string& name);

CollectiveKind parse_collective_kind(const std::string& name);
/// The name parse_collective_kind takes and `cobench_coll` records carry ("all_gather").
std::string collective_name(CollectiveKind k);
/// The names parse_collective_kind takes (all_gather, ...).
bool is_collective_name(const std::string& name);

/// Throws cobench::Error naming the value for a request the fabric cannot hold.
Report fabric_report(const ClusterSpec& c, const FabricRequest& r);

}  // namespace cobench::topo
