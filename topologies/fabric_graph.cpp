// SPDX-License-Identifier: Apache-2.0
// Builds the fabric graph of a cluster (fabric_graph.h): the link blocks, their rates and
// latencies, and the names the simulator's reports use.
#include "topologies/fabric_graph.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "topologies/galois_field.h"

namespace cobench::topo {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::string_view to_string(VertexKind k) {
  switch (k) {
    case VertexKind::kGpu:
      return "gpu";
    case VertexKind::kNic:
      return "nic";
    case VertexKind::kScaleUpSwitch:
      return "scale-up switch";
    case VertexKind::kLeaf:
      return "leaf";
    case VertexKind::kSpine:
      return "spine";
    case VertexKind::kAggregation:
      return "aggregation";
    case VertexKind::kCore:
      return "core";
    case VertexKind::kRouter:
      return "router";
  }
  return "?";
}

std::string_view to_string(LinkKind k) {
  switch (k) {
    case LinkKind::kGpuToScaleUp:
      return "gpu->scale-up";
    case LinkKind::kScaleUpToGpu:
      return "scale-up->gpu";
    case LinkKind::kGpuToNic:
      return "gpu->nic";
    case LinkKind::kNicToGpu:
      return "nic->gpu";
    case LinkKind::kNicToLeaf:
      return "nic->leaf";
    case LinkKind::kLeafToNic:
      return "leaf->nic";
    case LinkKind::kLeafToSpine:
      return "leaf->spine";
    case LinkKind::kSpineToLeaf:
      return "spine->leaf";
    case LinkKind::kLeafToAggregation:
      return "leaf->aggregation";
    case LinkKind::kAggregationToLeaf:
      return "aggregation->leaf";
    case LinkKind::kAggregationToCore:
      return "aggregation->core";
    case LinkKind::kCoreToAggregation:
      return "core->aggregation";
    case LinkKind::kRouterToRouter:
      return "router->router";
    case LinkKind::kLocal:
      return "local";
    case LinkKind::kGlobal:
      return "global";
  }
  return "?";
}

FabricGraph::FabricGraph(const ClusterSpec& c, const FabricOptions& options)
    : kind_(c.fabric.kind) {
  if (c.node.gpus_per_node < 1) throw_no_gpus(c, "the fabric simulator");
  if (c.nodes < 1)
    throw Error(
        fmt::format("cluster '{}': the fabric simulator needs GPUs; got {} nodes of {} GPUs",
                    c.name, c.nodes, c.node.gpus_per_node));
  if (c.nodes > kMaxFabricGpus || c.gpus() > kMaxFabricGpus)
    throw Error(fmt::format("cluster '{}' has {} GPUs; the fabric simulator holds at most {}",
                            c.name, c.gpus(), kMaxFabricGpus));
  if (!std::isfinite(options.oversubscription) || options.oversubscription < 1.0)
    throw Error(
        fmt::format("oversubscription {}: expected a finite ratio >= 1", options.oversubscription));
  nodes_ = static_cast<std::int32_t>(c.nodes);
  gpus_per_node_ = static_cast<std::int32_t>(c.node.gpus_per_node);
  gpus_ = nodes_ * gpus_per_node_;

  switch (kind_) {
    case FabricKind::kNone:
      if (c.nodes > 1)
        throw Error(
            fmt::format("cluster '{}' has {} nodes but fabric 'none': several nodes need "
                        "a scale-out fabric (ft2, ft3, mpft, multi-rail, slim-fly, dragonfly)",
                        c.name, c.nodes));
      break;
    case FabricKind::kFatTree2:
    case FabricKind::kFatTree3:
    case FabricKind::kMultiPlaneFatTree:
    case FabricKind::kMultiRail:
    case FabricKind::kSlimFly:
    case FabricKind::kDragonfly:
      has_network_ = true;
      break;
    default:
      throw Error(
          fmt::format("cluster '{}': fabric '{}' is not simulated; expected ft2, ft3, mpft, "
                      "multi-rail, slim-fly or dragonfly (or none for one node)",
                      c.name, to_string(kind_)));
  }

  // Scale-up: one switch per domain of domain_gpus consecutive GPUs (the last may be smaller).
  has_scale_up_ = gpus_ > 1 && c.scale_up.domain_gpus > 1 && c.scale_up.link != "none";
  if (has_scale_up_ && c.scale_up.bandwidth_achievable.value <= 0)
    throw Error(
        fmt::format("cluster '{}': scale_up.bandwidth_achievable is {} B/s; expected > 0 "
                    "for a scale-up domain of {} GPUs",
                    c.name, c.scale_up.bandwidth_achievable.value, c.scale_up.domain_gpus));
  domain_gpus_ =
      has_scale_up_
          ? static_cast<std::int32_t>(std::min<std::int64_t>(c.scale_up.domain_gpus, gpus_))
          : 1;
  const std::int32_t domains =
      has_scale_up_ ? static_cast<std::int32_t>(ceil_div(gpus_, domain_gpus_)) : 0;

  // Scale-out: leaves sized to the NICs, radix/2 spines per tree with one cable to each leaf.
  double nic_leaf_rate = 0, gpu_nic_rate = 0;
  if (has_network_) {
    if (c.node.nics_per_node < 1)
      throw Error(fmt::format("{}cluster '{}': node.nics_per_node is {}; a {} fabric needs >= 1",
                              c.node.nics_per_node_at.empty() ? "" : c.node.nics_per_node_at + ": ",
                              c.name, c.node.nics_per_node, to_string(kind_)));
    nic_leaf_rate = c.scale_out.bandwidth_achievable.value;
    if (nic_leaf_rate <= 0)
      throw Error(
          fmt::format("cluster '{}': scale_out.bandwidth_achievable is {} B/s; expected > 0",
                      c.name, nic_leaf_rate));
    gpu_nic_rate = c.node.nic_speed ? c.node.nic_speed->value : nic_leaf_rate;
    const std::int64_t radix = c.fabric.switch_radix;
    const bool direct = kind_ == FabricKind::kSlimFly || kind_ == FabricKind::kDragonfly;
    if (!direct && (radix < 4 || radix % 2 != 0))
      throw Error(fmt::format("cluster '{}': switch radix {}; a fat tree needs an even radix >= 4",
                              c.name, radix));
    nics_per_node_ = static_cast<std::int32_t>(c.node.nics_per_node);
    if (c.nodes * nics_per_node_ > kMaxFabricGpus)
      throw Error(fmt::format("cluster '{}' has {} NICs; the fabric simulator holds at most {}",
                              c.name, c.nodes * nics_per_node_, kMaxFabricGpus));
    half_radix_ = static_cast<std::int32_t>(radix / 2);
    std::int64_t trees = 1, leaves_per_tree = 0;
    if (direct) {
      build_direct(c, radix);
    } else if (kind_ == FabricKind::kFatTree2 || kind_ == FabricKind::kFatTree3) {
      leaves_per_tree = ceil_div(nics(), half_radix_);
    } else if (kind_ == FabricKind::kMultiPlaneFatTree) {
      if (c.fabric.planes != nics_per_node_)
        throw Error(
            fmt::format("cluster '{}': a multi-plane fat tree puts NIC i of each node in "
                        "plane i; got {} planes for {} NICs per node",
                        c.name, c.fabric.planes, nics_per_node_));
      rails_ = nics_per_node_;
      trees = rails_;
      leaves_per_tree = ceil_div(nodes_, half_radix_);
    } else {  // multi-rail: every rail's leaves in one tree
      rails_ = nics_per_node_;
      leaves_per_rail_ = static_cast<std::int32_t>(ceil_div(nodes_, half_radix_));
      leaves_per_tree = std::int64_t{rails_} * leaves_per_rail_;
    }
    if (direct) {
      // build_direct sized everything.
    } else if (kind_ == FabricKind::kFatTree3) {
      build_ft3_sizing(c, radix);
    } else {
      if (leaves_per_tree > radix)
        throw Error(fmt::format(
            "cluster '{}' does not fit a {} of radix {}: its {} NICs need {} leaves of {} ports "
            "in one tree, but a spine of radix {} reaches at most {} leaves",
            c.name, to_string(kind_), radix, nics(), leaves_per_tree, half_radix_, radix, radix));
      if (kind_ == FabricKind::kMultiPlaneFatTree)
        leaves_per_rail_ = static_cast<std::int32_t>(leaves_per_tree);
      leaves_per_tree_ = static_cast<std::int32_t>(leaves_per_tree);
      leaves_ = static_cast<std::int32_t>(trees * leaves_per_tree);
      spines_per_tree_ = leaves_per_tree > 1 ? half_radix_ : 0;
      build_tree_sizing(radix, trees);
    }
  }

  // Vertices.
  off_nic_v_ = gpus_;
  off_su_v_ = off_nic_v_ + (has_network_ ? nics() : 0);
  off_leaf_v_ = off_su_v_ + domains;
  off_spine_v_ = off_leaf_v_ + leaves_;
  off_core_v_ = off_spine_v_ + static_cast<std::int32_t>(sizing_.spines + sizing_.aggregations);
  vertices_ = off_core_v_ + static_cast<std::int32_t>(sizing_.cores);

  // Links, block by block (the offsets are the link-id formulas of the header).
  const std::int64_t cables =
      std::int64_t{leaves_} * spines_per_tree_ + sizing_.aggregation_core_cables;
  const std::int64_t total = (has_scale_up_ ? 2 * std::int64_t{gpus_} : 0) +
                             (has_network_ ? 2 * std::int64_t{gpus_} + 2 * nics() : 0) +
                             2 * cables + (direct_ ? direct_->links() : 0);
  from_.reserve(total), to_.reserve(total), capacity_.reserve(total), up_.reserve(total);
  latency_.reserve(total), kind_of_.reserve(total);
  const double su_rate = c.scale_up.bandwidth_achievable.value;
  const double su_latency = c.scale_up.latency.value / 2;
  off_su_out_ = links();
  if (has_scale_up_)
    for (std::int32_t g = 0; g < gpus_; ++g)
      add_link(g, off_su_v_ + domain_of(g), su_rate, su_latency, LinkKind::kGpuToScaleUp);
  off_su_in_ = links();
  if (has_scale_up_)
    for (std::int32_t g = 0; g < gpus_; ++g)
      add_link(off_su_v_ + domain_of(g), g, su_rate, su_latency, LinkKind::kScaleUpToGpu);
  off_gpu_nic_ = links();
  if (has_network_)
    for (std::int32_t g = 0; g < gpus_; ++g)
      add_link(g, off_nic_v_ + nic_of(g), gpu_nic_rate, 0.0, LinkKind::kGpuToNic);
  off_nic_gpu_ = links();
  if (has_network_)
    for (std::int32_t g = 0; g < gpus_; ++g)
      add_link(off_nic_v_ + nic_of(g), g, gpu_nic_rate, 0.0, LinkKind::kNicToGpu);
  const double edge_latency = c.scale_out.latency_same_leaf.value / 2;
  off_nic_leaf_ = links();
  if (has_network_)
    for (std::int32_t n = 0; n < nics(); ++n)
      add_link(off_nic_v_ + n, off_leaf_v_ + leaf_of_nic(n), nic_leaf_rate, edge_latency,
               LinkKind::kNicToLeaf);
  off_leaf_nic_ = links();
  if (has_network_)
    for (std::int32_t n = 0; n < nics(); ++n)
      add_link(off_leaf_v_ + leaf_of_nic(n), off_nic_v_ + n, nic_leaf_rate, edge_latency,
               LinkKind::kLeafToNic);
  const double core_rate = nic_leaf_rate / options.oversubscription;
  const double core_latency =
      (c.scale_out.latency_cross_leaf.value - c.scale_out.latency_same_leaf.value) / 2;
  // FT3: the leaf's "spines" are its pod's aggregation switches (pod x h + j).
  const bool ft3 = kind_ == FabricKind::kFatTree3;
  auto upper = [&](std::int32_t l, std::int32_t s) {
    return off_spine_v_ + (ft3 ? pod_of_leaf(l) : tree_of_leaf(l)) * spines_per_tree_ + s;
  };
  off_leaf_spine_ = links();
  for (std::int32_t l = 0; l < leaves_; ++l)
    for (std::int32_t s = 0; s < spines_per_tree_; ++s)
      add_link(off_leaf_v_ + l, upper(l, s), core_rate, core_latency,
               ft3 ? LinkKind::kLeafToAggregation : LinkKind::kLeafToSpine);
  off_spine_leaf_ = links();
  for (std::int32_t l = 0; l < leaves_; ++l)
    for (std::int32_t s = 0; s < spines_per_tree_; ++s)
      add_link(upper(l, s), off_leaf_v_ + l, core_rate, core_latency,
               ft3 ? LinkKind::kAggregationToLeaf : LinkKind::kSpineToLeaf);
  // FT3: aggregation switch j of pod p <-> core (j, c), in the order of aggregation_to_core.
  // Both directions in the same (p, j, k) order: up first, then down.
  const auto agg_core_links = [&](bool up) {
    for (std::int32_t p = 0; p < pods_ && cores_per_group_ > 0; ++p)
      for (std::int32_t j = 0; j < spines_per_tree_; ++j)
        for (std::int32_t k = 0; k < cores_per_group_; ++k) {
          const std::int32_t agg = off_spine_v_ + p * spines_per_tree_ + j;
          const std::int32_t core = off_core_v_ + j * cores_per_group_ + k;
          add_link(up ? agg : core, up ? core : agg, core_rate, core_latency,
                   up ? LinkKind::kAggregationToCore : LinkKind::kCoreToAggregation);
        }
  };
  off_agg_core_ = links();
  agg_core_links(true);
  off_core_agg_ = links();
  agg_core_links(false);
  // Slim Fly, dragonfly: the router graph's links in its own order (router_link).
  off_router_ = links();
  for (std::int32_t l = 0; direct_ && l < direct_->links(); ++l) {
    const LinkKind kind = direct_->topology() == DirectTopology::kSlimFly
                              ? LinkKind::kRouterToRouter
                          : l < direct_->first_global_link() ? LinkKind::kLocal
                                                             : LinkKind::kGlobal;
    add_link(off_leaf_v_ + direct_->link_from(l), off_leaf_v_ + direct_->link_to(l), core_rate,
             core_latency, kind);
  }
}

void FabricGraph::build_direct(const ClusterSpec& c, std::int64_t radix) {
  FabricSizing& s = sizing_;
  std::int64_t p = 0;
  if (kind_ == FabricKind::kSlimFly) {
    // The smallest MMS graph whose routers hold the NICs at p = ceil(k'/2) each, within radix.
    std::int64_t q = 3, largest = 0;
    for (;; ++q) {
      const std::int64_t delta = q % 4 == 0 ? 0 : (q % 4 == 1 ? 1 : -1);
      const std::int64_t degree = (3 * q - delta) / 2, ports = (degree + 1) / 2;
      if (degree + ports > radix || q > kMaxGaloisOrder) break;
      if (q % 4 == 2 || prime_power_base(q) == 0) continue;
      largest = 2 * q * q * ports;
      if (largest >= nics()) {
        p = ports;
        break;
      }
    }
    if (largest == 0)
      throw Error(fmt::format(
          "cluster '{}': switch radix {} is too small for a slim-fly (the smallest MMS graph, "
          "q = 3, needs 5 network and 3 NIC ports a router)",
          c.name, radix));
    if (p == 0)
      throw Error(fmt::format(
          "cluster '{}' does not fit a slim-fly of radix {}: its {} NICs need more than the "
          "largest MMS graph whose network and NIC ports fit the radix holds ({} NICs)",
          c.name, radix, nics(), largest));
    direct_ = std::make_shared<const DirectNetwork>(
        DirectNetwork::slim_fly(static_cast<std::int32_t>(q)));
    s.note = fmt::format(
        "MMS q={} (delta {}): {} routers of network degree {} and {} NIC ports; {} of {} ports "
        "a router used",
        q, direct_->delta(), direct_->routers(), direct_->network_radix(), p,
        direct_->network_radix() + p, radix);
  } else {
    // Balanced canonical dragonfly: p = (radix + 1)/4, a = 2p, h = p.
    p = (radix + 1) / 4;
    if (p < 1)
      throw Error(
          fmt::format("cluster '{}': switch radix {} is too small for a dragonfly", c.name, radix));
    const std::int64_t a = 2 * p, h = p;
    const std::int64_t routers = ceil_div(nics(), p);
    const std::int64_t groups = ceil_div(routers, a);
    if (groups > a * h + 1)
      throw Error(fmt::format(
          "cluster '{}' does not fit a dragonfly of radix {}: its {} NICs need {} groups of {} "
          "routers ({} NICs each), but a canonical dragonfly has at most a h + 1 = {}",
          c.name, radix, nics(), groups, a, p, a * h + 1));
    direct_ = std::make_shared<const DirectNetwork>(
        DirectNetwork::dragonfly(static_cast<std::int32_t>(groups == 1 ? routers : a),
                                 static_cast<std::int32_t>(h), static_cast<std::int32_t>(groups)));
    s.note = fmt::format(
        "{} group(s) of {} routers ({} NIC ports, {} global links each, radix {} of {} used); "
        "{} global link(s) between each pair of groups, {} global port(s) a group unused",
        groups, direct_->group_size(), p, h, direct_->network_radix() + p, radix, direct_->copies(),
        groups > 1 ? direct_->unused_global_ports() : 0);
  }
  half_radix_ = static_cast<std::int32_t>(p);
  leaves_ = leaves_per_tree_ = direct_->routers();
  s.trees = 1;
  s.rails = 1;
  s.leaves = s.leaves_per_tree = s.routers = s.switches = direct_->routers();
  s.router_cables = direct_->links() / 2;
  s.leaf_port_fraction =
      static_cast<double>(nics()) / (static_cast<double>(leaves_) * static_cast<double>(p));
  s.top_tier_port_fraction =
      static_cast<double>(direct_->network_radix() + p) / static_cast<double>(radix);
}

void FabricGraph::build_tree_sizing(std::int64_t radix, std::int64_t trees) {
  const std::int64_t leaves_per_tree = leaves_per_tree_;
  sizing_.trees = trees;
  sizing_.rails = rails_;
  sizing_.leaves_per_tree = leaves_per_tree;
  sizing_.spines_per_tree = spines_per_tree_;
  sizing_.leaves = leaves_;
  sizing_.spines = trees * spines_per_tree_;
  sizing_.switches = sizing_.leaves + sizing_.spines;
  sizing_.leaf_spine_cables = std::int64_t{leaves_} * spines_per_tree_;
  sizing_.leaf_port_fraction =
      static_cast<double>(nics()) / (static_cast<double>(leaves_) * half_radix_);
  sizing_.top_tier_port_fraction =
      spines_per_tree_ > 0 ? static_cast<double>(leaves_per_tree) / static_cast<double>(radix)
                           : 0.0;
  sizing_.note = fmt::format(
      "{} tree(s) of {} leaves ({} NIC ports each) and {} spines each of radix {}; {:.1f}% of "
      "spine ports used (packed with parallel cables: {} spines in all instead of {})",
      trees, leaves_per_tree, half_radix_, spines_per_tree_, radix,
      100.0 * sizing_.top_tier_port_fraction,
      spines_per_tree_ > 0 ? trees * ceil_div(leaves_per_tree * half_radix_, radix) : 0,
      sizing_.spines);
}

void FabricGraph::build_ft3_sizing(const ClusterSpec& c, std::int64_t radix) {
  // Leaves of h NIC ports, pods of h leaves (the last may hold fewer), at most k pods (a core's
  // ports). h aggregation switches a pod (none for a single leaf), h x h cores for 2+ pods.
  const std::int64_t leaves = ceil_div(nics(), half_radix_);
  const std::int64_t pods = ceil_div(leaves, half_radix_);
  if (pods > radix)
    throw Error(fmt::format(
        "cluster '{}' does not fit an ft3 of radix {}: its {} NICs need {} leaves of {} ports in "
        "{} pods of {} leaves, but a core of radix {} reaches at most {} pods ({} NICs)",
        c.name, radix, nics(), leaves, half_radix_, pods, half_radix_, radix, radix,
        radix * half_radix_ * half_radix_));
  leaves_ = leaves_per_tree_ = static_cast<std::int32_t>(leaves);
  pods_ = static_cast<std::int32_t>(pods);
  spines_per_tree_ = leaves > 1 ? half_radix_ : 0;
  cores_per_group_ = pods > 1 ? half_radix_ : 0;
  FabricSizing& s = sizing_;
  s.trees = 1;
  s.rails = 1;
  s.leaves_per_tree = s.leaves = leaves;
  s.pods = pods;
  s.aggregations = pods * spines_per_tree_;
  s.cores = std::int64_t{spines_per_tree_} * cores_per_group_;
  s.switches = s.leaves + s.aggregations + s.cores;
  s.leaf_spine_cables = leaves * spines_per_tree_;
  s.aggregation_core_cables = s.aggregations * cores_per_group_;
  s.leaf_port_fraction = static_cast<double>(nics()) / (static_cast<double>(leaves) * half_radix_);
  // The top tier: each core has one cable to each pod; with one pod, each aggregation switch
  // one to each leaf.
  s.top_tier_port_fraction = s.cores > 0 ? static_cast<double>(pods) / static_cast<double>(radix)
                             : s.aggregations > 0
                                 ? static_cast<double>(leaves) / static_cast<double>(radix)
                                 : 0.0;
  s.note = fmt::format(
      "{} pod(s) of up to {} leaves ({} NIC ports each) and {} aggregation switches each, {} "
      "cores ({} groups of {}) of radix {}; {:.1f}% of {} ports used{}",
      pods, half_radix_, half_radix_, spines_per_tree_, s.cores, cores_per_group_, cores_per_group_,
      radix, 100.0 * s.top_tier_port_fraction, s.cores > 0 ? "core" : "top-tier",
      pods == 1 ? "; one pod: no core tier (an ft2 of this radix builds the same switches)" : "");
}

std::int32_t FabricGraph::add_link(std::int32_t from, std::int32_t to, double capacity,
                                   double latency, LinkKind kind) {
  from_.push_back(from);
  to_.push_back(to);
  capacity_.push_back(capacity);
  latency_.push_back(latency);
  kind_of_.push_back(kind);
  up_.push_back(1);
  return links() - 1;
}

void FabricGraph::fail_link(std::int32_t link) {
  if (link < 0 || link >= links())
    throw Error(fmt::format("link {} is not in the fabric (0 to {})", link, links() - 1));
  if (!link_up(link)) return;
  up_[static_cast<size_t>(link)] = 0;
  capacity_[static_cast<size_t>(link)] = 0;
  ++failed_;
}

std::int32_t FabricGraph::leaf_id(std::int32_t tree_or_rail, std::int32_t index) const {
  if (!has_network_ || tree_or_rail < 0 || index < 0) return -1;
  if (single_tree()) return tree_or_rail == 0 && index < leaves_ ? index : -1;
  if (tree_or_rail >= rails_ || index >= leaves_per_rail_) return -1;
  return tree_or_rail * leaves_per_rail_ + index;
}

std::int32_t FabricGraph::nic_of(std::int32_t gpu) const {
  return node_of(gpu) * nics_per_node_ + local_of(gpu) * nics_per_node_ / gpus_per_node_;
}

std::int32_t FabricGraph::rail_of_nic(std::int32_t nic) const {
  return single_tree() ? 0 : nic % nics_per_node_;
}

std::int32_t FabricGraph::leaf_of_nic(std::int32_t nic) const {
  if (single_tree()) return nic / half_radix_;
  const std::int32_t node = nic / nics_per_node_;
  return rail_of_nic(nic) * leaves_per_rail_ + node / half_radix_;
}

std::int32_t FabricGraph::port_of_nic(std::int32_t nic) const {
  if (single_tree()) return nic % half_radix_;
  return (nic / nics_per_node_) % half_radix_;
}

std::int32_t FabricGraph::tree_of_leaf(std::int32_t leaf) const {
  return kind_ == FabricKind::kMultiPlaneFatTree ? leaf / leaves_per_tree_ : 0;
}

std::int32_t FabricGraph::gpu_on_rail(std::int32_t node, std::int32_t rail) const {
  if (!has_network_ || rail < 0 || rail >= rails_) return -1;
  if (rails_ == 1) return node * gpus_per_node_;
  // The smallest local index i with i x nics / gpus == rail.
  const std::int64_t i = ceil_div(std::int64_t{rail} * gpus_per_node_, nics_per_node_);
  if (i >= gpus_per_node_ || i * nics_per_node_ / gpus_per_node_ != rail) return -1;
  return node * gpus_per_node_ + static_cast<std::int32_t>(i);
}

VertexKind FabricGraph::vertex_kind(std::int32_t v) const {
  if (v < off_nic_v_) return VertexKind::kGpu;
  if (v < off_su_v_) return VertexKind::kNic;
  if (v < off_leaf_v_) return VertexKind::kScaleUpSwitch;
  if (v < off_spine_v_) return direct_ ? VertexKind::kRouter : VertexKind::kLeaf;
  if (v < off_core_v_)
    return kind_ == FabricKind::kFatTree3 ? VertexKind::kAggregation : VertexKind::kSpine;
  return VertexKind::kCore;
}

std::string FabricGraph::tree_prefix(std::int32_t tree_or_rail) const {
  if (kind_ == FabricKind::kMultiPlaneFatTree) return fmt::format("p{}.", tree_or_rail);
  if (kind_ == FabricKind::kMultiRail) return fmt::format("r{}.", tree_or_rail);
  return "";
}

std::string FabricGraph::vertex_name(std::int32_t v) const {
  if (v < 0 || v >= vertices())
    throw Error(fmt::format("vertex {} is not in the fabric (0 to {})", v, vertices() - 1));
  switch (vertex_kind(v)) {
    case VertexKind::kGpu:
      return fmt::format("gpu{}.{}", node_of(v), local_of(v));
    case VertexKind::kNic: {
      const std::int32_t n = v - off_nic_v_;
      return fmt::format("nic{}.{}", n / nics_per_node_, n % nics_per_node_);
    }
    case VertexKind::kScaleUpSwitch:
      return fmt::format("nvswitch{}", v - off_su_v_);
    case VertexKind::kLeaf: {
      const std::int32_t l = v - off_leaf_v_;
      if (single_tree()) return fmt::format("leaf {}", l);
      return fmt::format("leaf {}{}", tree_prefix(l / leaves_per_rail_), l % leaves_per_rail_);
    }
    case VertexKind::kSpine: {
      const std::int32_t s = v - off_spine_v_;
      if (kind_ != FabricKind::kMultiPlaneFatTree) return fmt::format("spine {}", s);
      return fmt::format("spine {}{}", tree_prefix(s / spines_per_tree_), s % spines_per_tree_);
    }
    case VertexKind::kAggregation: {
      const std::int32_t a = v - off_spine_v_;
      return fmt::format("agg {}.{}", a / spines_per_tree_, a % spines_per_tree_);
    }
    case VertexKind::kCore: {
      const std::int32_t k = v - off_core_v_;
      return fmt::format("core {}.{}", k / cores_per_group_, k % cores_per_group_);
    }
    case VertexKind::kRouter:
      return direct_->router_name(v - off_leaf_v_);
  }
  return "?";
}

std::string FabricGraph::link_name(std::int32_t link) const {
  if (link < 0 || link >= links())
    throw Error(fmt::format("link {} is not in the fabric (0 to {})", link, links() - 1));
  return fmt::format("{} -> {}", vertex_name(from_[link]), vertex_name(to_[link]));
}

}  // namespace cobench::topo
