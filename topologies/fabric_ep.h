// SPDX-License-Identifier: Apache-2.0
// Expert-parallel dispatch and combine traffic for the fabric simulator (fabric_flows.h), as
// DeepEP's normal (internode) kernels move it on a multi-plane or multi-rail cluster.
//
// Routing: each GPU holds `tokens_per_gpu` tokens; a token picks its top-k experts under
// DeepSeek-V3's node-limited rule (routing.h): the experts split into one group per node, the
// token keeps its best `max_nodes` groups (all of them when the fabric has fewer nodes) and takes
// its top-k experts among them; scores are i.i.d. uniform (a seeded draw). Experts are spread
// evenly: GPU g holds experts [g x E/G, (g + 1) x E/G).
//
// Two samplers of that rule (EpSampler): up to kAllScoresMaxExperts experts (and whenever a token
// may reach every node) a token draws all E scores (fabric_ep.cpp; --paper's Fig 7 draws); above,
// with a node limit, the kept groups come from their order statistics (ep_group_sampler.h), about
// M x E/G work a token instead of E, exact in distribution but with other draws.
//
// DeepEP's two-stage forwarding: a token of GPU (node n, local l) crosses to each destination node
// m != n once, to GPU (m, l), the GPU of its own rail or plane (the network part, one NIC); there,
// and on its own node at GPU (n, l) itself, it is forwarded once to each distinct GPU (m, j != l)
// that holds one of its experts (NVLink). Combine is the same traffic reversed (the expert GPUs
// send their outputs over NVLink to (m, l), which sends one reduced copy back over the network).
// Both stages run at once, as one phase (DeepEP pipelines them in chunks; the fluid model ignores
// that a forwarded chunk must arrive first). Flows are aggregated per GPU pair.
//
// Payloads (core/ep_payload.h): a dispatched copy is FP8 with an FP32 scale a 128 values
// (7392 B at hidden 7168); a combined copy BF16 (14336 B).
//
// Bandwidths per GPU, over the phase time t (the latest flow's finish plus its path latency):
//   physical = (bytes the GPUs send over their NICs) / G / t: the mean NIC rate;
//   logical  = (token, destination node) pairs, the source's own node included, x payload / G / t:
//              what DeepEP's test_internode.py prints as its RDMA bandwidth (num_rdma_token_sent
//              x payload / kernel time), which counts the copy to the token's own node, that never
//              crosses a NIC, as if it did.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/routing.h"

namespace cobench::topo {

enum class EpDirection { kDispatch, kCombine };
std::string_view to_string(EpDirection d);

/// kAuto: kAllScores up to kAllScoresMaxExperts experts or without a node limit (M >= nodes),
/// kGroupOrder above.
enum class EpSampler { kAuto, kAllScores, kGroupOrder };
std::string_view to_string(EpSampler s);

/// The most experts kAuto routes by drawing all their scores: 16 x Fig 7's 256, so every size
/// the tests, --paper and the CLI's defaults use keeps its draws (a choice, not a measured
/// crossover; the all-scores cost a token grows with E, the other's with M x E/G).
inline constexpr std::int64_t kAllScoresMaxExperts = 4096;
/// The largest GPUs x tokens x expert scores a token (every expert for kAllScores, those of the
/// nodes a token reaches and the nodes for kGroupOrder) one routing simulation takes; larger
/// sizes are refused (cobench::UsageError) before any token is routed.
inline constexpr double kMaxScoreDraws = 17179869184.0;  // 2^34

struct EpTrafficOptions {
  std::int64_t tokens_per_gpu = 4096;
  double hidden = 7168;
  std::int64_t top_k = 8;
  std::int64_t experts = 256;
  std::int64_t max_nodes = 4;  ///< M: at most this many nodes (groups) a token
  GroupScore group_score = GroupScore::kTop2Sum;
  std::uint64_t seed = 0;
  EpSampler sampler = EpSampler::kAuto;
  /// Called as the GPUs' tokens are routed (GPUs done, all of them), from one thread only, for a
  /// long run's progress; empty: nothing is called.
  std::function<void(std::int64_t gpus_routed, std::int64_t gpus)> progress;
};

/// One token's routing: its GPU and its experts (ids 0 to E - 1; duplicates are an error).
struct EpTokenRoute {
  std::int32_t src_gpu = 0;
  std::vector<std::int32_t> experts;
};

struct EpTraffic {
  EpDirection direction = EpDirection::kDispatch;
  std::int32_t gpus = 0;
  double payload_bytes = 0;  ///< one token copy
  std::vector<Flow> flows;   ///< network flows first, then NVLink flows
  std::int64_t network_flows = 0;
  std::int64_t tokens = 0;
  std::int64_t token_node_pairs = 0;         ///< distinct destination nodes, own included
  std::int64_t remote_token_node_pairs = 0;  ///< of them, other nodes: copies over a NIC
  std::int64_t nvlink_copies = 0;            ///< copies forwarded over NVLink
  std::vector<double> nic_bytes;             ///< per GPU: bytes it sends over its NIC
  double network_bytes() const;              ///< the NICs' sum
  double logical_bytes() const { return static_cast<double>(token_node_pairs) * payload_bytes; }
};

/// The traffic of given token routes on `g`'s first `gpus` GPUs (whole nodes; experts
/// spread evenly over them). Throws cobench::Error for a GPU or expert out of range, a repeated
/// expert, E not a multiple of the GPUs, or a GPU count that is not whole nodes.
EpTraffic ep_traffic_from_routes(const FabricGraph& g, std::int32_t gpus, std::int64_t experts,
                                 double hidden, EpDirection direction,
                                 std::span<const EpTokenRoute> tokens);

/// The sampler `options.sampler` resolves to on `nodes` nodes (kAllScores or kGroupOrder).
EpSampler resolve_ep_sampler(const EpTrafficOptions& options, std::int64_t nodes);

/// The sampled routes of ep_traffic (the same tokens, GPU by GPU), for tests and inspection:
/// `tokens_per_gpu` x `gpus` of them, so for small runs. Throws as ep_traffic.
std::vector<EpTokenRoute> ep_routes(const FabricGraph& g, std::int32_t gpus,
                                    const EpTrafficOptions& options);

/// Routes `tokens_per_gpu` tokens on each of the first `gpus` GPUs under the node-limited rule
/// (seeded) and returns their traffic. Throws cobench::Error naming the value for options the
/// rule or the fabric cannot hold (top-k above the chosen groups' experts, E not divisible by
/// the GPUs, ...).
EpTraffic ep_traffic(const FabricGraph& g, std::int32_t gpus, const EpTrafficOptions& options,
                     EpDirection direction);

/// The same tokens' traffic in the other direction (dispatch <-> combine): every flow reversed,
/// its bytes at the other direction's copy size for `hidden`.
EpTraffic reverse_ep_traffic(const EpTraffic& t, double hidden);

struct EpResult {
  double time_s = 0;
  double physical_bw_bytes_per_s = 0;      ///< mean over GPUs: NIC bytes / time
  double max_physical_bw_bytes_per_s = 0;  ///< the busiest NIC's bytes / time
  double logical_bw_bytes_per_s = 0;       ///< DeepEP's: token-node pairs x payload / GPUs / time
  PhaseResult phase;
};

EpResult simulate_ep(const FabricGraph& g, const EpTraffic& t, const RoutingOptions& routing,
                     const FluidOptions& fluid = {});

}  // namespace cobench::topo
