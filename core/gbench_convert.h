// SPDX-License-Identifier: Apache-2.0
// Google Benchmark JSON (--benchmark_out_format=json) to the results format and back, without
// loss: every entry's fields are kept, the benchmark context goes to run.extra.gbench_context,
// and to_gbench(from_gbench(x)) reproduces x (times equal to double rounding, since they are
// stored in seconds).
//
// Mapping: entries are grouped by run_name into one record per benchmark configuration;
// real_time and cpu_time become metrics in seconds, iterations a dimensionless metric, and each
// user counter a metric whose unit follows its name (bytes_per_second -> B/s, items_per_second ->
// 1/s, *_bytes_per_s -> B/s, *_flop_per_s -> FLOP/s, *_flop -> FLOP, *_bytes -> B, *_s -> s,
// else "1"). "a:1/b:x" segments of the name become parameters. A label starting with "verified"
// marks the record passed; an error message starting with "verification failed" marks it failed;
// any other error marks it error.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "core/results.h"

namespace cobench::results {

/// Converts a parsed Google Benchmark JSON document. `header` supplies the run provenance.
/// Throws cobench::Error naming `source` and the entry when the document is not gbench JSON.
Results from_gbench(const nlohmann::json& gbench, RunHeader header, std::string_view suite,
                    Backend backend, std::string_view source);

/// The inverse of from_gbench for records it produced.
nlohmann::json to_gbench(const Results& r);

/// The unit cobench gives a counter named `name` (see the mapping above).
std::string_view counter_unit(std::string_view name);

}  // namespace cobench::results
