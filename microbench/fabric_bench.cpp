// SPDX-License-Identifier: Apache-2.0
// Speed of the flow-level fabric simulator: an all-to-all among DeepSeek's 2048 H800 on its
// 8-plane MPFT (deepseek-h800-2048, PXN on): 4,192,256 flows in one phase, routed, max-min
// rates by progressive filling, event-driven to the last finish (target: under 10 s). Verified
// before it is timed: the flow count, and the time against the NIC bound (each NIC sends 2040
// chunks of size/2048 at 40 GB/s; a 1:1 tree adds no more than its latency).
//   cobench_bench_fabric --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

#include "core/nvtx.h"
#include "topologies/data_files.h"
#include "topologies/fabric_flows.h"

namespace {

using namespace cobench::topo;

constexpr double kChunkBytes = 64 * 1024;  // per GPU pair

void BM_FabricAllToAll2048(benchmark::State& state) {
  const auto policy = static_cast<RoutingPolicy>(state.range(0));
  const FabricGraph g(load_cluster_file("deepseek-h800-2048"));
  const RoutingOptions routing{policy, true, 1};
  const Collective c = all_to_all(rank_groups(g.gpus(), g.gpus()), kChunkBytes * g.gpus());
  const CollectiveResult check = simulate_collective(g, c, routing);
  const double bound_s = 2040 * kChunkBytes / 40e9;
  const double fluid_s = check.phases.at(0).fluid_time_s;
  if (check.flows != 2048LL * 2047 || std::abs(fluid_s / bound_s - 1) > 1e-9 ||
      check.time_s > fluid_s + 10e-6) {
    state.SkipWithError(("verification failed: " + std::to_string(check.flows) + " flows, " +
                         std::to_string(fluid_s) + " s against the NIC bound " +
                         std::to_string(bound_s) + " s")
                            .c_str());
    return;
  }
  cobench::NvtxRange range("BM_FabricAllToAll2048");
  for (auto _ : state) benchmark::DoNotOptimize(simulate_collective(g, c, routing));
  state.counters["flows"] = static_cast<double>(check.flows);
  state.counters["events"] = static_cast<double>(check.phases.at(0).events);
  state.counters["simulated_us"] = check.time_s * 1e6;
  state.counters["busbw_GBps"] = check.busbw_bytes_per_s / 1e9;
  state.counters["collided_fraction"] = check.ecmp_collision_fraction;
  state.counters["spine_imbalance"] = check.spine_imbalance;
  state.counters["flows_per_second"] = benchmark::Counter(
      static_cast<double>(check.flows), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(to_string(policy)) + "; verified: 4192256 flows at the NIC bound");
}
BENCHMARK(BM_FabricAllToAll2048)
    ->ArgName("routing")
    ->Arg(static_cast<int>(RoutingPolicy::kEcmp))
    ->Arg(static_cast<int>(RoutingPolicy::kStatic))
    ->Arg(static_cast<int>(RoutingPolicy::kAdaptive))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
