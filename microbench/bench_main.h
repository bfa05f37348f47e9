// SPDX-License-Identifier: Apache-2.0
// The CPU benchmarks' main: registers the benchmarks (a bad setting, such as an unknown
// COBENCH_*_GRID value, is printed as "<binary>: <error>" and exits 2), then runs Google
// Benchmark as BENCHMARK_MAIN does. A benchmark that ends in an error (a failed verification, a
// full disk) keeps its record and the run goes on; the binary then exits 1 and says how many.
#pragma once

#include <functional>

namespace cobench::bench {

/// Runs the registered benchmarks (BENCHMARK_MAIN's reporters and flags); returns 1 after
/// printing "<binary>: N of M benchmark runs ended in an error" when any did, else 0.
int run_registered_benchmarks(const char* binary);

/// Checks Google Benchmark's flags it would take silently (bench_flags.h), then runs
/// benchmark::Initialize. Returns 0, or 2 (a usage error) after printing "<binary>: <what>" for a
/// bad flag value, or Google Benchmark's own line for an argument it does not know.
int initialize_benchmarks(int& argc, char** argv, const char* binary);

/// register_all (an exception is a bad setting: exit 2), initialize_benchmarks, then
/// run_registered_benchmarks.
int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all);

}  // namespace cobench::bench
