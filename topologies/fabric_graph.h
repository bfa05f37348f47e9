// SPDX-License-Identifier: Apache-2.0
// The cluster as a directed graph for the flow-level fabric simulator: GPUs, NICs, scale-up
// (NVLink) switches, and the leaf and spine switches of a two-level fat tree (FT2), a
// multi-plane fat tree (MPFT: NIC i of every node in plane i, each plane its own FT2) or a
// multi-rail fat tree (MRFT: NIC i of every node on the leaves of rail i, spines shared by all
// rails), sized to the cluster: as many leaves as its NICs need at radix/2 endpoint ports each,
// and radix/2 spines per tree with one cable to each leaf (1:1; each spine uses as many of its
// radix ports as there are leaves). Every link is directed and has a capacity (bytes/s) and a
// latency; ids are ints into flat vectors, and each link id is a formula of its endpoint, so
// routing never searches.
//
// A three-level fat tree (FT3, k = radix, h = k/2) is built the same way one tier up: the
// leaves (edge switches, h NIC ports each, filled in order) form pods of h leaves (the last pod
// may hold fewer); each pod has h aggregation switches and every leaf of the pod has one cable
// to each of them (1:1); aggregation switch j of every pod has one cable to each of the h core
// switches of core group j (h x h cores). As many pods as the NICs need, at most k (a core has
// k ports). A cluster that fits one pod is still an FT3, built without the core tier (its
// aggregation switches are then the spines of an FT2 of the same radix; the sizing note says
// so); one leaf has no tier above it at all. In an FT3 the leaf-to-"spine" link block holds the
// leaf-to-aggregation cables (the "spine" index is the aggregation switch's index j in the
// pod), and two more blocks hold the aggregation-core cables.
//
// Slim Fly and dragonfly (direct networks, direct_network.h), sized to the cluster: each router
// holds p NICs (the graph's "leaves" are the routers: NIC n on router n / p) and links to other
// routers. Slim Fly: the smallest MMS graph (prime power q, q mod 4 != 2) whose 2q^2 routers
// of p = ceil(k'/2) NIC ports hold the NICs, k' = (3q - delta)/2 its network degree, with
// k' + p <= radix (the Slim Fly paper's balanced p). Dragonfly: the balanced canonical one of
// network_topology.h (p = (radix + 1)/4, a = 2p routers a group, h = p global links a router),
// as many groups as the NICs need (a single group: only as many routers as they need), at
// most a h + 1. Router-router links carry the leaf-spine rate and latency (a two-hop Slim Fly
// path costs latency_cross_leaf, as a fat tree's spine hop does; a dragonfly's global cable is
// priced as a local one: a cluster file gives no cable lengths). Unused routers (the last
// group's, or those of a Slim Fly beyond the NICs) still forward.
//
// Capacities: GPU <-> scale-up switch: scale_up.bandwidth_achievable (per GPU, each direction);
// GPU <-> NIC: node.nic_speed (the line rate; scale_out.bandwidth_achievable when absent);
// NIC <-> leaf: scale_out.bandwidth_achievable; leaf <-> spine: the same / oversubscription.
// Latencies add up along a path to the cluster's end-to-end figures: each scale-up link half of
// scale_up.latency, each NIC-leaf link half of latency_same_leaf, each leaf-spine link half of
// (latency_cross_leaf - latency_same_leaf), GPU-NIC links none. FT3: leaf-aggregation and
// aggregation-core links both carry the leaf-spine rate (oversubscription at the leaf only:
// an aggregation switch has as many up as down ports) and latency (an assumption: a cluster file
// gives no cross-pod latency, so each extra switch pair adds what a spine hop adds; cross-pod =
// latency_cross_leaf + (latency_cross_leaf - latency_same_leaf)).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/direct_network.h"

namespace cobench::topo {

/// The most GPUs a fabric graph holds (ids are 32-bit; an all-to-all is bounded separately).
inline constexpr std::int64_t kMaxFabricGpus = 1 << 20;

enum class VertexKind : std::uint8_t {
  kGpu,
  kNic,
  kScaleUpSwitch,
  kLeaf,
  kSpine,
  kAggregation,  ///< FT3: the middle tier, h per pod
  kCore,         ///< FT3: the top tier, h groups of h
  kRouter        ///< Slim Fly or dragonfly: a switch with NICs and links to other routers
};
std::string_view to_string(VertexKind k);

enum class LinkKind : std::uint8_t {
  kGpuToScaleUp,
  kScaleUpToGpu,
  kGpuToNic,
  kNicToGpu,
  kNicToLeaf,
  kLeafToNic,
  kLeafToSpine,
  kSpineToLeaf,
  kLeafToAggregation,  ///< FT3 (the leaf-to-spine block of an FT3)
  kAggregationToLeaf,
  kAggregationToCore,
  kCoreToAggregation,
  kRouterToRouter,  ///< Slim Fly
  kLocal,           ///< dragonfly: within a group
  kGlobal           ///< dragonfly: between groups
};
std::string_view to_string(LinkKind k);

struct FabricOptions {
  /// Leaf down:up bandwidth ratio; leaf-spine links carry the per-port rate divided by it.
  double oversubscription = 1.0;
};

/// What the build used: switch counts and how full the tiers are.
struct FabricSizing {
  std::int64_t trees = 0;            ///< separate FT2s: an MPFT's planes, else 1 (0: none)
  std::int64_t rails = 1;            ///< NIC groups: planes (MPFT) or rails (MRFT); FT2 1
  std::int64_t leaves_per_tree = 0;  ///< an MRFT's tree holds every rail's leaves
  std::int64_t spines_per_tree = 0;  ///< radix/2 when a tree has 2 or more leaves, else 0 (FT3: 0)
  std::int64_t leaves = 0;           ///< all trees
  std::int64_t spines = 0;           ///< all trees (FT3: 0; see aggregations and cores)
  std::int64_t pods = 0;             ///< FT3: pods of up to radix/2 leaves; else 0
  std::int64_t aggregations = 0;     ///< FT3: radix/2 a pod (0 for a single leaf)
  std::int64_t cores = 0;            ///< FT3: (radix/2)^2 with 2 or more pods, else 0
  std::int64_t switches = 0;  ///< leaves + spines + aggregations + cores (scale-up not counted)
  std::int64_t leaf_spine_cables = 0;        ///< FT3: the leaf-aggregation cables
  std::int64_t aggregation_core_cables = 0;  ///< FT3: pods x (radix/2)^2 with a core tier
  std::int64_t routers = 0;                  ///< Slim Fly, dragonfly: all of them (= leaves)
  std::int64_t router_cables = 0;            ///< Slim Fly, dragonfly: router-router cables
  double leaf_port_fraction = 0;             ///< NIC ports used / leaves x radix/2
  /// Top-tier ports used / their ports: spines (FT2), cores (FT3: pods / radix), or an
  /// FT3's aggregation switches when it has one pod; a router's ports used (network and
  /// endpoint) / its radix (Slim Fly, dragonfly).
  double top_tier_port_fraction = 0;
  std::string note;
};

class FabricGraph {
 public:
  /// Builds the graph of `cluster` (fabric ft2, ft3, mpft, multi-rail, slim-fly or dragonfly;
  /// or none for one node).
  /// Throws cobench::Error for another fabric, a cluster its radix cannot hold, or a missing
  /// rate.
  explicit FabricGraph(const ClusterSpec& cluster, const FabricOptions& options = {});

  FabricKind kind() const { return kind_; }
  const FabricSizing& sizing() const { return sizing_; }

  std::int32_t gpus() const { return gpus_; }
  std::int32_t nodes() const { return nodes_; }
  std::int32_t gpus_per_node() const { return gpus_per_node_; }
  std::int32_t nics_per_node() const { return nics_per_node_; }
  std::int32_t nics() const { return nodes_ * nics_per_node_; }
  bool has_scale_up() const { return has_scale_up_; }
  bool has_network() const { return has_network_; }
  std::int32_t rails() const { return rails_; }
  std::int32_t leaves() const { return leaves_; }
  /// A leaf's uplinks: the spines of its tree (FT2, MPFT, MRFT) or the aggregation switches of
  /// its pod (FT3); 0 when it is alone.
  std::int32_t spines_per_tree() const { return spines_per_tree_; }
  // FT3 (all 0 or 1 on other fabrics).
  std::int32_t pods() const { return pods_; }
  /// The leaves pod p holds: leaves p x radix/2 onwards.
  std::int32_t pod_of_leaf(std::int32_t leaf) const {
    return kind_ == FabricKind::kFatTree3 ? leaf / half_radix_ : 0;
  }
  /// Cores a group (radix/2 with a core tier, else 0); core (j, c) is joined to aggregation
  /// switch j of every pod.
  std::int32_t cores_per_group() const { return cores_per_group_; }

  /// Slim Fly or dragonfly: the router graph (its routers are the graph's leaves: a NIC's
  /// switch); nullptr for the trees.
  const DirectNetwork* direct() const { return direct_.get(); }
  /// The graph's link id of the router graph's link `direct_link`.
  std::int32_t router_link(std::int32_t direct_link) const { return off_router_ + direct_link; }
  /// NIC ports a router has (Slim Fly, dragonfly: p; the trees: radix/2).
  std::int32_t nic_ports_per_leaf() const { return half_radix_; }

  // Addressing. GPU ids run node by node; NIC ids likewise (node x nics_per_node + i).
  std::int32_t node_of(std::int32_t gpu) const { return gpu / gpus_per_node_; }
  std::int32_t local_of(std::int32_t gpu) const { return gpu % gpus_per_node_; }
  std::int32_t domain_of(std::int32_t gpu) const { return gpu / domain_gpus_; }
  /// GPU i of a node uses NIC i x nics_per_node / gpus_per_node (NIC i when the counts match).
  std::int32_t nic_of(std::int32_t gpu) const;
  /// The plane (MPFT) or rail (MRFT) of a NIC: its index in the node; 0 in an FT2.
  std::int32_t rail_of_nic(std::int32_t nic) const;
  std::int32_t leaf_of_nic(std::int32_t nic) const;
  /// The NIC's down port on its leaf (0 to radix/2 - 1).
  std::int32_t port_of_nic(std::int32_t nic) const;
  std::int32_t tree_of_leaf(std::int32_t leaf) const;
  /// The first GPU of `node` whose NIC is on `rail`; -1 when none.
  std::int32_t gpu_on_rail(std::int32_t node, std::int32_t rail) const;

  // Link ids.
  std::int32_t links() const { return static_cast<std::int32_t>(from_.size()); }
  std::int32_t scale_up_out(std::int32_t gpu) const { return off_su_out_ + gpu; }
  std::int32_t scale_up_in(std::int32_t gpu) const { return off_su_in_ + gpu; }
  std::int32_t gpu_to_nic(std::int32_t gpu) const { return off_gpu_nic_ + gpu; }
  std::int32_t nic_to_gpu(std::int32_t gpu) const { return off_nic_gpu_ + gpu; }
  std::int32_t nic_to_leaf(std::int32_t nic) const { return off_nic_leaf_ + nic; }
  std::int32_t leaf_to_nic(std::int32_t nic) const { return off_leaf_nic_ + nic; }
  /// `spine` counts within the leaf's tree (0 to spines_per_tree - 1).
  std::int32_t leaf_to_spine(std::int32_t leaf, std::int32_t spine) const {
    return off_leaf_spine_ + leaf * spines_per_tree_ + spine;
  }
  std::int32_t spine_to_leaf(std::int32_t leaf, std::int32_t spine) const {
    return off_spine_leaf_ + leaf * spines_per_tree_ + spine;
  }
  /// The first leaf-to-spine link id; the block has leaves x spines_per_tree links, as does
  /// the spine-to-leaf block after it.
  std::int32_t first_leaf_to_spine() const { return off_leaf_spine_; }
  std::int32_t first_spine_to_leaf() const { return off_spine_leaf_; }
  /// FT3: aggregation switch `agg` of `pod` to core `core` of group `agg`, and back.
  std::int32_t aggregation_to_core(std::int32_t pod, std::int32_t agg, std::int32_t core) const {
    return off_agg_core_ + (pod * spines_per_tree_ + agg) * cores_per_group_ + core;
  }
  std::int32_t core_to_aggregation(std::int32_t pod, std::int32_t agg, std::int32_t core) const {
    return off_core_agg_ + (pod * spines_per_tree_ + agg) * cores_per_group_ + core;
  }

  std::int32_t link_from(std::int32_t link) const { return from_[link]; }
  std::int32_t link_to(std::int32_t link) const { return to_[link]; }
  double capacity_bytes_per_s(std::int32_t link) const { return capacity_[link]; }
  double latency_s(std::int32_t link) const { return latency_[link]; }
  LinkKind link_kind(std::int32_t link) const { return kind_of_[link]; }
  const std::vector<double>& capacities_bytes_per_s() const { return capacity_; }

  // Failures (fabric_failure.h): a failed link keeps its id but carries nothing (capacity 0)
  // and routing avoids it.
  void fail_link(std::int32_t link);
  bool link_up(std::int32_t link) const { return up_[static_cast<size_t>(link)] != 0; }
  std::int32_t failed_links() const { return failed_; }
  /// The NIC's links to and from its leaf are both up (its plane or rail reaches it).
  bool nic_up(std::int32_t nic) const {
    return failed_ == 0 || (link_up(nic_to_leaf(nic)) && link_up(leaf_to_nic(nic)));
  }
  /// A spine joins two leaves of its tree: the cable up from `from_leaf` and the cable down to
  /// `to_leaf` both up.
  bool spine_joins(std::int32_t from_leaf, std::int32_t to_leaf, std::int32_t spine) const {
    return failed_ == 0 ||
           (link_up(leaf_to_spine(from_leaf, spine)) && link_up(spine_to_leaf(to_leaf, spine)));
  }
  /// Leaves a tree holds (an MPFT plane's, or the one tree's).
  std::int32_t leaves_per_tree() const { return leaves_per_tree_; }
  /// The global leaf id of leaf `index` in the tree of plane or rail `tree_or_rail` (its
  /// rail's leaves in an MRFT); -1 when out of range.
  std::int32_t leaf_id(std::int32_t tree_or_rail, std::int32_t index) const;
  /// Leaves of one plane or rail (an FT2: all of them).
  std::int32_t leaves_per_rail() const { return single_tree() ? leaves_ : leaves_per_rail_; }

  // Vertices: GPUs, NICs, scale-up switches, leaves, spines (FT3: aggregation switches pod by
  // pod, then cores group by group), in that order.
  std::int32_t vertices() const { return vertices_; }
  VertexKind vertex_kind(std::int32_t vertex) const;
  /// "gpu3.5" (node 3, local 5), "nic3.5", "nvswitch0", "leaf p2.1" (plane 2; "r" a rail),
  /// "spine p2.7", "agg 3.1" (pod 3, switch 1), "core 1.0" (group 1, core 0).
  std::string vertex_name(std::int32_t vertex) const;
  std::string link_name(std::int32_t link) const;  ///< "nic3.5 -> leaf p5.0"

 private:
  bool single_tree() const {
    return kind_ == FabricKind::kFatTree2 || kind_ == FabricKind::kFatTree3 || direct_;
  }
  void build_tree_sizing(std::int64_t radix, std::int64_t trees);  // FT2, MPFT, MRFT
  void build_direct(const ClusterSpec& c, std::int64_t radix);     // Slim Fly, dragonfly
  void build_ft3_sizing(const ClusterSpec& c, std::int64_t radix);
  std::int32_t add_link(std::int32_t from, std::int32_t to, double capacity, double latency,
                        LinkKind kind);
  std::string tree_prefix(std::int32_t tree_or_rail) const;

  FabricKind kind_ = FabricKind::kNone;
  FabricSizing sizing_;
  std::int32_t gpus_ = 0, nodes_ = 0, gpus_per_node_ = 0, nics_per_node_ = 0;
  std::int32_t domain_gpus_ = 1;
  bool has_scale_up_ = false, has_network_ = false;
  std::int32_t rails_ = 1, leaves_ = 0, leaves_per_tree_ = 0, leaves_per_rail_ = 0;
  std::int32_t spines_per_tree_ = 0, half_radix_ = 0, pods_ = 0, cores_per_group_ = 0;
  // First link id of each block.
  std::int32_t off_su_out_ = 0, off_su_in_ = 0, off_gpu_nic_ = 0, off_nic_gpu_ = 0;
  std::int32_t off_nic_leaf_ = 0, off_leaf_nic_ = 0, off_leaf_spine_ = 0, off_spine_leaf_ = 0;
  std::int32_t off_agg_core_ = 0, off_core_agg_ = 0, off_router_ = 0;
  std::shared_ptr<const DirectNetwork> direct_;
  // First vertex id of each kind after the GPUs (FT3: spines are the aggregation switches).
  std::int32_t off_nic_v_ = 0, off_su_v_ = 0, off_leaf_v_ = 0, off_spine_v_ = 0, off_core_v_ = 0;
  std::int32_t vertices_ = 0;
  std::vector<std::int32_t> from_, to_;
  std::vector<double> capacity_, latency_;
  std::vector<LinkKind> kind_of_;
  std::vector<std::uint8_t> up_;
  std::int32_t failed_ = 0;
};

}  // namespace cobench::topo
