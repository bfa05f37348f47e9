// SPDX-License-Identifier: Apache-2.0
// Routes flows over the fabric graph (fabric_routing.h): NVLink, PXN or destination-side
// forwarding, and the spine choice of ECMP, static (LFT) and adaptive routing.
#include "topologies/fabric_routing.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace cobench::topo {
namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct RouteBuilder {
  const FabricGraph& g;
  Route r;

  void add(std::int32_t resource, double latency_s) {
    r.resources[static_cast<size_t>(r.hops++)] = resource;
    r.latency_s += latency_s;
  }
  void link(std::int32_t l) { add(l, g.latency_s(l)); }
  void nvlink(std::int32_t from_gpu, std::int32_t to_gpu) {
    link(g.scale_up_out(from_gpu));
    link(g.scale_up_in(to_gpu));
  }
};

bool can_forward(const FabricGraph& g, std::int32_t a, std::int32_t b) {
  return a >= 0 && g.has_scale_up() && g.domain_of(a) == g.domain_of(b);
}

// The spines joining two leaves over live cables; an Error when there is none.
std::int32_t live_spines(const FabricGraph& g, std::int32_t from_leaf, std::int32_t to_leaf) {
  std::int32_t n = 0;
  for (std::int32_t s = 0; s < g.spines_per_tree(); ++s) n += g.spine_joins(from_leaf, to_leaf, s);
  if (n == 0)
    throw Error(fmt::format("no live spine joins {} to {}: every path between them failed",
                            g.vertex_name(g.link_from(g.leaf_to_spine(from_leaf, 0))),
                            g.vertex_name(g.link_to(g.spine_to_leaf(to_leaf, 0)))));
  return n;
}

// ECMP after a failure: the hash picks among the live next hops only (the group shrinks, as a
// switch's ECMP group does when a member's link goes down; RFC 2992's modulo-N hashing, which
// also moves some flows whose own path survived). `index` (the hash's pick) counts from 0 among
// the live spines.
std::int32_t ecmp_live_spine(const FabricGraph& g, std::int32_t from_leaf, std::int32_t to_leaf,
                             std::int32_t index) {
  for (std::int32_t s = 0; s < g.spines_per_tree(); ++s)
    if (g.spine_joins(from_leaf, to_leaf, s) && index-- == 0) return s;
  return -1;  // unreachable: index < the live spines
}

// Static after a failure: the LFT's spine when it is live, else the next live one in cyclic
// order (a local failover to an alternate port, as InfiniBand switches' self-healing does
// before the subnet manager recomputes the tables): only the flows of the dead path move.
std::int32_t static_spine(const FabricGraph& g, std::int32_t from_leaf, std::int32_t to_leaf,
                          std::int32_t preferred) {
  const std::int32_t spines = g.spines_per_tree();
  for (std::int32_t k = 0; k < spines; ++k) {
    const std::int32_t s = (preferred + k) % spines;
    if (g.spine_joins(from_leaf, to_leaf, s)) return s;
  }
  live_spines(g, from_leaf, to_leaf);  // throws: none is live
  return -1;
}

// FT3 across pods: core `core` of group `agg` joins the two pods when its cable up from the
// source pod's aggregation switch `agg` and its cable down to the destination pod's are up.
bool core_joins(const FabricGraph& g, std::int32_t src_pod, std::int32_t dst_pod, std::int32_t agg,
                std::int32_t core) {
  return g.failed_links() == 0 || (g.link_up(g.aggregation_to_core(src_pod, agg, core)) &&
                                   g.link_up(g.core_to_aggregation(dst_pod, agg, core)));
}

// FT3 across pods: aggregation index `agg` carries the flow when the source leaf's cable up to
// it, the destination leaf's cable down from it, and at least one core of its group are up (a
// switch whose every path to the destination failed withdraws the route, so its neighbours'
// ECMP groups drop it).
bool aggregation_reaches(const FabricGraph& g, std::int32_t src_leaf, std::int32_t dst_leaf,
                         std::int32_t agg) {
  if (!g.spine_joins(src_leaf, dst_leaf, agg)) return false;
  for (std::int32_t c = 0; c < g.cores_per_group(); ++c)
    if (core_joins(g, g.pod_of_leaf(src_leaf), g.pod_of_leaf(dst_leaf), agg, c)) return true;
  return false;
}

// The live members of an ECMP group or an LFT's failover order: the `index`-th live one (ECMP,
// counting from 0), or the first live one from `preferred` on in cyclic order (static). -1 when
// none is live.
template <class Live>
std::int32_t nth_live(std::int32_t members, std::int32_t index, Live live) {
  for (std::int32_t m = 0; m < members; ++m)
    if (live(m) && index-- == 0) return m;
  return -1;
}
template <class Live>
std::int32_t next_live(std::int32_t members, std::int32_t preferred, Live live) {
  for (std::int32_t k = 0; k < members; ++k)
    if (live((preferred + k) % members)) return (preferred + k) % members;
  return -1;
}
template <class Live>
std::int32_t count_live(std::int32_t members, Live live) {
  std::int32_t n = 0;
  for (std::int32_t m = 0; m < members; ++m) n += live(m) ? 1 : 0;
  return n;
}

}  // namespace

std::int32_t ecmp_spine(std::int32_t src_gpu, std::int32_t dst_gpu, std::uint64_t flow_index,
                        std::uint64_t seed, std::int32_t spines) {
  std::uint64_t h = mix64(seed);
  h = mix64(h ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(src_gpu)) << 32 |
                 static_cast<std::uint32_t>(dst_gpu)));
  h = mix64(h ^ flow_index);
  // Lemire's multiply-shift: unbiased enough for 32-bit spine counts.
  return static_cast<std::int32_t>(((h >> 32) * static_cast<std::uint64_t>(spines)) >> 32);
}

namespace {

// Slim Fly, dragonfly: the routers' minimal path the policy (or `path`) picks, its links added.
void route_direct(RouteBuilder& b, std::int32_t src, std::int32_t dst, std::uint64_t flow_index,
                  const RoutingOptions& options, std::int32_t path, std::int32_t dst_nic) {
  const DirectNetwork& n = *b.g.direct();
  const std::int32_t from = b.r.source_leaf, to = b.r.destination_leaf;
  const std::int32_t paths = n.minimal_paths(from, to);
  if (path < 0) {
    switch (options.policy) {
      case RoutingPolicy::kEcmp:
        path = ecmp_spine(src, dst, flow_index, options.seed, paths);
        break;
      case RoutingPolicy::kStatic:
        path = dst_nic % paths;
        break;
      case RoutingPolicy::kAdaptive:
        throw Error(fmt::format(
            "adaptive routing on a {} splits the flow from GPU {} to GPU {} over its {} "
            "minimal paths: route each part with its path (adaptive_paths)",
            to_string(b.g.kind()), src, dst, paths));
    }
  }
  b.r.direct_path = path % paths;
  b.r.direct_paths = paths;
  const RouterPath p = n.minimal_path(from, to, b.r.direct_path);
  for (int i = 0; i < p.hops; ++i) b.link(b.g.router_link(p.links[static_cast<size_t>(i)]));
}

}  // namespace

std::string_view to_string(RoutingPolicy p) {
  switch (p) {
    case RoutingPolicy::kEcmp:
      return "ecmp";
    case RoutingPolicy::kStatic:
      return "static";
    case RoutingPolicy::kAdaptive:
      return "adaptive";
  }
  return "?";
}

RoutingPolicy parse_routing_policy(std::string_view text) {
  for (auto p : {RoutingPolicy::kEcmp, RoutingPolicy::kStatic, RoutingPolicy::kAdaptive})
    if (to_string(p) == text) return p;
  throw Error(fmt::format("unknown routing '{}': expected ecmp, static or adaptive", text));
}

namespace {
std::int32_t core_pods(const FabricGraph& g) { return g.cores_per_group() > 0 ? g.pods() : 0; }
}  // namespace

std::int32_t resource_count(const FabricGraph& g) {
  if (g.direct()) return g.links();  // no bundles: kAdaptive splits flows over paths
  return g.links() + 2 * g.leaves() + 2 * core_pods(g);
}
std::int32_t uplink_bundle(const FabricGraph& g, std::int32_t leaf) { return g.links() + leaf; }
std::int32_t downlink_bundle(const FabricGraph& g, std::int32_t leaf) {
  return g.links() + g.leaves() + leaf;
}
std::int32_t pod_uplink_bundle(const FabricGraph& g, std::int32_t pod) {
  return g.links() + 2 * g.leaves() + pod;
}
std::int32_t pod_downlink_bundle(const FabricGraph& g, std::int32_t pod) {
  return g.links() + 2 * g.leaves() + core_pods(g) + pod;
}

std::vector<double> resource_capacities(const FabricGraph& g) {
  std::vector<double> cap(g.capacities_bytes_per_s());
  cap.resize(static_cast<size_t>(resource_count(g)), 0.0);
  if (g.direct()) return cap;
  for (std::int32_t leaf = 0; leaf < g.leaves(); ++leaf) {
    double up = 0, down = 0;
    for (std::int32_t s = 0; s < g.spines_per_tree(); ++s) {
      up += g.capacity_bytes_per_s(g.leaf_to_spine(leaf, s));
      down += g.capacity_bytes_per_s(g.spine_to_leaf(leaf, s));
    }
    cap[static_cast<size_t>(uplink_bundle(g, leaf))] = up;
    cap[static_cast<size_t>(downlink_bundle(g, leaf))] = down;
  }
  for (std::int32_t pod = 0; pod < core_pods(g); ++pod) {
    double up = 0, down = 0;
    for (std::int32_t j = 0; j < g.spines_per_tree(); ++j)
      for (std::int32_t k = 0; k < g.cores_per_group(); ++k) {
        up += g.capacity_bytes_per_s(g.aggregation_to_core(pod, j, k));
        down += g.capacity_bytes_per_s(g.core_to_aggregation(pod, j, k));
      }
    cap[static_cast<size_t>(pod_uplink_bundle(g, pod))] = up;
    cap[static_cast<size_t>(pod_downlink_bundle(g, pod))] = down;
  }
  return cap;
}

Route route_flow(const FabricGraph& g, std::int32_t src, std::int32_t dst, std::uint64_t flow_index,
                 const RoutingOptions& options, std::int32_t path) {
  for (std::int32_t gpu : {src, dst})
    if (gpu < 0 || gpu >= g.gpus())
      throw Error(fmt::format("GPU {} is not in the fabric: expected 0 to {}", gpu, g.gpus() - 1));
  if (src == dst) throw Error(fmt::format("a flow from GPU {} to itself: nothing to route", src));
  RouteBuilder b{g, {}};
  if (can_forward(g, src, dst)) {
    b.nvlink(src, dst);
    return b.r;
  }
  if (!g.has_network())
    throw Error(
        fmt::format("GPUs {} and {} share no scale-up domain and the cluster has no "
                    "scale-out fabric",
                    src, dst));

  // The GPUs where the flow enters and leaves the network (one plane or rail for both).
  std::int32_t first = src, last = dst;
  const std::int32_t src_rail = g.rail_of_nic(g.nic_of(src));
  const std::int32_t dst_rail = g.rail_of_nic(g.nic_of(dst));
  const bool mpft = g.kind() == FabricKind::kMultiPlaneFatTree;
  // Entering the network at GPU `in` and leaving at `out`: each relay reachable over NVLink,
  // both NICs up.
  auto usable = [&](std::int32_t in, std::int32_t out) {
    if ((in != src && !can_forward(g, src, in)) || (out != dst && !can_forward(g, out, dst)))
      return false;
    if (mpft && g.rail_of_nic(g.nic_of(in)) != g.rail_of_nic(g.nic_of(out))) return false;
    return g.nic_up(g.nic_of(in)) && g.nic_up(g.nic_of(out));
  };
  const std::int32_t pxn_relay =
      src_rail != dst_rail ? g.gpu_on_rail(g.node_of(src), dst_rail) : -1;
  const std::int32_t dst_relay =
      src_rail != dst_rail && mpft ? g.gpu_on_rail(g.node_of(dst), src_rail) : -1;
  if (options.pxn && pxn_relay >= 0 && usable(pxn_relay, dst)) {
    first = pxn_relay;  // PXN: NVLink to the destination's rail first
  } else if ((!mpft || src_rail == dst_rail) && usable(src, dst)) {
    // Same rail, or an FT2 or MRFT whose spines join the rails.
  } else if (dst_relay >= 0 && usable(src, dst_relay)) {
    last = dst_relay;  // MPFT: the source's plane, then the destination node's NVLink
  } else {
    // A failure took the rails above: the next live plane or rail from the destination's, with
    // NVLink relays at both ends.
    bool found = false;
    for (std::int32_t k = 0; k < g.rails() && !found && g.failed_links() > 0; ++k) {
      const std::int32_t rail = (dst_rail + k) % g.rails();
      const std::int32_t in = g.gpu_on_rail(g.node_of(src), rail);
      const std::int32_t out = g.gpu_on_rail(g.node_of(dst), rail);
      if (in >= 0 && out >= 0 && in != out && usable(in, out)) first = in, last = out, found = true;
    }
    if (!found) {
      if (g.failed_links() > 0)
        throw Error(fmt::format(
            "GPU {} cannot reach GPU {}: the failed links leave no live plane or rail that "
            "NVLink can reach at both ends",
            src, dst));
      throw Error(fmt::format(
          "GPU {} (plane {}) cannot reach GPU {} (plane {}): a multi-plane fat tree's planes "
          "are disjoint and no NVLink {} can forward the flow",
          src, src_rail, dst, dst_rail,
          options.pxn ? "at either end" : "at the destination (PXN is off)"));
    }
  }
  if (first != src) {
    b.nvlink(src, first);
    b.r.relay_gpu = first;
  }
  const std::int32_t src_nic = g.nic_of(first), dst_nic = g.nic_of(last);
  const std::int32_t src_leaf = g.leaf_of_nic(src_nic), dst_leaf = g.leaf_of_nic(dst_nic);
  b.r.source_leaf = src_leaf;
  b.r.destination_leaf = dst_leaf;
  b.link(g.gpu_to_nic(first));
  b.link(g.nic_to_leaf(src_nic));
  const bool cross_pod =
      g.kind() == FabricKind::kFatTree3 && g.pod_of_leaf(src_leaf) != g.pod_of_leaf(dst_leaf);
  if (g.direct()) {
    if (src_leaf != dst_leaf) route_direct(b, src, dst, flow_index, options, path, dst_nic);
  } else if (cross_pod) {
    // FT3 across pods. After a failure each tier's group holds its live members only: the
    // leaf's aggregation switches that still reach the destination, then that switch's cores
    // that still do; ECMP hashes modulo the live count, static fails over in cyclic order.
    const std::int32_t h = g.spines_per_tree(), cores = g.cores_per_group();
    const std::int32_t src_pod = g.pod_of_leaf(src_leaf), dst_pod = g.pod_of_leaf(dst_leaf);
    auto agg_live = [&](std::int32_t j) { return aggregation_reaches(g, src_leaf, dst_leaf, j); };
    const std::int32_t aggs = g.failed_links() == 0 ? h : count_live(h, agg_live);
    if (aggs == 0)
      throw Error(
          fmt::format("no live path joins {} (pod {}) to {} (pod {}): every "
                      "aggregation switch or core between them failed",
                      g.vertex_name(g.link_to(g.nic_to_leaf(src_nic))), src_pod,
                      g.vertex_name(g.link_to(g.nic_to_leaf(dst_nic))), dst_pod));
    auto core_live = [&](std::int32_t c) { return core_joins(g, src_pod, dst_pod, b.r.spine, c); };
    switch (options.policy) {
      case RoutingPolicy::kEcmp:
        b.r.spine = nth_live(h, ecmp_spine(src, dst, flow_index, options.seed, aggs), agg_live);
        b.r.core =
            nth_live(cores,
                     ecmp_spine(src, dst, flow_index, options.seed ^ kCoreHashSalt,
                                g.failed_links() == 0 ? cores : count_live(cores, core_live)),
                     core_live);
        break;
      case RoutingPolicy::kStatic:  // D-mod-K
        b.r.spine = next_live(h, dst_nic % h, agg_live);
        b.r.core = next_live(cores, (dst_nic / h) % cores, core_live);
        break;
      case RoutingPolicy::kAdaptive:
        break;
    }
    if (b.r.spine >= 0) {
      b.link(g.leaf_to_spine(src_leaf, b.r.spine));
      b.link(g.aggregation_to_core(src_pod, b.r.spine, b.r.core));
      b.link(g.core_to_aggregation(dst_pod, b.r.spine, b.r.core));
      b.link(g.spine_to_leaf(dst_leaf, b.r.spine));
    } else {
      const double hop_latency = g.latency_s(g.leaf_to_spine(src_leaf, 0));
      b.add(uplink_bundle(g, src_leaf), hop_latency);
      b.add(pod_uplink_bundle(g, src_pod), g.latency_s(g.aggregation_to_core(src_pod, 0, 0)));
      b.add(pod_downlink_bundle(g, dst_pod), g.latency_s(g.core_to_aggregation(dst_pod, 0, 0)));
      b.add(downlink_bundle(g, dst_leaf), hop_latency);
    }
  } else if (src_leaf != dst_leaf) {
    const std::int32_t spines = g.spines_per_tree();
    switch (options.policy) {
      case RoutingPolicy::kEcmp:
        b.r.spine = g.failed_links() == 0
                        ? ecmp_spine(src, dst, flow_index, options.seed, spines)
                        : ecmp_live_spine(g, src_leaf, dst_leaf,
                                          ecmp_spine(src, dst, flow_index, options.seed,
                                                     live_spines(g, src_leaf, dst_leaf)));
        break;
      case RoutingPolicy::kStatic:
        b.r.spine = static_spine(g, src_leaf, dst_leaf, g.port_of_nic(dst_nic) % spines);
        break;
      case RoutingPolicy::kAdaptive:
        if (g.failed_links() > 0) live_spines(g, src_leaf, dst_leaf);  // refuses none
        break;
    }
    if (b.r.spine >= 0) {
      b.link(g.leaf_to_spine(src_leaf, b.r.spine));
      b.link(g.spine_to_leaf(dst_leaf, b.r.spine));
    } else {
      const double core_latency = g.latency_s(g.leaf_to_spine(src_leaf, 0));
      b.add(uplink_bundle(g, src_leaf), core_latency);
      b.add(downlink_bundle(g, dst_leaf), core_latency);
    }
  }
  b.link(g.leaf_to_nic(dst_nic));
  b.link(g.nic_to_gpu(last));
  if (last != dst) {
    b.nvlink(last, dst);
    b.r.relay_gpu = last;
  }
  return b.r;
}

std::int32_t adaptive_paths(const FabricGraph& g, std::int32_t src, std::int32_t dst,
                            const RoutingOptions& options,
                            std::array<std::int32_t, kMaxAdaptivePaths>& out) {
  if (!g.direct()) return 0;
  RoutingOptions one = options;
  one.policy = RoutingPolicy::kStatic;  // any path: only its routers matter here
  const Route r = route_flow(g, src, dst, 0, one);
  if (r.direct_paths <= 1) {
    out[0] = 0;
    return 1;
  }
  // Evenly spaced from a hashed start, so that flows with more paths than parts spread over
  // all of them together (a fixed start would load the same kMaxAdaptivePaths for every flow).
  const std::int32_t paths = r.direct_paths, k = std::min(paths, kMaxAdaptivePaths);
  const std::int32_t start = paths > k ? ecmp_spine(src, dst, 0, options.seed, paths) : 0;
  for (std::int32_t i = 0; i < k; ++i)
    out[static_cast<size_t>(i)] =
        static_cast<std::int32_t>((start + std::int64_t{i} * paths / k) % paths);
  return k;
}

}  // namespace cobench::topo
