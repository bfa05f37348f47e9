// SPDX-License-Identifier: Apache-2.0
// The CPU benchmarks' main: registers the benchmarks (a bad setting, such as an unknown
// COBENCH_*_GRID value, is printed as "<binary>: <error>" and exits 2), then runs Google
// Benchmark as BENCHMARK_MAIN does.
#pragma once

#include <functional>

namespace cobench::bench {

int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all);

}  // namespace cobench::bench
