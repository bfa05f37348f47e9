// SPDX-License-Identifier: Apache-2.0
// Google Benchmark 1.7's own flags, checked before it parses them: it takes some without a
// usable error (an unknown --benchmark_format prints its usage and exits 0, so a script sees
// success and no results; --benchmark_min_time=nan never ends; --benchmark_repetitions=0 aborts).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cobench::bench {

/// What is wrong with one command-line argument, or nullopt where it is not one of the checked
/// flags or its value is fine: "--benchmark_format: expected console, json or csv, got 'xml'".
/// Checked: --benchmark_format and --benchmark_out_format (console, json, csv),
/// --benchmark_time_unit (ns, us, ms, s), --benchmark_min_time and --benchmark_min_warmup_time
/// (finite seconds >= 0), --benchmark_repetitions (an integer from 1), --benchmark_filter (a
/// regular expression that compiles).
std::optional<std::string> benchmark_flag_error(std::string_view arg);

}  // namespace cobench::bench
