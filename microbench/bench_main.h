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

int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all);

}  // namespace cobench::bench
