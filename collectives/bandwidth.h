// SPDX-License-Identifier: Apache-2.0
// Collective sizes and bandwidths with nccl-tests' conventions (doc/PERFORMANCE.md there):
//   algbw = S / t, with S the operation's size in bytes as defined below;
//   busbw = algbw * factor, the factor making busbw comparable to a link's bandwidth:
//     all_reduce      2 (n - 1) / n   S = the buffer each rank reduces
//     all_gather      (n - 1) / n     S = the gathered buffer (n * per-rank bytes)
//     reduce_scatter  (n - 1) / n     S = the buffer each rank sends (n * per-rank bytes)
//     all_to_all      (n - 1) / n     S = each rank's send buffer (n * per-peer bytes)
//     send_recv       1               S = the bytes each rank sends
//     broadcast       1               S = the buffer (root 0)
//     reduce          1               S = the buffer (root 0)
// As in nccl-tests, a requested size is rounded down to what the ranks can split evenly. Each
// collective's formulas live in its descriptor (collectives/ops/); these functions look them up.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "collectives/ops/registry.h"

namespace cobench::coll {

/// A handle on a registered collective (collectives/ops/registry.h): kAllReduce, kAllGather,
/// kReduceScatter, kAllToAll, kSendRecv, kBroadcast, kReduce, in the registry's order.
#define COBENCH_COLLECTIVE_ENUMERATOR(Name) k##Name,
#define COBENCH_COLLECTIVE_VALUE(Name) Collective::k##Name,
enum class Collective { COBENCH_COLLECTIVES(COBENCH_COLLECTIVE_ENUMERATOR) };
inline constexpr Collective kAllCollectives[] = {COBENCH_COLLECTIVES(COBENCH_COLLECTIVE_VALUE)};
#undef COBENCH_COLLECTIVE_VALUE
#undef COBENCH_COLLECTIVE_ENUMERATOR

/// The collectives a sweep runs when none are named: all but broadcast and reduce, which run
/// only when named (nccl-tests, too, builds them as binaries of their own).
std::vector<Collective> default_collectives();

/// "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv", "broadcast", "reduce".
std::string_view to_string(Collective c);
/// The collective named `name`; throws cobench::Error naming it and the accepted names.
Collective parse_collective(std::string_view name);

/// nccl-tests' bus-bandwidth factor for `ranks` ranks.
double bus_factor(Collective c, int ranks);

/// Element counts of one call for a requested size of `bytes` (rounded down).
struct CollectiveCounts {
  std::size_t send = 0;   ///< elements in each rank's send buffer
  std::size_t recv = 0;   ///< elements in each rank's receive buffer
  std::size_t param = 0;  ///< the `count` argument of the call
  std::size_t bytes = 0;  ///< S, the size algbw divides (after rounding)
};
CollectiveCounts collective_counts(Collective c, std::size_t bytes, std::size_t type_size,
                                   int ranks);

/// algbw and busbw in bytes per second.
struct BusBandwidth {
  double alg_bytes_per_s = 0;
  double bus_bytes_per_s = 0;
};
BusBandwidth bus_bandwidth(Collective c, std::size_t bytes, double time_s, int ranks);

/// Sizes from `min_bytes` to `max_bytes`, multiplying by `factor` (> 1), or adding `step_bytes`
/// when factor is 0, as nccl-tests' -b/-e/-f/-i. Throws cobench::Error on min > max, a factor that
/// is neither 0 nor finite and > 1, or more than kMaxSweepSizes sizes.
inline constexpr std::size_t kMaxSweepSizes = 10000;
std::vector<std::size_t> size_sweep(std::size_t min_bytes, std::size_t max_bytes, double factor,
                                    std::size_t step_bytes);

}  // namespace cobench::coll
