// SPDX-License-Identifier: Apache-2.0
// The traffic a rank should see in one EP dispatch or combine, computed from every rank's
// routing alone: a second account, independent of the buffers EpExchange fills, that the tests
// compare with what it measured, and that sizes DeepSeek-V3-scale jobs without running them.
#pragma once

#include <string>
#include <vector>

#include "collectives/ep/ep_exchange.h"

namespace cobench::coll::ep {

/// Traffic of `rank` (see Traffic) for the flat or hierarchical implementation.
Traffic expected_traffic(const EpConfig& c, const NodeLayout& layout,
                         const std::vector<Routing>& all, int rank, bool hierarchical,
                         bool dispatch);

}  // namespace cobench::coll::ep

namespace cobench::coll::ep {

/// Without running anything: per-rank dispatch traffic of flat and hierarchical on `layout`,
/// averaged over its first `sample_ranks` ranks, as text (`cobench_ep --plan-ranks`).
std::string plan_report(const EpConfig& c, const NodeLayout& layout, int sample_ranks);

}  // namespace cobench::coll::ep
