// SPDX-License-Identifier: Apache-2.0
// What the fabric tests share: the max-min rates of flows routed on a graph.
#pragma once

#include <vector>

#include "topologies/fabric_flows.h"
#include "topologies/fabric_graph.h"
#include "topologies/fabric_routing.h"

namespace cobench::topo::test {

/// The max-min rates (B/s) of `flows` routed on `g` under `o` (flow index = position).
inline std::vector<double> routed_rates(const FabricGraph& g, const std::vector<Flow>& flows,
                                        const RoutingOptions& o) {
  FlowSet s;
  for (size_t i = 0; i < flows.size(); ++i)
    s.add(route_flow(g, flows[i].src_gpu, flows[i].dst_gpu, i, o).path(), flows[i].bytes);
  return max_min_rates(resource_capacities(g), s);
}

}  // namespace cobench::topo::test
