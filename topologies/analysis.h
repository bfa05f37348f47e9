// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --model M --cluster C`: the bottleneck analyses for any model on any cluster.
// Sections (docs/model.md gives every formula):
//   memory     parameters, KV bytes per token, KV capacity next to the weights
//   compute    training FLOPs per token (exact-causal)
//   inference  the decode and prefill predictions of the operation model, the roofline bounds
//              beside them; on a CPU-only node, activated bytes over memory bandwidth
//   economics  $ per million tokens from the predictions, the speed-versus-cost frontier
//   network    the cluster's fabric: endpoints, switches, links, cost
// Each section is its own file (analysis_sections.h); a quantity is written once, as a row and
// the JSON field its key names (analysis_out.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "topologies/cluster.h"
#include "topologies/decode_bounds.h"
#include "topologies/measured.h"
#include "topologies/measured_tables.h"
#include "topologies/model_arch.h"
#include "topologies/report.h"

namespace cobench::topo {

struct Analysis {
  nlohmann::json json;  ///< the stable schema of docs/model.md
  Report report;        ///< the same for text and Markdown
};

/// `measured` (optional) replaces datasheet values of the cluster; the report then prints both
/// and says which drove each bound.
/// `tables` (optional): measured kernel tables of the cluster's GPU (measured_tables.h).
Analysis analyze(const ModelArch& m, const ClusterSpec& datasheet, const DecodeSetting& s = {},
                 const MeasuredInputs* measured = nullptr, const MeasuredTables* tables = nullptr);

}  // namespace cobench::topo
