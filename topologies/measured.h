// SPDX-License-Identifier: Apache-2.0
// Measured results replacing datasheet values (`cobench analyze --measured FILE`). A record of a
// results file (docs/results-format.md) feeds the model when its parameters name the input it
// measures, `model_input: <name>`, and it has one metric in that input's unit (or names it,
// `model_metric: <metric name>`, when it has several); its median is used. Only records whose
// verification passed count: a failed or unchecked measurement never drives a conclusion. Where
// several records measure one input the best is kept (the highest bandwidth or FLOP/s, the lowest
// latency).
//
// Inputs: gpu.peak_flops.fp8, gpu.peak_flops.bf16, gpu.peak_flops.fp32 (FLOP/s);
// gpu.hbm_bandwidth, cpu.memory_bandwidth, ep.bandwidth.inter_node (per GPU across nodes, the
// NIC), ep.bandwidth.intra_node (per GPU inside the scale-up domain), pcie.h2d_bandwidth (host to
// one GPU), storage.read_bandwidth (the node's storage) (B/s); latency.inter_node,
// latency.intra_node, gpu.kernel_gap (the time an empty kernel of a back-to-back chain takes;
// the lowest is kept) (s).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/results.h"
#include "topologies/cluster.h"

namespace cobench::topo {

struct MeasuredValue {
  double value = 0;    ///< SI units
  std::string source;  ///< "<file>: <benchmark>"
};

using MeasuredInputs = std::map<std::string, MeasuredValue>;

/// The model inputs a results document measures; errors name `source` and the JSON path.
MeasuredInputs measured_inputs(const results::Results& r, const std::string& source);

struct InputComparison {
  std::string input;
  double datasheet = 0;  ///< 0 when the cluster file has none
  double measured = 0;
  std::string source;
};

/// Adds `from` to `into`, keeping the better value of an input both have (higher bandwidth or
/// FLOP/s, lower latency), as within one file.
void merge_measured(MeasuredInputs& into, const MeasuredInputs& from);

/// Replaces the cluster's values by the measured ones; returns what changed.
std::vector<InputComparison> apply_measured(ClusterSpec& c, const MeasuredInputs& m);

/// The unit of a known input ("B/s", "FLOP/s" or "s"); "" for another name.
std::string measured_input_unit(const std::string& input);

/// The inputs each decode bound depends on, to say which drove a conclusion.
std::vector<std::string> inputs_of_bound(const std::string& bound);

}  // namespace cobench::topo
