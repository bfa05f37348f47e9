// SPDX-License-Identifier: Apache-2.0
// Node-limited expert routing (paper section 4.3, V3 technical report 3.2.2): the routed experts
// are split into G groups, one group per node; a token scores its groups (DeepSeek-V3: the sum of
// each group's two best expert scores; V2: the best score), keeps the best M groups and takes
// its top-k experts among them. With forwarding inside the node, one copy of the token crosses
// the network per node it reaches, not per expert.
//
// Without a node limit (M = G) the top-k of i.i.d. scores is a uniform k-subset of the experts,
// so the expected number of distinct nodes is exact (hypergeometric):
//   E[nodes] = G x (1 - C(E - E/G, k) / C(E, k))
// With a limit the group choice biases which experts win, so it is estimated by a seeded Monte
// Carlo simulation of the rule itself, with its standard error.
#pragma once

#include <cstdint>

namespace cobench::topo {

enum class GroupScore { kMax, kTop2Sum };

struct RoutingShape {
  std::int64_t experts = 256;         ///< routed experts
  std::int64_t groups = 8;            ///< one group per node
  std::int64_t groups_per_token = 4;  ///< M
  std::int64_t top_k = 8;
  std::int64_t experts_per_gpu = 4;  ///< to count distinct GPUs
  GroupScore group_score = GroupScore::kTop2Sum;
};

/// Exact expected distinct nodes and GPUs without a node limit (groups_per_token is ignored).
double expected_nodes_unlimited(const RoutingShape& r);
double expected_gpus_unlimited(const RoutingShape& r);

struct Estimate {
  double mean = 0;
  double std_error = 0;
};

struct RoutingEstimate {
  Estimate nodes;
  Estimate gpus;
};

/// Routes `tokens` tokens with i.i.d. uniform scores under the shape's rule.
RoutingEstimate simulate_routing(const RoutingShape& r, std::int64_t tokens, std::uint64_t seed);

}  // namespace cobench::topo
