// SPDX-License-Identifier: Apache-2.0
// The EP benchmark's output: a table (microseconds; GB/s = 1e9 B/s per rank, payload bytes as
// DeepEP counts them) and records of the results format. Bandwidths are per rank: the mean over
// ranks of the bytes a rank sends on a link class, divided by the round's communication time
// (maximum over ranks; ep_bench.h says what is timed). "physical" excludes self-traffic; "logical"
// is DeepEP's convention (own node and self included).
#pragma once

#include <string>
#include <vector>

#include "collectives/ep/ep_bench.h"
#include "core/results.h"

namespace cobench::coll::ep {

std::string format_table(const std::vector<EpResult>& rows, const EpConfig& c,
                         const NodeLayout& layout);

/// Two records per row (dispatch, combine), backend mpi or nccl as the row ran, with parameters
/// `data_path` and `timed` and metrics `staging_time` and `end_to_end_time` beside `time`. On real
/// nodes (not virtual), the hierarchical dispatch across several nodes carries `model_input:
/// ep.bandwidth.inter_node` (its physical network bandwidth), and the flat dispatch inside one node
/// `ep.bandwidth.intra_node` (its physical intra-node bandwidth); `model_metric` names the metric.
std::vector<results::Record> to_records(const std::vector<EpResult>& rows, const EpConfig& c,
                                        const NodeLayout& layout);

}  // namespace cobench::coll::ep
