// SPDX-License-Identifier: Apache-2.0
// Speed of the topology model: the whole `cobench analyze --paper` report (target: under 50 ms)
// and one model-on-cluster analysis. The report is verified (no unexplained deviation from the
// paper) before it is timed.
//   cobench_bench_model --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include "core/nvtx.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/paper_report.h"

namespace {

using namespace cobench::topo;

void BM_PaperReport(benchmark::State& state) {
  for (const ReportRow& row : paper_report().rows) {
    if (row.unexplained()) {
      state.SkipWithError(("verification failed: " + row.quantity).c_str());
      return;
    }
  }
  cobench::NvtxRange range("BM_PaperReport");
  for (auto _ : state) benchmark::DoNotOptimize(paper_report());
  state.SetLabel("verified: every paper row within tolerance or explained");
}
BENCHMARK(BM_PaperReport)->Unit(benchmark::kMillisecond);

void BM_Analyze(benchmark::State& state) {
  const ModelArch m = load_model("deepseek-v3");
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  if (analyze(m, c).json["memory"]["kv_bytes_per_token"] != 70272.0) {
    state.SkipWithError("verification failed: KV bytes per token");
    return;
  }
  cobench::NvtxRange range("BM_Analyze");
  for (auto _ : state) benchmark::DoNotOptimize(analyze(m, c));
  state.SetLabel("verified: KV bytes per token = 70272");
}
BENCHMARK(BM_Analyze)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
