// SPDX-License-Identifier: Apache-2.0
// Speed of the topology model: the whole `cobench analyze --paper` report (target: under 50 ms),
// one model-on-cluster analysis, the cost frontier sweep (target: 100,000 configurations in
// under 1 s) and the training sweep (target: 10,000 configurations in under 1 s). The report is
// verified (no unexplained deviation from the
// paper) before it is timed.
//   cobench_bench_model --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "core/nvtx.h"
#include "core/parallel_for.h"
#include "microbench/bench_main.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/economics.h"
#include "topologies/paper_report.h"
#include "topologies/training_report.h"

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

// The speed-versus-cost frontier over the EP degrees of whole nodes that split DeepSeek-V3's 256
// experts evenly or hold redundant copies (230 of 1 to 256 nodes) x 512 batch sizes: 117,760
// configurations (target: 100,000 in under 1 s on one core).
void BM_CostFrontier(benchmark::State& state) {
  const ModelArch m = load_model("deepseek-v3");
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const Frontier check = cost_frontier(m, c, DecodeSetting{}, 512);
  for (size_t i = 1; i < check.points.size(); ++i) {
    const bool pareto =
        check.points[i].tokens_per_s_per_user <= check.points[i - 1].tokens_per_s_per_user &&
        check.points[i].usd_per_million_output < check.points[i - 1].usd_per_million_output;
    if (!pareto || check.evaluated < 100000) {
      state.SkipWithError("verification failed: the frontier is not Pareto-ordered");
      return;
    }
  }
  cobench::NvtxRange range("BM_CostFrontier");
  for (auto _ : state) benchmark::DoNotOptimize(cost_frontier(m, c, DecodeSetting{}, 512));
  state.counters["configurations"] = static_cast<double>(check.evaluated);
  state.counters["configurations_per_second"] = benchmark::Counter(
      static_cast<double>(check.evaluated), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("verified: Pareto-ordered, >= 100000 configurations");
}
BENCHMARK(BM_CostFrontier)->Unit(benchmark::kMillisecond);

// The training sweep of DeepSeek-V3 on 2048 H800s (PP, EP, micro-batch, schedule; each point a
// pipeline simulation of 120 to 15,360 micro-batches), verified first: every point's step is
// its pipeline plus its optimizer, and its first stage's parts add up to the pipeline. Timed on
// one thread and on every hardware thread (`threads`; the points are independent), by the clock
// on the wall.
void run_training_sweep(benchmark::State& state, const ModelArch& m, const ClusterSpec& c,
                        const TrainingSetting& base, const char* name, std::size_t min_points) {
  const int threads = static_cast<int>(state.range(0));
  const PerfModel perf(c, find_published_perf(c));
  const std::vector<TrainingSweepPoint> check = training_sweep(m, c, base, perf, threads);
  for (const TrainingSweepPoint& pt : check) {
    const TrainingPrediction& p = pt.prediction;
    const double parts = p.phase_f_s + p.phase_b_s + p.phase_w_s + p.phase_fb_s + p.bubble_s;
    if (check.size() < min_points || std::abs(parts - p.pipeline.time_s) > 1e-9 * p.step_s ||
        std::abs(p.pipeline.time_s + p.optimizer_s - p.step_s) > 1e-12 * p.step_s) {
      state.SkipWithError("verification failed: a step is not the sum of its parts");
      return;
    }
  }
  cobench::NvtxRange range(name);
  for (auto _ : state) benchmark::DoNotOptimize(training_sweep(m, c, base, perf, threads));
  state.counters["configurations"] = static_cast<double>(check.size());
  state.counters["configurations_per_second"] = benchmark::Counter(
      static_cast<double>(check.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("verified: every step the sum of its parts");
}

// One thread, and every hardware thread where there are more.
void thread_args(benchmark::internal::Benchmark* b) {
  b->ArgName("threads")->Arg(1);
  if (cobench::thread_count(0) > 1) b->Arg(cobench::thread_count(0));
}

void BM_TrainingSweep(benchmark::State& state) {
  run_training_sweep(state, load_model("deepseek-v3"), load_cluster_file("deepseek-h800-2048"),
                     TrainingSetting{}, "BM_TrainingSweep", 100);
}
BENCHMARK(BM_TrainingSweep)->Apply(thread_args)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same sweep for a dense model with TP: Llama 3.1 405B on Meta's 16K-H100 RoCE cluster as
// Meta trained it (TP8, BF16, 8K sequences, 2048 a step, interleaved 1F1B with v = 4 among the
// schedules; Llama 3 paper, section 3.3); PP and micro-batch vary, EP is 1.
void BM_TrainingSweepLlama(benchmark::State& state) {
  TrainingSetting base;
  base.tp = 8;
  base.seq_len = 8192;
  base.global_batch = 2048;
  base.virtual_stages = 4;
  base.precision = TrainingPrecision::kBf16;
  run_training_sweep(state, load_model("llama-3.1-405b"), load_cluster_file("meta-h100-roce-16k"),
                     base, "BM_TrainingSweepLlama", 40);  // the 40 valid points it sweeps today
}
BENCHMARK(BM_TrainingSweepLlama)->Apply(thread_args)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// The benchmarks register themselves (BENCHMARK); a failed verification exits 1.
int main(int argc, char** argv) {
  return cobench::bench::cpu_bench_main(argc, argv, "cobench_bench_model", [] {});
}
