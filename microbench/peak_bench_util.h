// SPDX-License-Identifier: Apache-2.0
// What the verified ceiling benchmarks share (BM_FmaPeak, BM_AmxPeak, BM_Bf16DotPeak): a pass
// first, whose check must pass, then one pass a benchmark iteration, each timed by the threads
// that run it (manual time); a failed check fails the benchmark with the pass's error.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/nvtx.h"
#include "microbench/bench_metadata.h"

namespace cobench::bench {

/// {the first pass, the best FLOP/s of the timed passes}, or nothing where a check failed.
/// `measure()` returns a pass with `error` (empty when its check passed), `seconds` and
/// `flop_per_s`; `name` is the NVTX range of the timed passes.
template <class Measure>
auto run_verified_passes(benchmark::State& state, const char* name, const Measure& measure)
    -> std::optional<std::pair<decltype(measure()), double>> {
  const auto first = measure();
  if (!first.error.empty()) {
    fail_verification(state, "verification failed: " + first.error);
    return std::nullopt;
  }
  double best = 0;
  NvtxRange range(name);
  for (auto _ : state) {
    const auto p = measure();
    if (!p.error.empty()) {
      fail_verification(state, "verification failed: " + p.error);
      return std::nullopt;
    }
    state.SetIterationTime(p.seconds);
    best = std::max(best, p.flop_per_s);
  }
  return std::pair{first, best};
}

/// The best FLOP/s of 5 fresh passes, for a counter whose ceiling benchmark did not run in this
/// process; a failed check throws (cobench::Error) with `what` and the pass's error.
template <class Measure>
double best_of_fresh_passes(const char* what, const Measure& measure) {
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto p = measure();
    COBENCH_CHECK(p.error.empty(), std::string(what) + " verification failed: " + p.error);
    best = std::max(best, p.flop_per_s);
  }
  return best;
}

}  // namespace cobench::bench
