// SPDX-License-Identifier: Apache-2.0
#include "topologies/fabric_report.h"

#include <fmt/format.h>

#include <optional>
#include <set>

#include "core/error.h"
#include "core/units.h"
#include "topologies/fabric_failure.h"
#include "topologies/fabric_measured.h"
#include "topologies/fabric_traffic.h"

namespace cobench::topo {

CollectiveKind parse_collective_kind(const std::string& name) {
  if (name == "all_gather") return CollectiveKind::kAllGather;
  if (name == "reduce_scatter") return CollectiveKind::kReduceScatter;
  if (name == "all_reduce") return CollectiveKind::kAllReduce;
  if (name == "all_to_all") return CollectiveKind::kAllToAll;
  throw Error(fmt::format(
      "unknown traffic '{}': expected all_gather, reduce_scatter, all_reduce or all_to_all", name));
}

bool is_collective_name(const std::string& name) {
  return name == "all_gather" || name == "reduce_scatter" || name == "all_reduce" ||
         name == "all_to_all";
}

std::string collective_name(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::kAllGather:
      return "all_gather";
    case CollectiveKind::kReduceScatter:
      return "reduce_scatter";
    case CollectiveKind::kAllReduce:
      return "all_reduce";
    case CollectiveKind::kAllToAll:
      return "all_to_all";
    case CollectiveKind::kMatrix:
      break;
  }
  return "matrix";
}

bool is_ep_traffic_name(const std::string& name) {
  return name == "ep_dispatch" || name == "ep_combine";
}

namespace {

struct SimulationOptions {
  RoutingOptions routing;
  FluidOptions fluid;
};

// How the request's flows are routed under policy `p` (PXN and the hash seed as requested) and
// how the fluid model ends them.
SimulationOptions simulation_options(const FabricRequest& r, RoutingPolicy p) {
  SimulationOptions o;
  o.routing.policy = p;
  o.routing.pxn = r.pxn;
  o.routing.seed = r.seed;
  o.fluid.finish_window = r.finish_window;
  if (r.progress)
    o.fluid.progress = [&r, stage = fmt::format("{} routing: flows finished", to_string(p))](
                           std::int64_t finished, std::int64_t flows) {
      r.progress(stage, finished, flows);
    };
  return o;
}

// row(section, key, quantity, value, unit[, note]) appends a row to `rep`.
auto row_adder(Report& rep) {
  return [&rep](const std::string& section, std::string key, std::string quantity, double v,
                std::string unit, std::string note = "") {
    rep.rows.push_back({section, std::move(key), std::move(quantity), std::nullopt, v,
                        std::move(unit), 0, std::move(note), false});
  };
}

// The two rows that set a result on failed links against the healthy fabric's: its bandwidth
// (`healthy_quantity`, GB/s) under `prefix` + `healthy_key`, and the share lost (`loss_quantity`).
void add_failure_rows(Report& rep, const std::string& section, const std::string& prefix,
                      const std::string& healthy_key, const std::string& healthy_quantity,
                      const std::string& loss_quantity, double healthy_bytes_per_s,
                      double healthy_time_s, double failed_time_s, double loss_percent) {
  const auto row = row_adder(rep);
  row(section, prefix + healthy_key, healthy_quantity, healthy_bytes_per_s / 1e9, "GB/s",
      fmt::format("time {:.1f} us", healthy_time_s * 1e6));
  row(section, prefix + "failure_loss", loss_quantity, loss_percent, "%",
      fmt::format("time x {:.3f}", failed_time_s / healthy_time_s));
}

// EP dispatch or combine: the traffic's counts, then per policy the time and the per-GPU
// bandwidths (fabric_ep.h defines them).
Report ep_report(const ClusterSpec& c, const FabricGraph& g, const FabricGraph& failed,
                 const std::vector<LinkFailure>& failures, std::int32_t gpus,
                 const FabricRequest& r) {
  EpTrafficOptions routed = r.ep_options;
  if (r.progress)
    routed.progress = [&r](std::int64_t done, std::int64_t all) {
      r.progress("routing the tokens: GPUs", done, all);
    };
  const EpTraffic t = ep_traffic(g, gpus, routed, r.ep_direction);
  const EpTrafficOptions& o = r.ep_options;
  Report rep;
  rep.title = fmt::format("{} of {} tokens a GPU on {} GPUs of {}", to_string(r.ep_direction),
                          o.tokens_per_gpu, gpus, c.name);
  const auto row = row_adder(rep);
  const std::int64_t nodes = gpus / g.gpus_per_node();
  const std::string traffic = fmt::format(
      "Traffic: {} experts ({} a GPU), top-{}, at most {} node(s) a token of {}, hidden {}, "
      "{} B a copy, seed {}",
      o.experts, o.experts / gpus, o.top_k, std::min(o.max_nodes, nodes), nodes, o.hidden,
      t.payload_bytes, o.seed);
  const double tokens = static_cast<double>(t.tokens);
  row(traffic, "ep.nodes_per_token", "destination nodes a token (own included)",
      static_cast<double>(t.token_node_pairs) / tokens, "");
  row(traffic, "ep.remote_nodes_per_token", "other nodes a token: copies over a NIC",
      static_cast<double>(t.remote_token_node_pairs) / tokens, "");
  row(traffic, "ep.nvlink_copies_per_token", "copies forwarded over NVLink a token",
      static_cast<double>(t.nvlink_copies) / tokens, "");
  row(traffic, "ep.flows", "flows (GPU pairs)", static_cast<double>(t.flows.size()), "",
      fmt::format("{} over the network, the rest NVLink", t.network_flows));
  row(traffic, "ep.nic_bytes_per_gpu", "bytes a GPU sends over its NIC (mean)",
      t.network_bytes() / gpus / 1e6, "MB");
  row(traffic, "ep.logical_bytes_per_gpu", "DeepEP-logical bytes a GPU (token-node pairs x copy)",
      t.logical_bytes() / gpus / 1e6, "MB");
  for (RoutingPolicy p : r.policies) {
    const auto [ro, fl] = simulation_options(r, p);
    const EpResult res = simulate_ep(failures.empty() ? g : failed, t, ro, fl);
    const std::string section =
        fmt::format("{} routing: {} flows{}", to_string(p), res.phase.flows,
                    failures.empty() ? "" : fmt::format(", {} failure(s)", failures.size()));
    const std::string k = fmt::format("routing.{}.", to_string(p));
    row(section, k + "time_s", "time", res.time_s * 1e6, "us");
    row(section, k + "physical_bw", "physical bandwidth a GPU (NIC bytes / time, mean)",
        res.physical_bw_bytes_per_s / 1e9, "GB/s",
        fmt::format("the busiest NIC {:.2f} GB/s", res.max_physical_bw_bytes_per_s / 1e9));
    row(section, k + "logical_bw", "DeepEP-logical bandwidth a GPU",
        res.logical_bw_bytes_per_s / 1e9, "GB/s",
        "token-node pairs (own node included) x copy / GPUs / time, as DeepEP's test prints");
    if (!failures.empty()) {
      const EpResult healthy = simulate_ep(g, t, ro, fl);
      add_failure_rows(rep, section, k, "healthy_logical_bw",
                       "logical bandwidth of the healthy fabric",
                       "bandwidth lost to the failure(s)", healthy.logical_bw_bytes_per_s,
                       healthy.time_s, res.time_s, 100 * (1 - healthy.time_s / res.time_s));
    }
  }
  return rep;
}

}  // namespace

Report fabric_report(const ClusterSpec& c, const FabricRequest& r) {
  FabricOptions fo;
  fo.oversubscription = r.oversubscription;
  const FabricGraph g(c, fo);
  FabricGraph failed = g;
  std::vector<LinkFailure> failures;
  std::set<std::int32_t> down;
  for (const std::string& spec : r.failures) {
    failures.push_back(parse_link_failure(g, spec));
    // A repeated failure would be counted twice ("2 failure(s)" for one link), as a repeated key.
    bool adds = false;
    for (std::int32_t l : failures.back().links) adds = down.insert(l).second || adds;
    if (!adds)
      throw UsageError(fmt::format(
          "--fail '{}': every link it names is down already (an earlier --fail); give each "
          "failure once",
          spec));
  }
  apply_link_failures(failed, failures);
  const std::int32_t gpus = r.gpus > 0 ? r.gpus : g.gpus();
  if (gpus > g.gpus())
    throw Error(fmt::format("--gpus {} exceeds the cluster's {} GPUs", gpus, g.gpus()));
  // --gpus 1 was refused as "groups of 1 ranks ... do not tile 1 GPUs", naming --group.
  if (gpus < 2)
    throw Error(fmt::format("--gpus {}: traffic needs 2 or more GPUs (0: all {} of the cluster)",
                            gpus, g.gpus()));
  const bool matrix = !r.traffic_file.empty();
  if (!r.measured.empty() && (r.ep || matrix))
    throw Error("measured results compare with a collective only, not EP or a traffic file");
  if (r.ep) return ep_report(c, g, failed, failures, gpus, r);
  auto make = [&]() {
    if (matrix) return traffic_matrix(load_traffic_file(r.traffic_file, gpus));
    const RankGroups groups = rank_groups(gpus, r.group > 0 ? r.group : gpus, r.stride);
    switch (r.kind) {
      case CollectiveKind::kAllGather:
        return ring_all_gather(groups, r.size_bytes, r.channels);
      case CollectiveKind::kReduceScatter:
        return ring_reduce_scatter(groups, r.size_bytes, r.channels);
      case CollectiveKind::kAllReduce:
        return ring_all_reduce(groups, r.size_bytes, r.channels);
      case CollectiveKind::kAllToAll:
      case CollectiveKind::kMatrix:
        break;
    }
    return all_to_all(groups, r.size_bytes);
  };
  const Collective coll = make();
  // Measured results are read before the simulation runs: a bad file fails fast.
  std::optional<MeasuredCollective> measured;
  if (!r.measured.empty())
    measured = measured_collective(r.measured, collective_name(r.kind), coll.ranks, r.size_bytes,
                                   r.measured_as_link ? nullptr : &c);

  Report rep;
  rep.title = matrix ? fmt::format("traffic matrix {} ({} flows, {} GPUs) on {}",
                                   printable(r.traffic_file, 4096),
                                   coll.phases.front().flows.size(), coll.ranks, c.name)
                     : fmt::format("{} of {} on {}", to_string(r.kind),
                                   format_bytes(Bytes(r.size_bytes)), c.name);
  const auto row = row_adder(rep);
  const FabricSizing& sz = g.sizing();
  const std::string fabric =
      fmt::format("Fabric: {} ({} GPUs, {} NICs)", to_string(c.fabric.kind), g.gpus(), g.nics());
  if (g.direct()) {
    row(fabric, "fabric.switches", "switches (routers)", static_cast<double>(sz.switches), "",
        fmt::format("{} router-router cables; {}", sz.router_cables, sz.note));
  } else if (g.kind() == FabricKind::kFatTree3) {
    row(fabric, "fabric.switches", "switches (leaves + aggregation + cores)",
        static_cast<double>(sz.switches), "",
        fmt::format("{} leaves, {} aggregation, {} cores; {} leaf-aggregation and {} "
                    "aggregation-core cables; {}",
                    sz.leaves, sz.aggregations, sz.cores, sz.leaf_spine_cables,
                    sz.aggregation_core_cables, sz.note));
  } else {
    row(fabric, "fabric.switches", "switches (leaves + spines)", static_cast<double>(sz.switches),
        "",
        fmt::format("{} leaves, {} spines in {} tree(s); {}", sz.leaves, sz.spines, sz.trees,
                    sz.note));
  }
  row(fabric, "fabric.leaf_port_fraction", g.direct() ? "router NIC ports used" : "leaf ports used",
      100 * sz.leaf_port_fraction, "%");
  row(fabric, "fabric.top_tier_port_fraction",
      g.direct() ? "router ports wired (network + NIC) / radix"
      : g.kind() == FabricKind::kFatTree3
          ? (sz.cores > 0 ? "core ports used" : "aggregation ports used")
          : "spine ports used",
      100 * sz.top_tier_port_fraction, "%");
  if (!failures.empty()) {
    std::string what;
    for (const LinkFailure& f : failures)
      what += fmt::format("{}{} ({})", what.empty() ? "" : "; ", f.spec, f.description);
    row(fabric, "fabric.failed_links", "links down (each direction counts)",
        static_cast<double>(failed.failed_links()), "", what);
  }
  std::vector<SimulatedBusbw> simulated;
  for (RoutingPolicy p : r.policies) {
    const auto [ro, fl] = simulation_options(r, p);
    const CollectiveResult res = simulate_collective(failures.empty() ? g : failed, coll, ro, fl);
    simulated.push_back({std::string(to_string(p)), res.busbw_bytes_per_s});
    const std::string traffic = matrix ? fmt::format("the file's flows among {} GPUs", res.ranks)
                                       : fmt::format("{} group(s) of {} ranks (stride {})",
                                                     res.groups, res.ranks, r.stride);
    const std::string section = fmt::format(
        "{} routing{}: {}, {} flows{}", to_string(p), r.pxn ? " with PXN" : "", traffic, res.flows,
        failures.empty() ? "" : fmt::format(", {} failure(s)", failures.size()));
    const std::string k = fmt::format("routing.{}.", to_string(p));
    row(section, k + "time_s", "time", res.time_s * 1e6, "us");
    row(section, k + "algbw", "algbw", res.algbw_bytes_per_s / 1e9, "GB/s");
    row(section, k + "busbw", "busbw", res.busbw_bytes_per_s / 1e9, "GB/s",
        matrix ? fmt::format("algbw = the most bytes one GPU sends ({}) / time; busbw = algbw",
                             format_bytes(Bytes(res.size_bytes)))
               : fmt::format("busbw = algbw x {:.4g} (nccl-tests)", bus_factor(r.kind, res.ranks)));
    if (!failures.empty()) {
      const CollectiveResult healthy = simulate_collective(g, coll, ro, fl);
      add_failure_rows(rep, section, k, "healthy_busbw", "busbw of the healthy fabric",
                       "busbw lost to the failure(s)", healthy.busbw_bytes_per_s, healthy.time_s,
                       res.time_s, 100 * (1 - res.busbw_bytes_per_s / healthy.busbw_bytes_per_s));
    }
    // A Slim Fly's choices (common neighbours) vary pair by pair: no even spread to count; and
    // where no flow had a choice (NVLink only, one leaf) there is nothing to count either.
    if (p != RoutingPolicy::kAdaptive && g.kind() != FabricKind::kSlimFly && res.spine_flows > 0) {
      const std::string tier = g.kind() == FabricKind::kFatTree3
                                   ? "leaf-aggregation or aggregation-core link"
                               : g.direct() ? "global link (of those joining its two groups)"
                                            : "leaf-spine link";
      row(section, k + "ecmp_collision_fraction", "flows on an over-full " + tier,
          100 * res.ecmp_collision_fraction, "%");
      row(section, k + "spine_imbalance", "most flows on one " + tier + " / an even spread",
          res.spine_imbalance, "x");
    }
    for (std::size_t i = 0; i < res.hottest_links.size() && i < 3; ++i) {
      const LinkLoad& l = res.hottest_links[i];
      row(section, fmt::format("{}hottest.{}", k, i), "hottest link: " + g.link_name(l.link),
          100 * l.utilization, "%", format_bytes(Bytes(l.bytes)) + " carried");
    }
  }
  if (measured) add_measured(rep, *measured, simulated);
  return rep;
}

}  // namespace cobench::topo
