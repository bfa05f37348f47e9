// SPDX-License-Identifier: Apache-2.0
// The sections of `cobench analyze --model M --cluster C` (analysis.h), each writing its rows and
// JSON through a SectionOut (analysis_out.h). analyze() applies the measured inputs and runs them
// in report order: memory, compute, inference, economics, network.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "topologies/analysis.h"
#include "topologies/model_params.h"
#include "topologies/perf_model.h"
#include "topologies/serving_model.h"

namespace cobench::topo {

/// What every section reads.
struct SectionInputs {
  const ModelArch& m;
  const ClusterSpec& c;  ///< the datasheet with the measured values applied
  const DecodeSetting& s;
  const ParamBreakdown& p;
  const std::vector<InputComparison>& changed;  ///< the measured values used
  const MeasuredTables* tables;                 ///< measured kernel tables, or null

  bool gpu() const { return c.node.gpus_per_node > 0 && c.node.gpu.has_value(); }
  /// "measured gpu.hbm_bandwidth" or "datasheet values": what set the inputs of `bound`.
  std::string driven_by(const std::string& bound) const;
};

/// The decode and prefill predictions (none on a CPU node or a GPU without a FLOP peak), for
/// the economics.
struct InferenceOutcome {
  std::optional<PerfModel> perf;
  std::optional<ServingPrediction> decode, prefill;
};

/// Parameters, KV bytes per token, KV capacity next to the weights.
void memory_section(const SectionInputs& in, Analysis& a);
/// Training FLOPs per token; throughput and cost at the assumed MFU.
void compute_section(const SectionInputs& in, Analysis& a);
/// The roofline bounds, the operation model's decode and prefill predictions.
InferenceOutcome inference_section(const SectionInputs& in, Analysis& a);
/// $ per million tokens and the speed-versus-cost frontier (GPU clusters with a price).
void economics_section(const SectionInputs& in, const InferenceOutcome& inference, Analysis& a);
/// The cluster's fabric: endpoints, switches, links, cost; the cheapest topology that fits.
void network_section(const SectionInputs& in, Analysis& a);

}  // namespace cobench::topo
