// SPDX-License-Identifier: Apache-2.0
// The traffic a rank should see in one EP dispatch or combine, computed from every rank's
// routing alone: a second account, independent of the buffers EpExchange fills, that the tests
// compare with what it measured, and that sizes DeepSeek-V3-scale jobs without running them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "collectives/ep/ep_exchange.h"

namespace cobench::coll::ep {

/// The traffic (see Traffic) of a set of ranks, for the flat or hierarchical implementation,
/// summed over the tokens of the sources added: every source once gives each rank's traffic of
/// one dispatch or combine. Accounts of disjoint sources add up (one a thread).
class TrafficAccount {
 public:
  TrafficAccount(const EpConfig& c, const NodeLayout& layout, std::vector<int> ranks,
                 bool hierarchical, bool dispatch);
  /// The tokens of source rank `src`.
  void add(int src, const Routing& routing);
  /// Another account of the same ranks over other sources.
  void add(const TrafficAccount& other);
  /// The traffic of the i-th rank of the constructor's list.
  Traffic traffic(std::size_t i) const;

 private:
  struct Counts {  // in token copies
    double network = 0, intra = 0, logical_network = 0, received = 0;
  };
  EpConfig c_;
  const NodeLayout& layout_;
  std::vector<int> ranks_;
  bool hierarchical_, dispatch_;
  std::vector<Counts> counts_;
  std::vector<int> index_of_rank_;    ///< a rank's place in ranks_, -1 if not accounted
  std::vector<char> accounted_node_;  ///< 1 where an accounted rank lives
};

/// Traffic of `rank` (see Traffic) for the flat or hierarchical implementation.
Traffic expected_traffic(const EpConfig& c, const NodeLayout& layout,
                         const std::vector<Routing>& all, int rank, bool hierarchical,
                         bool dispatch);

}  // namespace cobench::coll::ep

namespace cobench::coll::ep {

/// Called now and then with the ranks routed so far and the total (one thread at a time).
using PlanProgress = std::function<void(int done, int total)>;

/// Without running anything: per-rank dispatch traffic of flat and hierarchical on `layout`,
/// averaged over its first `sample_ranks` ranks, as text (`cobench_ep --plan-ranks`). Every
/// rank's tokens are routed (the sampled ranks receive and forward them), on all hardware
/// threads: the work grows as ranks x tokens x experts.
std::string plan_report(const EpConfig& c, const NodeLayout& layout, int sample_ranks,
                        const PlanProgress& progress = {});

}  // namespace cobench::coll::ep
