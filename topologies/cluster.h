// SPDX-License-Identifier: Apache-2.0
// A cluster description (docs/cluster-format.md): nodes, their scale-up domain, the scale-out
// network and its fabric, and prices. Read from topologies/clusters/*.yaml; every value carries
// its unit, every error names file:line:column and the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/units.h"
#include "topologies/network_topology.h"
#include "topologies/node_spec.h"

namespace cobench::topo {

/// The ranges of the cluster's counts (docs/cluster-format.md). With the node's (node_spec.h)
/// they bound every product the model forms: GPUs or NICs of the cluster at most about 10^8,
/// a fabric's endpoints (radix^3 / 4) about 1.7 x 10^10.
inline constexpr std::int64_t kMaxNodes = 100'000;
inline constexpr std::int64_t kMaxDomainGpus = 100'000;
inline constexpr std::int64_t kMaxPlanes = kMaxNicsPerNode;
inline constexpr std::int64_t kMaxSwitchRadix = 4096;

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

  /// At most kMaxNodes x kMaxGpusPerNode: no overflow.
  std::int64_t gpus() const { return nodes * node.gpus_per_node; }
};

/// The error for a cluster without GPUs where `what` needs them, at the line of the file that
/// says so: "<file>:<line>:<col>: key 'cluster.node.gpus_per_node': cluster 'NAME' has no GPUs
/// (0 a node): <what> needs them". Throws cobench::Error.
[[noreturn]] void throw_no_gpus(const ClusterSpec& c, std::string_view what);

/// Reads a `cluster:` document.
ClusterSpec load_cluster(const config::Node& root);

}  // namespace cobench::topo
