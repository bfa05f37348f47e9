// SPDX-License-Identifier: Apache-2.0
// Collective sizes and bandwidths with nccl-tests' conventions (doc/PERFORMANCE.md there):
//   algbw = S / t, with S the operation's size in bytes as defined below;
//   busbw = algbw * factor, the factor making busbw comparable to a link's bandwidth:
//     all_reduce      2 (n - 1) / n   S = the buffer each rank reduces
//     all_gather      (n - 1) / n     S = the gathered buffer (n * per-rank bytes)
//     reduce_scatter  (n - 1) / n     S = the buffer each rank sends (n * per-rank bytes)
//     all_to_all      (n - 1) / n     S = each rank's send buffer (n * per-peer bytes)
//     send_recv       1               S = the bytes each rank sends
// As in nccl-tests, a requested size is rounded down to what the ranks can split evenly.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace cobench::coll {

enum class Collective { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };

inline constexpr Collective kAllCollectives[] = {Collective::kAllReduce, Collective::kAllGather,
                                                 Collective::kReduceScatter, Collective::kAllToAll,
                                                 Collective::kSendRecv};

std::string_view to_string(Collective c);
/// "all_reduce" | "all_gather" | "reduce_scatter" | "all_to_all" | "send_recv"; throws naming
/// the accepted values.
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
