// SPDX-License-Identifier: Apache-2.0
// The best serving configuration that meets targets, and the same question asked of several
// clusters side by side (`cobench analyze --cluster A --cluster B --target-tokens-per-user N`):
// for each EP degree of whole scale-up domains (or nodes) whose expert slots split evenly, the
// largest decode batch whose predicted speed a user meets the target and whose weights and KV
// fit in HBM (speed falls and memory grows with the batch, so a bisection finds it); the
// configuration with the most output tokens per second a GPU wins (the lowest cost a token).
// A base.ep_degree > 0 fixes the EP degree.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/decode_bounds.h"
#include "topologies/model_arch.h"
#include "topologies/report.h"
#include "topologies/serving_model.h"

namespace cobench::topo {

struct ServingTargets {
  double tokens_per_s_per_user = 0;  ///< 0: none (then the cheapest configuration at any speed)
  std::optional<double> ttft_s;      ///< time to first token of one prompt, prefill alone
};

struct BestConfig {
  std::string cluster;
  bool found = false;
  std::string why_none;
  double ep = 0, tokens_per_device = 0;
  ServingPrediction decode;
  double ttft_s = 0;
  std::optional<double> usd_per_million_output;
  std::int64_t evaluated = 0;  ///< predictions made
};

BestConfig best_config(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& base,
                       const ServingTargets& t);

struct ClusterComparison {
  Report report;
  nlohmann::json json;
};
ClusterComparison compare_clusters(const ModelArch& m, const std::vector<ClusterSpec>& clusters,
                                   const DecodeSetting& base, const ServingTargets& t);

}  // namespace cobench::topo
