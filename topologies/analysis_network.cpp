// SPDX-License-Identifier: Apache-2.0
// The network section of `cobench analyze`: the cluster's fabric counted and priced
// (network_topology.h), and the cheapest topology for its NICs.
#include <fmt/format.h>

#include "topologies/analysis_out.h"
#include "topologies/analysis_sections.h"
#include "topologies/network_topology.h"

namespace cobench::topo {
namespace {

TopologySize fabric_size(const ClusterSpec& c) {
  const std::int64_t k = c.fabric.switch_radix;
  switch (c.fabric.kind) {
    case FabricKind::kFatTree2:
    case FabricKind::kMultiRail:
      return fat_tree_2(k);
    case FabricKind::kMultiPlaneFatTree:
      return multi_plane_fat_tree(k, c.fabric.planes);
    case FabricKind::kFatTree3:
      return fat_tree_3(k);
    case FabricKind::kSlimFly:
      return slim_fly(k);
    case FabricKind::kDragonfly:
      return dragonfly(k);
    case FabricKind::kNone:
      break;
  }
  return {"none", 0, 0, 0, 0, 0, "no scale-out fabric"};
}

}  // namespace

void network_section(const SectionInputs& in, Analysis& a) {
  const ClusterSpec& c = in.c;
  SectionOut out(a, "network", "network");
  const TopologySize t = fabric_size(c);
  const double cost = cost_usd(t, c.fabric.prices);
  out.field("topology", std::string(to_string(c.fabric.kind)));
  out.field("note", t.note);
  if (c.fabric.kind == FabricKind::kNone) {
    // Nothing to count or price: one row that says so, not a column of zeros.
    out.field("endpoints", t.endpoints);
    out.field("switches", t.switches);
    out.field("links", t.links);
    out.field("cost_usd", cost);
    out.row("nodes", "nodes (no scale-out fabric)", static_cast<double>(c.nodes),
            c.nodes == 1 ? "node" : "nodes", t.note);
  } else {
    out.count("endpoints", fmt::format("{} endpoints", to_string(c.fabric.kind)), t.endpoints, "",
              t.note);
    out.count("switches", "switches", t.switches, "");
    out.count("links", "links", t.links, "");
    out.quantity("cost_usd", "cost", cost, kShownMillionUsd);
  }
  const std::int64_t nics = c.nodes * c.node.nics_per_node;
  if (c.fabric.switch_radix <= 0 || nics <= 0) return;
  const TopologySize best = cheapest_fit(nics, c.fabric.switch_radix, c.fabric.prices);
  const double best_cost = cost_usd(best, c.fabric.prices);
  out.field("cheapest_fit", {{"topology", best.name},
                             {"endpoints", best.endpoints},
                             {"cost_usd", best_cost},
                             {"note", best.note}});
  out.row("cheapest_fit",
          fmt::format("cheapest topology for {} NICs at radix {}: {}", nics, c.fabric.switch_radix,
                      best.name),
          best_cost / 1e6, "M$", best.note);
}

}  // namespace cobench::topo
