// SPDX-License-Identifier: Apache-2.0
// Which ranks share a node. Ranks are grouped by host name (nodes numbered in order of their
// lowest rank), or into virtual nodes of `ranks_per_node` consecutive ranks, so the
// hierarchical paths (network between nodes, forwarding inside one) run on one machine.
#pragma once

#include <string>
#include <vector>

namespace cobench::coll {

class Communicator;

struct NodeLayout {
  int rank = 0;
  int node = 0;        ///< this rank's node
  int local_rank = 0;  ///< index among the ranks of its node
  int num_nodes = 1;
  std::vector<int> node_of_rank;        ///< per world rank
  std::vector<int> local_rank_of_rank;  ///< per world rank
  std::vector<int> ranks_per_node;      ///< per node
  /// Every node has the same number of ranks (what rail-aligned forwarding needs).
  bool uniform() const;
  bool virtual_nodes = false;
};

/// Nodes by host name; `hosts[r]` is rank r's host.
NodeLayout layout_from_hosts(const std::vector<std::string>& hosts, int rank);

/// Virtual nodes of `ranks_per_node` consecutive ranks; throws unless it divides the rank count.
NodeLayout layout_virtual(int ranks, int ranks_per_node, int rank);

/// Host names gathered over the communicator (ranks_per_node <= 0), or virtual nodes.
NodeLayout discover_layout(Communicator& comm, int ranks_per_node);

}  // namespace cobench::coll
