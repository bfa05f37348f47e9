// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --kv-reload`: per model, a table over prefix lengths of the KV bytes, the
// reload time from each tier (host memory, storage), the recompute time and which is faster, and
// the break-even length per tier (kv_reload.h; docs/model.md gives the formulas).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "topologies/cluster.h"
#include "topologies/kv_reload.h"
#include "topologies/measured.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

struct KvReloadTierResult {
  ReloadTier tier;
  std::string source;  ///< "datasheet", "measured <file>: <benchmark>" or "" when missing
  ReloadLine line;     ///< valid when tier.missing is empty
  BreakEven break_even;
};

struct KvReloadPoint {
  double tokens = 0;
  double kv_bytes = 0;
  double prefill_flops = 0;
  double recompute_s = 0;
  double tie_bytes_per_s = 0;    ///< reload bandwidth a GPU at which reload takes as long (no
                                 ///< latency): kv_bytes / recompute_s
  std::vector<double> reload_s;  ///< per tier; NaN where the tier is missing
};

struct KvReloadModelResult {
  std::string model;
  AttentionKind attention = AttentionKind::kMha;
  double kv_bytes_per_token = 0;
  RecomputeCurve recompute;
  std::vector<KvReloadTierResult> tiers;
  std::vector<KvReloadPoint> points;
};

struct KvReloadReport {
  std::string cluster;
  KvReloadSetting setting;
  double peak_fp8_flops = 0;  ///< as used (measured when given)
  double peak_bf16_flops = 0;
  std::vector<InputComparison> inputs;  ///< measured values that replaced the datasheet's
  std::vector<KvReloadModelResult> models;
};

/// `measured` (optional) replaces datasheet values of the cluster. Throws when the cluster has no
/// GPU node or no peak FLOP/s (recompute needs them); a missing reload tier is reported as such.
KvReloadReport kv_reload_report(const std::vector<ModelArch>& models, const ClusterSpec& datasheet,
                                const KvReloadSetting& s, const std::vector<double>& prefix_tokens,
                                const MeasuredInputs* measured = nullptr);

std::string format_text(const KvReloadReport& r);
std::string format_markdown(const KvReloadReport& r);
nlohmann::json to_json(const KvReloadReport& r);

}  // namespace cobench::topo
