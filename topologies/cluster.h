// SPDX-License-Identifier: Apache-2.0
// A cluster description (docs/cluster-format.md): nodes, their scale-up domain, the scale-out
// network and its fabric, and prices. Read from topologies/clusters/*.yaml; every value carries
// its unit, every error names file:line:column and the key.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"
#include "core/units.h"
#include "topologies/network_topology.h"
#include "topologies/node_spec.h"

namespace cobench::topo {

struct ScaleUpSpec {
  std::string link;                ///< "NVLink", "none"
  std::int64_t domain_gpus = 0;    ///< GPUs one scale-up domain joins (8, 72)
  Bandwidth bandwidth_nominal;     ///< per GPU, one direction
  Bandwidth bandwidth_achievable;  ///< per GPU, one direction, as achieved by collectives
  Seconds latency;
};

struct ScaleOutSpec {
  std::string link;                ///< "InfiniBand", "RoCE", "Ethernet", "none"
  Bandwidth bandwidth_achievable;  ///< per NIC, one direction
  Seconds latency_same_leaf;
  Seconds latency_cross_leaf;
};

enum class FabricKind {
  kNone,
  kFatTree2,
  kFatTree3,
  kMultiPlaneFatTree,
  kMultiRail,
  kSlimFly,
  kDragonfly
};
std::string_view to_string(FabricKind k);

struct FabricSpec {
  FabricKind kind = FabricKind::kNone;
  std::int64_t planes = 1;
  std::int64_t switch_radix = 0;
  NetworkPrices prices;
};

struct ClusterSpec {
  std::string name;
  std::int64_t nodes = 1;
  NodeSpec node;
  ScaleUpSpec scale_up;
  ScaleOutSpec scale_out;
  FabricSpec fabric;
  std::optional<double> gpu_hour_usd;

  std::int64_t gpus() const { return nodes * node.gpus_per_node; }
};

/// Reads a `cluster:` document.
ClusterSpec load_cluster(const config::Node& root);

}  // namespace cobench::topo
