// SPDX-License-Identifier: Apache-2.0
// The EP dispatch/combine benchmark: for each implementation (flat, hierarchical), one verified
// round first, then timed rounds. Verification on every run, on every rank:
//   dispatch  each rank received exactly the (source rank, token) pairs that route to one of its
//             experts, once each, with the routing and FP8 payload bytes the source would send
//             (recomputed from the seed);
//   combine   each token's output (plus the local shared expert) equals the FP64 reference
//             x~ (shared + sum_j w_j c_j) within the BF16 bound: each BF16 rounding of a partial
//             sum adds at most 2^-8 of |x~| sum_j w_j c_j, and there are 1 (flat) or 2
//             (hierarchical) roundings per token;
//   flat = hierarchical  within the sum of their bounds.
// The expert computation runs between dispatch and combine and is not timed. A round's time is
// the maximum over ranks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/ep/ep_config.h"
#include "collectives/ep/ep_exchange.h"
#include "collectives/node_layout.h"

namespace cobench::coll {
class Watchdog;
}

namespace cobench::coll::ep {

struct EpBenchOptions {
  EpConfig config;
  int warmup = 1;
  int iters = 3;
  int repetitions = 5;
  bool flat = true;
  bool hierarchical = true;
};

/// Traffic summed over the ranks and its maximum on one rank.
struct TrafficStats {
  Traffic mean;  ///< per rank, averaged over the ranks
  Traffic max;   ///< the largest on any rank (each field separately)
};

struct EpResult {
  std::string implementation;      ///< "flat" | "hierarchical"
  std::vector<double> dispatch_s;  ///< per repetition: time per round, maximum over ranks
  std::vector<double> combine_s;
  TrafficStats dispatch, combine;
  std::int64_t received_tokens = 0;  ///< token copies received by expert ranks, all ranks
  std::int64_t wrong = 0;            ///< failed checks over all ranks
  double max_rel_error = 0;          ///< combine, relative to |x~| sum_j w_j c_j, all ranks
  std::string detail;                ///< what was checked, or the first failure on this rank
  bool passed() const { return wrong == 0; }
};

using EpProgress =
    std::function<void(const std::string& label, std::size_t done, std::size_t total)>;

/// Runs the selected implementations; every rank returns the same rows.
std::vector<EpResult> run_ep(Communicator& world, const NodeLayout& layout,
                             const EpBenchOptions& opt, Watchdog* watchdog = nullptr,
                             const EpProgress& progress = {});

}  // namespace cobench::coll::ep
