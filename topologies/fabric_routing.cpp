// SPDX-License-Identifier: Apache-2.0
// Routes flows over the fabric graph (fabric_routing.h): NVLink, PXN or destination-side
// forwarding, and the spine choice of ECMP, static (LFT) and adaptive routing.
#include "topologies/fabric_routing.h"

#include <fmt/format.h>

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

std::int32_t resource_count(const FabricGraph& g) { return g.links() + 2 * g.leaves(); }
std::int32_t uplink_bundle(const FabricGraph& g, std::int32_t leaf) { return g.links() + leaf; }
std::int32_t downlink_bundle(const FabricGraph& g, std::int32_t leaf) {
  return g.links() + g.leaves() + leaf;
}

std::vector<double> resource_capacities(const FabricGraph& g) {
  std::vector<double> cap(g.capacities_bytes_per_s());
  cap.resize(static_cast<size_t>(resource_count(g)), 0.0);
  for (std::int32_t leaf = 0; leaf < g.leaves(); ++leaf) {
    double up = 0, down = 0;
    for (std::int32_t s = 0; s < g.spines_per_tree(); ++s) {
      up += g.capacity_bytes_per_s(g.leaf_to_spine(leaf, s));
      down += g.capacity_bytes_per_s(g.spine_to_leaf(leaf, s));
    }
    cap[static_cast<size_t>(uplink_bundle(g, leaf))] = up;
    cap[static_cast<size_t>(downlink_bundle(g, leaf))] = down;
  }
  return cap;
}

std::int32_t ecmp_spine(std::int32_t src_gpu, std::int32_t dst_gpu, std::uint64_t flow_index,
                        std::uint64_t seed, std::int32_t spines) {
  std::uint64_t h = mix64(seed);
  h = mix64(h ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(src_gpu)) << 32 |
                 static_cast<std::uint32_t>(dst_gpu)));
  h = mix64(h ^ flow_index);
  // Lemire's multiply-shift: unbiased enough for 32-bit spine counts.
  return static_cast<std::int32_t>(((h >> 32) * static_cast<std::uint64_t>(spines)) >> 32);
}

Route route_flow(const FabricGraph& g, std::int32_t src, std::int32_t dst, std::uint64_t flow_index,
                 const RoutingOptions& options) {
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

  // The GPUs where the flow enters and leaves the network.
  std::int32_t first = src, last = dst;
  const std::int32_t src_rail = g.rail_of_nic(g.nic_of(src));
  const std::int32_t dst_rail = g.rail_of_nic(g.nic_of(dst));
  if (src_rail != dst_rail) {
    const std::int32_t pxn_relay = g.gpu_on_rail(g.node_of(src), dst_rail);
    if (options.pxn && can_forward(g, src, pxn_relay)) {
      first = pxn_relay;
    } else if (g.kind() == FabricKind::kMultiPlaneFatTree) {
      const std::int32_t dst_relay = g.gpu_on_rail(g.node_of(dst), src_rail);
      if (!can_forward(g, dst_relay, dst))
        throw Error(fmt::format(
            "GPU {} (plane {}) cannot reach GPU {} (plane {}): a multi-plane fat tree's planes "
            "are disjoint and no NVLink {} can forward the flow",
            src, src_rail, dst, dst_rail,
            options.pxn ? "at either end" : "at the destination (PXN is off)"));
      last = dst_relay;
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
  if (src_leaf != dst_leaf) {
    const std::int32_t spines = g.spines_per_tree();
    switch (options.policy) {
      case RoutingPolicy::kEcmp:
        b.r.spine = ecmp_spine(src, dst, flow_index, options.seed, spines);
        break;
      case RoutingPolicy::kStatic:
        b.r.spine = g.port_of_nic(dst_nic) % spines;
        break;
      case RoutingPolicy::kAdaptive:
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

}  // namespace cobench::topo
