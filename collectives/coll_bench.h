// SPDX-License-Identifier: Apache-2.0
// The collective benchmark harness (nccl-tests' method on any Communicator): for each
// collective, size and placement, one call on pattern data is verified on every rank, then
// `warmup` untimed calls, then `repetitions` timed blocks of `iters` calls. A block's time per
// call is the maximum over ranks (the collective is as slow as its slowest rank). A size whose
// verification fails is not timed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collectives/bandwidth.h"
#include "collectives/communicator.h"
#include "collectives/pattern.h"

namespace cobench::coll {

class Watchdog;

struct CollBenchOptions {
  std::vector<Collective> ops = default_collectives();
  std::vector<std::size_t> sizes;  ///< requested S in bytes (rounded down per collective)
  DataType type = DataType::kFloat32;
  int warmup = 5;
  int iters = 20;
  int repetitions = 5;
  bool out_of_place = true;
  bool in_place = true;  ///< where the collective has an in-place form (has_in_place)
  std::uint64_t seed = 1;
};

struct CollResult {
  Collective op = Collective::kAllReduce;
  bool in_place = false;
  CollectiveCounts counts;
  DataType type = DataType::kFloat32;
  int ranks = 1;
  std::vector<double> time_s;  ///< per repetition: time per call, maximum over ranks
  double median_time_s = 0;    ///< 0 when not timed
  BusBandwidth bandwidth;      ///< from the median time
  std::int64_t wrong = 0;      ///< elements that differ, summed over ranks
  std::string detail;          ///< the first mismatch (this rank's) or "all elements match"
  bool passed() const { return wrong == 0; }
};

/// Called on every rank after each result (done of total).
using CollProgress = std::function<void(const CollResult&, std::size_t done, std::size_t total)>;

/// Runs the sweep; every rank returns the same rows (times and counts agreed over the ranks).
std::vector<CollResult> run_collectives(Communicator& comm, const CollBenchOptions& opt,
                                        Watchdog* watchdog = nullptr,
                                        const CollProgress& progress = {});

/// One collective call on prepared buffers (send_recv is a ring: to rank + 1, from rank - 1).
void call_collective(Communicator& comm, Collective c, const void* send, void* recv,
                     std::size_t count, DataType t);

/// Whether `c` has an in-place form: all_reduce, all_gather, reduce_scatter, broadcast, reduce
/// (NCCL's; all_to_all and send_recv have none).
bool has_in_place(Collective c);

}  // namespace cobench::coll
