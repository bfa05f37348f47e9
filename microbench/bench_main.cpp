// SPDX-License-Identifier: Apache-2.0
#include "microbench/bench_main.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <exception>

namespace cobench::bench {

int cpu_bench_main(int argc, char** argv, const char* binary,
                   const std::function<void()>& register_all) {
  try {
    register_all();
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", binary, e.what());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace cobench::bench
