// SPDX-License-Identifier: Apache-2.0
// The EP dispatch or combine as a traffic matrix: the bytes each rank sends each other rank in
// one dispatch or combine of the flat or hierarchical exchange, from every rank's routing (no
// run), written as a traffic file for the fabric simulator (`cobench_ep --plan-ranks N
// --plan-traffic FILE`, then `cobench fabric --traffic FILE`). Bytes are the wire's: whole
// dispatch or combine records (payload, scales, header), as the exchange's all-to-all-v stages
// move them; self-traffic is left out.
//   flat dispatch:          a token's source sends one record to each distinct destination rank;
//   hierarchical dispatch:  one record to the forwarder on each other node it reaches (the rank
//                           there with the source's local index), which sends one to each of
//                           its node's destination ranks but itself (on the source's own node,
//                           the source is the forwarder);
//   combine:                the same records back, each along the reverse of its dispatch path.
// Every stage is one matrix (a fabric phase): the network and NVLink stages overlap, as DeepEP
// pipelines them. Per rank, the sums are TrafficAccount's (ep_plan.h; tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collectives/ep/ep_plan.h"

namespace cobench::coll::ep {

/// The most ranks a traffic matrix is planned for (a ranks x ranks table of counts).
inline constexpr int kMaxPairTrafficRanks = 4096;

struct PairBytes {
  int src = 0;
  int dst = 0;
  double bytes = 0;
};

/// The nonzero pairs, by source then destination. Throws cobench::Error above
/// kMaxPairTrafficRanks ranks, or for a hierarchical plan on nodes of unequal rank counts.
std::vector<PairBytes> pair_traffic(const EpConfig& c, const NodeLayout& layout, bool hierarchical,
                                    bool dispatch, const PlanProgress& progress = {});

/// 'SRC DST BYTES' lines (docs/model.md's traffic file), after `header` as '#' comment lines.
std::string traffic_file_text(const std::vector<PairBytes>& pairs, const std::string& header);

}  // namespace cobench::coll::ep
