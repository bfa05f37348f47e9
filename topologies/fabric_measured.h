// SPDX-License-Identifier: Apache-2.0
// Measured `cobench_coll` results beside the fabric simulation (`cobench fabric --measured`).
// A record of a results file (docs/results-format.md) is a `cobench_coll` measurement when its
// suite is "collectives" and its parameters name the collective, the ranks and the bytes
// (collectives/coll_report.cpp writes them). It applies to a simulation only when its collective
// is the simulated traffic and its rank count the simulated group's (the identity rule); the others
// are left out and counted. Only passed records with a busbw metric count; the median of a
// record's busbw repetitions is its value, and where several records measure one size (in- and
// out-of-place, several runs) the highest is kept, as `cobench analyze --measured` keeps the best.
// The busbw at the simulated size is the record at that size, else the log-log interpolation
// between the two measured sizes around it, else (outside the measured sizes) the nearest one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/results.h"
#include "topologies/cluster.h"
#include "topologies/report.h"

namespace cobench::topo {

/// One measured size: the best median busbw of the records at it.
struct CollPoint {
  double bytes = 0;
  double busbw_bytes_per_s = 0;
  std::string source;  ///< "<file>: <benchmark>"
};

/// The measured busbw at a size, and how it was read off the points.
struct BusbwEstimate {
  double busbw_bytes_per_s = 0;
  std::string method;           ///< "exact", "interpolated (log-log)" or "nearest"
  std::vector<CollPoint> used;  ///< the one or two sizes it comes from
};

/// `points` sorted by bytes, distinct sizes, at least one; size_bytes > 0.
BusbwEstimate estimate_busbw(const std::vector<CollPoint>& points, double size_bytes);

struct MeasuredCollective {
  std::vector<std::string> files;        ///< the results files read, in order
  std::string collective;                ///< the simulated traffic (all_gather, ...)
  std::int64_t ranks = 0;                ///< the simulated group's rank count
  double size_bytes = 0;                 ///< the simulated size (nccl-tests' convention)
  std::vector<CollPoint> points;         ///< matching sizes, sorted by bytes
  std::int64_t records_used = 0;         ///< matching passed records with a busbw
  std::int64_t left_out_other = 0;       ///< cobench_coll records of other collectives or ranks
  std::int64_t left_out_unverified = 0;  ///< matching with a busbw, but failed or not checked
  std::int64_t left_out_no_busbw = 0;  ///< matching, but no busbw metric (timing baselines) or 0 B
  std::int64_t other_suites = 0;       ///< records that are not cobench_coll's
  bool found() const { return !points.empty(); }
  BusbwEstimate estimate;  ///< when found()
};

/// The matching points of one results document (adds to `into`'s counts and points; points are
/// sorted and reduced per size by measured_collective). Errors name `source` and the record.
/// With `cluster`, a matching record must have measured the cluster's link class
/// (measured_identity.h's link_mismatch: NCCL between GPUs of its model on a GPU cluster), else
/// it is an error naming both; `cluster` null (--measured-as link) compares it on purpose.
void collect_coll_points(const results::Results& r, const std::string& source,
                         MeasuredCollective& into, const ClusterSpec* cluster = nullptr);

/// Reads results files and directories (their *.json, sorted); a file that is not a results file
/// is a cobench::Error naming it. `cluster` as in collect_coll_points.
MeasuredCollective measured_collective(const std::vector<std::string>& paths,
                                       const std::string& collective, std::int64_t ranks,
                                       double size_bytes, const ClusterSpec* cluster = nullptr);

/// A simulated busbw beside the measurement: the routing policy's name and its busbw.
struct SimulatedBusbw {
  std::string routing;
  double busbw_bytes_per_s = 0;
};

/// Appends the measurement's rows (busbw in GB/s = 1e9 B/s, the ratio measured / simulated per
/// routing, the records used and left out; a line saying so when nothing matched) and sets
/// rep.extra["measured"]: {source, collective, ranks, size_bytes, records_used,
/// records_left_out, ..., method, sizes_used_bytes, busbw_bytes_per_s (null when nothing
/// matched), simulated_busbw_bytes_per_s_by_routing, ratio_by_routing}.
void add_measured(Report& rep, const MeasuredCollective& m,
                  const std::vector<SimulatedBusbw>& simulated);

}  // namespace cobench::topo
