// SPDX-License-Identifier: Apache-2.0
#include "microbench/bf16_dot_peak_bench.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/nvtx.h"
#include "kernels/ceilings/bf16_dot_peak.h"
#include "microbench/bench_metadata.h"

namespace cobench::bench {
namespace {

double g_peak = 0;  // best pass of this run, FLOP/s

void BM_Bf16DotPeak(benchmark::State& state) {
  const ceilings::Bf16DotPeak first = ceilings::measure_bf16_dot_peak();
  if (!first.error.empty()) {
    fail_verification(state, "verification failed: " + first.error);
    return;
  }
  double best = 0;
  {
    NvtxRange range("BM_Bf16DotPeak");
    for (auto _ : state) {
      const ceilings::Bf16DotPeak p = ceilings::measure_bf16_dot_peak();
      if (!p.error.empty()) {
        fail_verification(state, "verification failed: " + p.error);
        return;
      }
      state.SetIterationTime(p.seconds);
      best = std::max(best, p.flop_per_s);
    }
  }
  g_peak = std::max(g_peak, best);  // over repetitions too: the best pass of the run
  state.counters["bf16_dot_flop_per_s"] = best;
  const std::string what = fmt::format(
      "VDPBF16PS chains, {} threads; best pass {:.1f} GFLOP/s is the denominator of dot_fraction",
      first.threads, best / 1e9);
  state.SetLabel("verified: " + what);
  Metadata md = verified(what);
  md.parameters = {{"threads", first.threads}};
  report(state, std::move(md));
}

}  // namespace

void register_bf16_dot_peak_benchmark() {
  if (!ceilings::bf16_dot_supported()) return;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  benchmark::RegisterBenchmark(fmt::format("BM_Bf16DotPeak/threads:{}", cores).c_str(),
                               BM_Bf16DotPeak)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

double bf16_dot_peak_flop_per_s() {
  if (!ceilings::bf16_dot_supported()) return 0.0;
  if (g_peak <= 0)
    for (int i = 0; i < 5; ++i) {
      const ceilings::Bf16DotPeak p = ceilings::measure_bf16_dot_peak();
      COBENCH_CHECK(p.error.empty(), "BF16 dot peak verification failed: " + p.error);
      g_peak = std::max(g_peak, p.flop_per_s);
    }
  return g_peak;
}

}  // namespace cobench::bench
