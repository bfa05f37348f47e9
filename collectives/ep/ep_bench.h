// SPDX-License-Identifier: Apache-2.0
// The EP dispatch/combine benchmark: for each implementation (flat, hierarchical), one verified
// round first, then timed rounds. Verification on every run, on every rank:
//   dispatch  each rank received exactly the (source rank, token) pairs that route to one of its
//             experts, once each, with the routing and FP8 payload bytes the source would send
//             (recomputed from the seed);
//   combine   each token's output (plus the local shared expert) equals the FP64 reference
//             x~ (shared + sum_j w_j c_j) within the combine format's bound
//             (combine_error_bound: BF16 flat, 2^-8 of |x~| sum_j w_j c_j), with 1 (flat) or 2
//             (hierarchical) encodings of the partial sums in series;
//   flat = hierarchical  within the sum of their bounds.
// The expert computation runs between dispatch and combine and is not timed. Timed per round, each
// the maximum over ranks of a rank's mean over the iterations:
//   time          the communication stages only (per stage: the count swap and the records'
//                 all-to-all-v up to synchronize(), on the communicator's buffers), as DeepEP's
//                 kernel times; the host pack/unpack and the copies to and from the
//                 communicator's buffers are excluded (kTimedRegion says it in the records);
//   staging       the copies of the packed records into and out of the communicator's buffers;
//   end to end    the whole dispatch() or combine() call (pack, copies, unpack included).
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

/// What `time` covers, as the records' parameter `timed` says it.
inline constexpr const char* kTimedRegion =
    "communication stages: count swap + all-to-all-v up to synchronize, on the communicator's "
    "buffers; host pack/unpack and host<->buffer copies excluded (staging_time, "
    "end_to_end_time)";

struct EpResult {
  std::string implementation;      ///< "flat" | "hierarchical"
  std::string backend;             ///< the communicator's: "mpi" | "nccl"
  std::string data_path;           ///< data_path(memory kind)
  std::vector<double> dispatch_s;  ///< per repetition: communication time per round (max ranks)
  std::vector<double> combine_s;
  std::vector<double> dispatch_staging_s, combine_staging_s;  ///< the copies, likewise
  std::vector<double> dispatch_total_s, combine_total_s;      ///< end to end, likewise
  TrafficStats dispatch, combine;
  std::int64_t received_tokens = 0;  ///< token copies received by expert ranks, all ranks
  std::int64_t wrong = 0;            ///< failed checks over all ranks
  double max_rel_error = 0;          ///< combine, relative to |x~| sum_j w_j c_j, all ranks
  double max_error_over_bound = 0;   ///< combine: the largest error over its bound, all ranks
  std::string combine_format;        ///< --combine-format's name
  std::string detail;                ///< what was checked, or the first failure on this rank
  bool passed() const { return wrong == 0; }
};

/// The bound on |combine output - FP64 reference| of one value after `encodings` encodings in
/// series (1 flat, 2 hierarchical) in a format of per-encoding bound `b`, for a value |x~| =
/// x_abs in a tile of largest |x~| x_tile_amax and the routed factor sum_j w_j c_j (derived in
/// ep_bench.cpp).
double combine_error_bound(const CombineErrorBound& b, int encodings, double x_abs,
                           double x_tile_amax, double routed);

using EpProgress =
    std::function<void(const std::string& label, std::size_t done, std::size_t total)>;

/// Runs the selected implementations; every rank returns the same rows.
std::vector<EpResult> run_ep(Communicator& world, const NodeLayout& layout,
                             const EpBenchOptions& opt, Watchdog* watchdog = nullptr,
                             const EpProgress& progress = {});

}  // namespace cobench::coll::ep
