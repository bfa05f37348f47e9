// SPDX-License-Identifier: Apache-2.0
// Link failures in the fabric graph (fabric_graph.h), named as the reports name the switches:
//   uplink:LEAF:SPINE  the cable between a leaf and one spine of its tree, both directions. LEAF
//                      is "3" in an FT2, "p2.1" in an MPFT (plane 2, leaf 1), "r3.0" in a
//                      multi-rail tree (rail 3, leaf 0); SPINE counts 0 to spines - 1 in the tree.
//                      In an FT3 LEAF is the leaf's number ("5") and SPINE the aggregation
//                      switch of its pod (0 to radix/2 - 1).
//   core:POD:AGG:CORE  FT3: the cable between aggregation switch AGG of pod POD and core CORE
//                      of core group AGG, both directions.
//   plane:P            an MPFT's plane P down: every link of its leaves (NIC and spine cables).
//   rail:R             a multi-rail tree's rail R down: its leaves' links, as a plane.
// Routing (fabric_routing.h) then avoids the dead links.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/fabric_graph.h"

namespace cobench::topo {

struct LinkFailure {
  std::string spec;                 ///< as given
  std::string description;          ///< "leaf p2.1 <-> spine p2.7", "plane 3 (8 leaves)"
  std::vector<std::int32_t> links;  ///< the graph's links it takes down
};

/// Parses one failure spec against `g`. Throws cobench::Error naming the spec and the valid
/// forms or range for a malformed spec, a leaf, spine, plane or rail the fabric lacks, or a
/// form the fabric has no use for (plane: outside an MPFT).
LinkFailure parse_link_failure(const FabricGraph& g, std::string_view spec);

/// Takes the failures' links down in `g`.
void apply_link_failures(FabricGraph& g, std::span<const LinkFailure> failures);

}  // namespace cobench::topo
