// SPDX-License-Identifier: Apache-2.0
// The collective benchmark's output: an nccl-tests-style table (one line per collective and
// size, out-of-place and in-place side by side; times in microseconds, bandwidths in GB/s =
// 1e9 B/s) and records of the results format (SI units: s, B/s).
#pragma once

#include <string>
#include <vector>

#include "collectives/coll_bench.h"
#include "collectives/node_layout.h"
#include "core/results.h"

namespace cobench::coll {

std::string format_table(const std::vector<CollResult>& rows);

/// One record per row. The smallest send_recv of at least one element carries the parameter
/// `model_input: latency.intra_node` (one real node) or `latency.inter_node` (several real
/// nodes); virtual nodes feed no model input.
std::vector<results::Record> to_records(const std::vector<CollResult>& rows,
                                        results::Backend backend, const NodeLayout& layout);

}  // namespace cobench::coll
