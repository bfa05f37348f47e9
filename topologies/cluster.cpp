// SPDX-License-Identifier: Apache-2.0
#include "topologies/cluster.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "core/error.h"

namespace cobench::topo {
namespace {

ScaleUpSpec load_scale_up(const config::Node& node) {
  auto m =
      node.map({"link", "domain_gpus", "bandwidth_nominal", "bandwidth_achievable", "latency"});
  ScaleUpSpec s;
  s.link = m.required("link").as_string();
  s.domain_gpus = m.required("domain_gpus").as_int_in(1, kMaxDomainGpus);
  auto nominal = m.required("bandwidth_nominal");
  s.bandwidth_nominal = nominal.as_positive_bandwidth();
  auto achievable = m.required("bandwidth_achievable");
  s.bandwidth_achievable = achievable.as_positive_bandwidth();
  if (s.bandwidth_achievable > s.bandwidth_nominal)
    achievable.fail("achievable bandwidth exceeds the nominal one");
  auto latency = m.required("latency");
  s.latency = latency.as_positive_seconds();
  return s;
}

ScaleOutSpec load_scale_out(const config::Node& node) {
  auto m = node.map({"link", "bandwidth_achievable", "latency_same_leaf", "latency_cross_leaf"});
  ScaleOutSpec s;
  s.link = m.required("link").as_string();
  auto bw = m.required("bandwidth_achievable");
  s.bandwidth_achievable = bw.as_positive_bandwidth();
  auto same = m.required("latency_same_leaf");
  s.latency_same_leaf = same.as_positive_seconds();
  auto cross = m.required("latency_cross_leaf");
  s.latency_cross_leaf = cross.as_positive_seconds();
  if (s.latency_cross_leaf < s.latency_same_leaf)
    cross.fail("cross-leaf latency is below the same-leaf latency");
  return s;
}

FabricKind fabric_kind(const config::Node& n) {
  const std::string s = n.as_string();
  for (auto k : {FabricKind::kNone, FabricKind::kFatTree2, FabricKind::kFatTree3,
                 FabricKind::kMultiPlaneFatTree, FabricKind::kMultiRail, FabricKind::kSlimFly,
                 FabricKind::kDragonfly})
    if (to_string(k) == s) return k;
  n.fail(
      fmt::format("unknown fabric '{}': expected none, ft2, ft3, mpft, multi-rail, slim-fly "
                  "or dragonfly",
                  s));
}

FabricSpec load_fabric(const config::Node& node) {
  auto m = node.map({"topology", "planes", "switch_radix", "switch_price_usd", "link_price_usd"});
  FabricSpec f;
  f.kind = fabric_kind(m.required("topology"));
  if (auto p = m.optional("planes")) {
    f.planes = p->as_int_in(1, kMaxPlanes);
    // Only a multi-plane fat tree has planes: on another fabric the key changed nothing.
    if (f.planes != 1 && f.kind != FabricKind::kMultiPlaneFatTree)
      p->fail(fmt::format("{} planes: only an mpft fabric has planes (this one is {})", f.planes,
                          to_string(f.kind)));
  }
  if (f.kind == FabricKind::kNone) return f;
  auto radix = m.required("switch_radix");
  f.switch_radix = radix.as_int_in(4, kMaxSwitchRadix);
  const bool tree = f.kind == FabricKind::kFatTree2 || f.kind == FabricKind::kFatTree3 ||
                    f.kind == FabricKind::kMultiPlaneFatTree || f.kind == FabricKind::kMultiRail;
  if (tree && f.switch_radix % 2 != 0) radix.fail("a fat tree needs an even switch radix");
  for (auto [key, price] : {std::pair{"switch_price_usd", &f.prices.switch_usd},
                            std::pair{"link_price_usd", &f.prices.link_usd}}) {
    if (auto p = m.optional(key)) {
      *price = p->as_double();
      if (*price < 0) p->fail("a price must not be negative");
    }
  }
  return f;
}

// The endpoints a fabric reaches; an Error when its radix cannot build it.
std::int64_t fabric_endpoints(const FabricSpec& f) {
  switch (f.kind) {
    case FabricKind::kFatTree2:
    case FabricKind::kMultiRail:
      return fat_tree_2(f.switch_radix).endpoints;
    case FabricKind::kMultiPlaneFatTree:
      return multi_plane_fat_tree(f.switch_radix, f.planes).endpoints;
    case FabricKind::kFatTree3:
      return fat_tree_3(f.switch_radix).endpoints;
    case FabricKind::kSlimFly:
      return slim_fly(f.switch_radix).endpoints;
    case FabricKind::kDragonfly:
      return dragonfly(f.switch_radix).endpoints;
    case FabricKind::kNone:
      break;
  }
  return 0;
}

}  // namespace

std::string_view to_string(FabricKind k) {
  switch (k) {
    case FabricKind::kNone:
      return "none";
    case FabricKind::kFatTree2:
      return "ft2";
    case FabricKind::kFatTree3:
      return "ft3";
    case FabricKind::kMultiPlaneFatTree:
      return "mpft";
    case FabricKind::kMultiRail:
      return "multi-rail";
    case FabricKind::kSlimFly:
      return "slim-fly";
    case FabricKind::kDragonfly:
      return "dragonfly";
  }
  return "?";
}

void throw_no_gpus(const ClusterSpec& c, std::string_view what) {
  const std::string at = c.node.gpus_per_node_at.empty() ? "" : c.node.gpus_per_node_at + ": ";
  throw Error(fmt::format("{}cluster '{}' has no GPUs ({} a node): {} needs them", at, c.name,
                          c.node.gpus_per_node, what));
}

ClusterSpec load_cluster(const config::Node& root) {
  const config::Node node = root.map({"cluster"}).required("cluster");
  auto m = node.map(
      {"name", "nodes", "node", "node_file", "scale_up", "scale_out", "fabric", "gpu_hour_usd"});
  ClusterSpec c;
  c.name = m.required("name").as_name();
  c.nodes = m.required("nodes").as_int_in(1, kMaxNodes);
  if (m.has("node") == m.has("node_file"))
    node.fail("give the node either inline (node) or as a file (node_file), not both or neither");
  if (auto file = m.optional("node_file")) {
    // A node description written by `cobench sysinfo --cluster-node`, relative to this file.
    const std::filesystem::path here(file->location().file);
    const std::filesystem::path path = here.parent_path() / file->as_string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      file->fail(fmt::format("no such file '{}'", path.string()));
    if (!std::filesystem::is_regular_file(path, ec))
      file->fail(
          fmt::format("'{}' is not a regular file (expected a node description written by "
                      "`cobench sysinfo --cluster-node`)",
                      path.string()));
    c.node = load_node_file(config::load_file(path));
  } else {
    c.node = load_node_spec(m.required("node"));
  }
  if (auto s = m.optional("scale_up")) {
    c.scale_up = load_scale_up(*s);
    // A domain is whole nodes (NVL72: 18 of 4 GPUs) or splits a node evenly (NVLink bridges of
    // 2 in a PCIe node of 8); 3 GPUs a domain in nodes of 8 is neither.
    // Domains of whole nodes tile the cluster: a domain larger than the cluster, or one that
    // leaves part of one over (3 nodes of 8 in domains of 16), is not a cluster that exists.
    const std::int64_t d = c.scale_up.domain_gpus, g = c.node.gpus_per_node;
    const config::Node domain =
        s->map({"link", "domain_gpus", "bandwidth_nominal", "bandwidth_achievable", "latency"})
            .required("domain_gpus");
    if (g > 0 && d % g != 0 && g % d != 0)
      domain.fail(
          fmt::format("a scale-up domain of {} GPUs neither splits a node of {} GPUs "
                      "evenly nor spans whole nodes (node.gpus_per_node)",
                      d, g));
    if (g > 0 && d > g && c.gpus() % d != 0)
      domain.fail(
          fmt::format("scale-up domains of {} GPUs do not tile the cluster's {} GPUs "
                      "({} nodes x {}): expected a divisor of {}",
                      d, c.gpus(), c.nodes, g, c.gpus()));
  }
  if (auto s = m.optional("scale_out")) c.scale_out = load_scale_out(*s);
  if (auto f = m.optional("fabric")) c.fabric = load_fabric(*f);
  if (auto p = m.optional("gpu_hour_usd")) {
    c.gpu_hour_usd = p->as_double();
    if (*c.gpu_hour_usd <= 0) p->fail("must be greater than zero");
  }
  if (c.nodes > 1 && !m.has("scale_out"))
    node.fail("a cluster of several nodes needs a scale_out section");
  if (auto so = m.optional("scale_out")) {
    // The achievable rate is a fraction of the line rate, as the scale-up one is.
    if (c.node.nic_speed && c.scale_out.bandwidth_achievable > *c.node.nic_speed)
      so->map({"link", "bandwidth_achievable", "latency_same_leaf", "latency_cross_leaf"})
          .required("bandwidth_achievable")
          .fail(fmt::format("achievable bandwidth {} exceeds the NIC's {} (node.nic_speed)",
                            format_bandwidth(c.scale_out.bandwidth_achievable, 4),
                            format_bandwidth(*c.node.nic_speed, 4)));
  }
  if (c.fabric.kind == FabricKind::kMultiPlaneFatTree && c.fabric.planes != c.node.nics_per_node)
    m.required("fabric").fail(
        fmt::format("a multi-plane fat tree puts one NIC of each node in "
                    "each plane: {} planes for {} NICs per node",
                    c.fabric.planes, c.node.nics_per_node));
  if (c.fabric.kind != FabricKind::kNone && c.fabric.switch_radix > 0) {
    // The fabric must reach every NIC of the cluster (the ranges keep both counts in 64 bits).
    const std::int64_t nics = c.nodes * c.node.nics_per_node;
    std::int64_t capacity = 0;
    try {
      capacity = fabric_endpoints(c.fabric);
    } catch (const Error& e) {  // a radix this fabric cannot be built from (a Slim Fly of 4)
      m.required("fabric").fail(e.what());
    }
    if (capacity < nics)
      m.required("fabric").fail(
          fmt::format("a {} of radix {} reaches {} endpoints, fewer than "
                      "the cluster's {} NICs",
                      to_string(c.fabric.kind), c.fabric.switch_radix, capacity, nics));
  }
  return c;
}

}  // namespace cobench::topo
