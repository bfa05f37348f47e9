// SPDX-License-Identifier: Apache-2.0
// Routing a flow (source GPU, destination GPU) over the fabric graph (fabric_graph.h):
//   same scale-up domain: GPU -> scale-up switch -> GPU (NVLink);
//   otherwise: GPU -> its NIC -> leaf [-> spine -> leaf] -> NIC -> GPU.
// The spine, when the leaves differ, is the one equal-cost choice of a two-level tree:
//   kEcmp      a seeded hash of (source, destination, flow index, seed) per flow;
//   kStatic    fixed per destination as an InfiniBand linear forwarding table: the destination
//              NIC's port on its leaf modulo the spines (radix/2 spines: one per port);
//   kAdaptive  the flow split evenly over every spine (a fluid model). An even split loads each
//              of a leaf's uplinks alike, so the route crosses the leaf's uplink bundle (one
//              resource of all its uplinks' capacity) and the destination leaf's downlink
//              bundle: exact for the even split, and S times fewer hops than S subflows.
// PXN (NCCL's PCIe x NVLink): on an MPFT or MRFT, when the destination GPU's NIC is on another
// plane or rail than the source GPU's, the flow first crosses NVLink to the source node's GPU
// whose NIC is on the destination's plane or rail, then the network (NCCL's default).
// Without PXN, on an MRFT the flow crosses rails through the shared spines; on an MPFT, whose
// planes are disjoint, it crosses the source's plane to the destination node's GPU on that
// plane and is forwarded over the destination node's NVLink (the paper's intra-node
// forwarding). Where no NVLink can forward it, the route is refused.
//
// FT3 (fabric_graph.h): same leaf as above; same pod: leaf -> aggregation switch j -> leaf, j
// the one equal-cost choice (as the FT2's spine: Route::spine holds j); across pods: leaf ->
// aggregation j of the source pod -> core (j, c) -> aggregation j of the destination pod ->
// leaf, choices j and c (Route::core holds c). Per policy:
//   kEcmp      j as the FT2's spine hash; c a second hash of the same flow with the seed salted
//              (each switch hashes with its own function; the two picks are independent);
//   kStatic    D-mod-K LFTs (destination NIC d, h = radix/2): the leaf's uplink j = d mod h
//              (the NIC's port on its leaf, the FT2 rule), the aggregation switch's core
//              c = (d / h) mod h (the destination leaf's index in its pod);
//   kAdaptive  the even split over all h x h paths: the source leaf's uplink bundle, then the
//              source pod's aggregation-to-core bundle (its h x h links each carry 1/h^2 of the
//              flow under the even split, so one resource of their summed capacity is exact),
//              the destination pod's core-to-aggregation bundle, the destination leaf's
//              downlink bundle.
// Slim Fly and dragonfly (fabric_graph.h, direct_network.h): NIC -> router, then one of the
// routers' minimal paths (DirectNetwork::minimal_path: the Slim Fly's direct link or one
// two-hop path per common neighbour; the dragonfly's local link, or local-global-local through
// one of the m global links joining the two groups), then router -> NIC. Per policy:
//   kEcmp      the path a hash of the flow picks (the same hash as a spine's);
//   kStatic    fixed per destination: the destination NIC's id modulo the paths;
//   kAdaptive  the flow split evenly over its minimal paths (over kMaxAdaptivePaths of them,
//              evenly spaced in their order from a hashed start, when it has more: together
//              the flows of a pair of groups still cover every global link): route each part with
//              route_flow's `path` (adaptive_paths says which); route_flow itself refuses
//              kAdaptive without one. No bundle is exact here: the paths share no first hop.
// Minimal routing only (no Valiant or UGAL detour). Link failures are refused, as on an FT3.
// PXN never applies (one plane). Link failures on an FT3 are refused (an Error): the live-path
// rules above are written for one tier of spines.
//
// After link failures (FabricGraph::fail_link, fabric_failure.h) routes avoid dead links:
//   kEcmp      hashes over the live spines only (the same hash, modulo their count: a switch's
//              ECMP group shrinks, and as RFC 2992's modulo-N hashing some surviving flows move);
//   kStatic    keeps the LFT's spine when its path is up, else takes the next live spine in
//              cyclic order (a switch's local failover to an alternate port before the subnet
//              manager recomputes the tables): only the dead path's flows move, all onto one;
//   kAdaptive  spreads over the live uplinks (the bundles lose the dead links' capacity). The
//              bundle pools a leaf's live uplinks for every destination: where a failure at
//              the far leaf makes one useless to some pairs, it is optimistic.
// A dead NIC-leaf link (a plane or rail down) moves the flow off that plane or rail: PXN's
// relay is used only when the destination's plane is up; else the source's own plane with
// forwarding over the destination node's NVLink (MPFT), else the next live plane or rail from
// the destination's with NVLink relays at both ends. No live path: an Error naming the pair.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "topologies/fabric_graph.h"

namespace cobench::topo {

enum class RoutingPolicy { kEcmp, kStatic, kAdaptive };
std::string_view to_string(RoutingPolicy p);
/// "ecmp", "static" or "adaptive"; anything else is an Error naming the choices.
RoutingPolicy parse_routing_policy(std::string_view text);

struct RoutingOptions {
  RoutingPolicy policy = RoutingPolicy::kEcmp;
  bool pxn = true;
  std::uint64_t seed = 0;
};

/// The resources flows share: the graph's links [0, links), then one uplink bundle per leaf
/// [links, links + leaves), then one downlink bundle per leaf (kAdaptive's spine hops), then
/// (an FT3 with a core tier) one aggregation-to-core bundle per pod and one core-to-aggregation
/// bundle per pod.
std::int32_t resource_count(const FabricGraph& g);
std::int32_t uplink_bundle(const FabricGraph& g, std::int32_t leaf);
std::int32_t downlink_bundle(const FabricGraph& g, std::int32_t leaf);
std::int32_t pod_uplink_bundle(const FabricGraph& g, std::int32_t pod);
std::int32_t pod_downlink_bundle(const FabricGraph& g, std::int32_t pod);
/// Capacities in bytes/s: a link's, or a bundle's (its links' sum).
std::vector<double> resource_capacities(const FabricGraph& g);

/// NVLink, the network (6 links across leaves), NVLink: relays at both ends after a failure
/// (an FT3's 8 network links across pods never take relays: one plane, no failures).
inline constexpr int kMaxRouteHops = 10;

struct Route {
  std::array<std::int32_t, kMaxRouteHops> resources{};
  int hops = 0;
  double latency_s = 0;           ///< the links' latencies summed
  std::int32_t relay_gpu = -1;    ///< the GPU that forwards over NVLink (PXN or destination side)
  std::int32_t spine = -1;        ///< the spine within the tree; -1 without one or when split
                                  ///< (FT3: the aggregation switch's index in the pod)
  std::int32_t core = -1;         ///< FT3 across pods: the core in group `spine`; else -1
  std::int32_t direct_path = -1;  ///< Slim Fly, dragonfly: the minimal path taken, else -1
  std::int32_t direct_paths = 0;  ///< Slim Fly, dragonfly: the minimal paths it had
  std::int32_t source_leaf = -1;  ///< the leaves the network part joins (-1: NVLink only)
  std::int32_t destination_leaf = -1;

  std::span<const std::int32_t> path() const { return {resources.data(), size_t(hops)}; }
};

/// The route of flow number `flow_index` (hashed by kEcmp) from `src_gpu` to `dst_gpu`. `path`
/// >= 0 forces a Slim Fly's or dragonfly's minimal path (modulo their count; ignored on the
/// trees). Throws cobench::Error for a GPU outside the graph, a flow to itself, a pair the
/// fabric cannot join, or kAdaptive on a Slim Fly or dragonfly without a path.
Route route_flow(const FabricGraph& g, std::int32_t src_gpu, std::int32_t dst_gpu,
                 std::uint64_t flow_index, const RoutingOptions& options, std::int32_t path = -1);

/// The most parts kAdaptive splits a flow into on a Slim Fly or dragonfly.
inline constexpr std::int32_t kMaxAdaptivePaths = 16;
/// kAdaptive on a Slim Fly or dragonfly: the minimal paths a flow from `src_gpu` to `dst_gpu`
/// is split over evenly, written to `out` (kMaxAdaptivePaths at most); how many (1 when its
/// route has no choice). On the trees: 0 (their kAdaptive is one route over bundles).
std::int32_t adaptive_paths(const FabricGraph& g, std::int32_t src_gpu, std::int32_t dst_gpu,
                            const RoutingOptions& options,
                            std::array<std::int32_t, kMaxAdaptivePaths>& out);

/// The seed of an FT3 aggregation switch's core hash: the flow's seed xor this.
inline constexpr std::uint64_t kCoreHashSalt = 0x636f7265;  // "core"

/// kEcmp's spine for a flow: uniform over 0 to spines - 1 for any seed.
std::int32_t ecmp_spine(std::int32_t src_gpu, std::int32_t dst_gpu, std::uint64_t flow_index,
                        std::uint64_t seed, std::int32_t spines);

}  // namespace cobench::topo
