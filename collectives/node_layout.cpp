// SPDX-License-Identifier: Apache-2.0
#include "collectives/node_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "collectives/communicator.h"
#include "core/error.h"
#include "core/provenance.h"

namespace cobench::coll {

namespace {
NodeLayout finish(std::vector<int> node_of_rank, int rank) {
  NodeLayout l;
  l.rank = rank;
  l.node_of_rank = std::move(node_of_rank);
  l.num_nodes = 0;
  for (int n : l.node_of_rank) l.num_nodes = std::max(l.num_nodes, n + 1);
  l.ranks_per_node.assign(static_cast<std::size_t>(l.num_nodes), 0);
  for (int n : l.node_of_rank) {
    l.local_rank_of_rank.push_back(l.ranks_per_node[static_cast<std::size_t>(n)]);
    ++l.ranks_per_node[static_cast<std::size_t>(n)];
  }
  l.node = l.node_of_rank.at(static_cast<std::size_t>(rank));
  l.local_rank = l.local_rank_of_rank.at(static_cast<std::size_t>(rank));
  return l;
}
}  // namespace

bool NodeLayout::uniform() const {
  return std::all_of(ranks_per_node.begin(), ranks_per_node.end(),
                     [&](int k) { return k == ranks_per_node.front(); });
}

NodeLayout layout_from_hosts(const std::vector<std::string>& hosts, int rank) {
  COBENCH_CHECK(rank >= 0 && static_cast<std::size_t>(rank) < hosts.size(),
                fmt::format("rank {} outside {} hosts", rank, hosts.size()));
  std::map<std::string, int> ids;
  std::vector<int> node_of_rank;
  for (const auto& h : hosts) {
    auto [it, inserted] = ids.emplace(h, static_cast<int>(ids.size()));
    node_of_rank.push_back(it->second);
  }
  return finish(std::move(node_of_rank), rank);
}

NodeLayout layout_virtual(int ranks, int ranks_per_node, int rank) {
  COBENCH_CHECK(ranks_per_node >= 1 && ranks % ranks_per_node == 0,
                fmt::format("--ranks-per-node {} must divide the {} ranks", ranks_per_node, ranks));
  std::vector<int> node_of_rank;
  for (int r = 0; r < ranks; ++r) node_of_rank.push_back(r / ranks_per_node);
  NodeLayout l = finish(std::move(node_of_rank), rank);
  l.virtual_nodes = true;
  return l;
}

NodeLayout discover_layout(Communicator& comm, int ranks_per_node) {
  if (ranks_per_node > 0) return layout_virtual(comm.size(), ranks_per_node, comm.rank());
  return layout_from_hosts(comm.all_gather_strings(host_name()), comm.rank());
}

}  // namespace cobench::coll
