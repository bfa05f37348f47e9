// SPDX-License-Identifier: Apache-2.0
// Serving economics (paper section 2.3, Epoch AI's speed-versus-cost frontier with EP all-to-all
// and MLA included): dollars per million tokens from the GPU-hour price and the throughput
// bounds, and the Pareto frontier of tokens/s per user against $ per million output tokens over
// decode batch size and EP degree.
#pragma once

#include <cstdint>
#include <vector>

#include "topologies/decode_bounds.h"
#include "topologies/perf_model.h"

namespace cobench::topo {

/// Prefill is compute-bound: 2 FLOPs per activated non-embedding weight at the FP8 peak plus
/// causal attention over a prompt of `prompt_tokens` at the BF16 peak, per input token.
double prefill_tokens_per_s_per_gpu(const ModelArch& m, const ParamBreakdown& p, const GpuSpec& g,
                                    double prompt_tokens);

/// $ per million tokens for a device that costs `gpu_hour_usd` and makes `tokens_per_s`.
double usd_per_million_tokens(double gpu_hour_usd, double tokens_per_s);

struct FrontierPoint {
  double tokens_per_s_per_user = 0;
  double usd_per_million_output = 0;
  double tokens_per_device = 0;
  double ep_degree = 0;
  const char* binding = "";
};

struct Frontier {
  std::vector<FrontierPoint> points;  ///< Pareto-optimal, fastest first
  std::int64_t evaluated = 0;         ///< configurations swept (feasible or not)
};

/// Sweeps decode batches of 1..max_batch whole-sequence units (decode_token_unit) a device and EP
/// degrees of whole nodes (ep_sweep: one node up to the whole cluster; the expert slots, routed +
/// base.redundant_experts, must split evenly, more GPUs than experts hold copies) with `base` for
/// everything else, each point the serving prediction (serving_model.h); points whose weights and
/// KV do not fit in HBM are left out. Needs cluster.gpu_hour_usd. `perf`: the performance model to
/// time them with (measured inputs applied); default the cluster's published one.
/// `coarse`: the first 8 EP degrees and batches, then only those at least 1.25x the last kept
/// (about 30 of each: what `cobench analyze` shows), instead of every one.
Frontier cost_frontier(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& base,
                       std::int64_t max_batch, const PerfModel* perf = nullptr,
                       bool coarse = false);

/// The first 8 values of an ascending list, then those at least 1.25x the last kept, and the
/// last value.
std::vector<std::int64_t> geometric_subset(const std::vector<std::int64_t>& sorted);

}  // namespace cobench::topo
