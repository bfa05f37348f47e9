// SPDX-License-Identifier: Apache-2.0
// The event-driven fluid run with an incremental refill (run_fluid's default, FluidOptions::
// refill): an event recomputes only the rates above the lowest rate of the flows that ended,
// with the same result as refilling every active flow.
//
// Why it is exact. Progressive filling raises a level; a flow freezes at the level where a
// resource on its path fills. When flows D finish, let l be the lowest rate among them. Below
// l nothing changes: every resource on D's paths filled at l or later (D's flows were unfrozen
// until then), and without D their shares are only higher, so the same resources fill at the
// same levels and the same flows freeze in the same order, adding the same loads. The refill
// resumes at l: the flows whose rate is below l keep it, every resource's load is its load just
// below l (kept as a per-resource history of (level, load after that level), cut at l), and the
// active flows at rate >= l fill on from there. Shares, the order in which resources fill
// (share, then resource) and in which flows freeze (by index) are those of the full refill, so
// the rates are the same to the bit but for the tolerance that merges levels within 1e-12.
// (Of the flows at rate >= l, only those connected to D's resources through flows at rate >= l
// can move; on an EP dispatch plane a search for them still found a large part of the active
// flows at every event, most of which changed rate, and cost more than it saved: docs/model.md.)
//
// Each flow's bytes left are kept lazily (bytes at the time its rate last changed) with its
// finish time: an event costs the flows at rate >= l, a scan of the active flows' finish
// times, and no per-flow byte update.
#pragma once

#include <cstdint>
#include <span>

#include "topologies/fabric_flows.h"

namespace cobench::topo::detail {

// A resource fills when the water level reaches its share; shares within this relative margin
// of the lowest fill together (ties broken by rounding alone).
inline constexpr double kLevelTolerance = 1e-12;
// Flows whose time left is within this relative margin of the earliest finish end with it.
inline constexpr double kFinishTolerance = 1e-9;

/// A resource's fair share in the water-filling's min-heap (both refills): the lowest share
/// first, ties by resource; `version` discards entries a later share of the same resource
/// replaced.
struct ShareEntry {
  double share;
  std::int32_t resource;
  std::uint32_t version;
  bool operator>(const ShareEntry& o) const {
    return share != o.share ? share > o.share : resource > o.resource;
  }
};

/// run_fluid on one component (flow_components) with the incremental refill; `flows` already
/// checked (check_flows), options too.
FluidRun run_incremental(std::span<const double> capacity_bytes_per_s, const FlowSet& flows,
                         const FluidOptions& options);

}  // namespace cobench::topo::detail
